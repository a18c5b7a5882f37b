/**
 * wc-country-choices: the country filter's <select>, filled once the page is shown.
 *
 * The page renders only "Any country" and the selected country: the countries of the customers in view
 * with their counts ("Germany (73)") are a grouped count over all of them, so this fetches them as JSON
 * (views/listing/country_choices.py, [[value, label], ...], same access checks and accounts as the
 * page) and puts them in, keeping what is selected. A chip removed replaces the filters drawer (Wagtail
 * teleports a new one): the new <select> connects and loads its own. The select stays usable with what
 * it has while loading (aria-busy) or when the request fails.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class CountryChoicesController extends Controller {
      static values = { url: String };

      connect() {
        this.load();
      }

      disconnect() {
        if (this.abort) this.abort.abort();
      }

      async load() {
        this.abort = new AbortController();
        this.element.setAttribute('aria-busy', 'true');
        try {
          const response = await fetch(this.urlValue, {
            headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
            credentials: 'same-origin',
            signal: this.abort.signal,
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const choices = await response.json();
          if (Array.isArray(choices)) this.fill(choices);
        } catch (error) {
          if (error.name === 'AbortError') return;
        }
        this.element.setAttribute('aria-busy', 'false');
      }

      /** Replace every option but the empty one ("Any country") with ``choices``, keeping the selection. */
      fill(choices) {
        const select = this.element;
        const selected = select.value;
        const options = [...select.options];
        const kept = options.filter((option) => option.value === '');
        const offered = new Set();
        const fresh = [];
        choices.forEach((choice) => {
          if (!Array.isArray(choice) || choice.length < 2) return;
          const [value, label] = choice.map(String);
          if (offered.has(value)) return;
          offered.add(value);
          fresh.push(new Option(label, value, false, value === selected));
        });
        // A selected value none of the customers in view has (an old bookmark, "?country=Germany")
        // stays as the page rendered it.
        const stale = options.filter((option) => option.value !== '' && option.value === selected);
        const extra = offered.has(selected) ? [] : stale;
        select.replaceChildren(...kept, ...extra, ...fresh);
        select.value = selected;
      }
    }

    window.wagtail.app.register('wc-country-choices', CountryChoicesController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
