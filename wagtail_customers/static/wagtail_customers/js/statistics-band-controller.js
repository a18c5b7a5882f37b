/**
 * wc-statistics-band: the statistics band of a searched or filtered listing, loaded after the table.
 *
 * The page renders a "Calculating…" placeholder (aria-live polite, aria-busy) instead of the figures,
 * which need an aggregate over every matching customer; once the page is shown this fetches the band
 * fragment (views/listing/statistics.py, same parameters and access checks as the page) and puts it in
 * place. A results refresh (search, filters) replaces the element: the old request is aborted and the
 * new element loads its own. Without JavaScript, a link in <noscript> opens the band on its own page.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class StatisticsBandController extends Controller {
      static targets = ['status'];

      static values = { url: String, failed: String };

      connect() {
        this.load();
      }

      disconnect() {
        if (this.abort) this.abort.abort();
      }

      async load() {
        this.abort = new AbortController();
        let html;
        try {
          html = await window.wcFetchFragment(this.urlValue, this.abort.signal);
        } catch (error) {
          if (error.name === 'AbortError') return;
          if (this.hasStatusTarget) this.statusTarget.textContent = this.failedValue;
          this.element.setAttribute('aria-busy', 'false');
          return;
        }
        this.element.innerHTML = html;
        this.element.setAttribute('aria-busy', 'false');
      }
    }

    window.wagtail.app.register('wc-statistics-band', StatisticsBandController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
