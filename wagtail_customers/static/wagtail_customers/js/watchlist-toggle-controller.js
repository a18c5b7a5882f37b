/**
 * wc-watchlist-toggle: the watchlist eye next to a customer's name.
 *
 * The eye is a plain POST form (it works without JavaScript); this controller sends it with fetch,
 * asking for JSON, and updates the eye in place: aria-pressed, the icon, the title and the state
 * the next click asks for. If the request fails, the form is submitted normally so the server's
 * answer (an error page, a login page) is shown.
 *
 * The listing's "On the watchlist" card ([data-wc-stat="watched"]) counts the rows of the listing
 * on the watchlist; the toggled row is one of them, so the card moves by one with each change.
 */
(() => {
  const updateWatchedCard = (change) => {
    const card = document.querySelector('[data-wc-stat="watched"]');
    if (!card) return;
    const current = parseInt(card.textContent.replace(/\D/g, ''), 10) || 0;
    const locale = document.documentElement.lang || undefined;
    card.textContent = new Intl.NumberFormat(locale).format(Math.max(current + change, 0));
  };

  const register = () => {
    const { Controller } = window.StimulusModule;

    class WatchlistToggleController extends Controller {
      static targets = ['button', 'watch'];

      static values = { watched: Boolean };

      async toggle(event) {
        event.preventDefault();
        if (this.busy) return;
        this.busy = true;
        this.buttonTarget.setAttribute('aria-busy', 'true');
        try {
          const response = await fetch(this.element.action, {
            method: 'POST',
            body: new FormData(this.element),
            credentials: 'same-origin',
            headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const data = await response.json();
          if (data.watched !== this.watchedValue) updateWatchedCard(data.watched ? 1 : -1);
          this.watchedValue = data.watched;
          this.buttonTarget.title = data.label;
          this.dispatch('changed', { detail: data });
        } catch (error) {
          this.element.submit();
        } finally {
          this.busy = false;
          this.buttonTarget.removeAttribute('aria-busy');
        }
      }

      watchedValueChanged(watched) {
        if (!this.hasButtonTarget) return;
        this.buttonTarget.setAttribute('aria-pressed', watched ? 'true' : 'false');
        this.buttonTarget.classList.toggle('wc-eye--on', watched);
        if (this.hasWatchTarget) this.watchTarget.value = watched ? '0' : '1';
        const icon = this.buttonTarget.querySelector('svg');
        const use = icon && icon.querySelector('use');
        const name = watched ? 'view' : 'wc-eye-outline';
        if (use) use.setAttribute('href', `#icon-${name}`);
        if (icon) icon.setAttribute('class', `icon icon-${name}`);
      }
    }

    window.wagtail.app.register('wc-watchlist-toggle', WatchlistToggleController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
