/**
 * wc-lazy-panel: a toolbar menu (<details>) whose panel is fetched the first time it is opened.
 *
 * The page renders the menu's button and a placeholder panel holding a link to the same content on a page
 * of its own (the way in without JavaScript). With JavaScript the placeholder is hidden; opening the menu
 * announces the loading text, fetches the url value (`wcFetchFragment`: the view answers the bare panel) and
 * puts the answer in the placeholder's place, then dispatches `wc-lazy-panel:loaded` so the menu places the
 * new panel. A failed fetch shows the failed text above the placeholder's link, and the next opening tries
 * again.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class LazyPanelController extends Controller {
      static targets = ['panel', 'message', 'status'];

      static values = { url: String, loading: String, failed: String };

      connect() {
        // Shown only when the fetch fails: until then the menu shows nothing half-made.
        if (this.hasPanelTarget) this.panelTarget.hidden = true;
        // Opened before this controller connected (scripts still loading), or connected again while open.
        if (this.element.open) this.load();
      }

      disconnect() {
        if (this.abort) this.abort.abort();
      }

      announce(text) {
        if (this.hasStatusTarget) this.statusTarget.textContent = text;
      }

      async load() {
        if (!this.element.open || this.loading || !this.hasPanelTarget) return;
        this.loading = true;
        const placeholder = this.panelTarget;
        placeholder.hidden = true;
        if (this.hasMessageTarget) this.messageTarget.hidden = true;
        placeholder.setAttribute('aria-busy', 'true');
        this.announce(this.loadingValue);
        this.abort = new AbortController();
        let html;
        try {
          html = await window.wcFetchFragment(this.urlValue, this.abort.signal);
        } catch (error) {
          this.loading = false;
          placeholder.setAttribute('aria-busy', 'false');
          if (error.name === 'AbortError') return;
          if (this.hasMessageTarget) {
            this.messageTarget.textContent = this.failedValue;
            this.messageTarget.hidden = false;
          }
          placeholder.hidden = false;
          this.announce(this.failedValue);
          this.dispatch('loaded');
          return;
        }
        // The answer is the panel itself (with its own targets): it replaces the placeholder, so it is fetched
        // once.
        placeholder.outerHTML = html;
        this.announce('');
        this.dispatch('loaded');
        // A field the panel marks `autofocus` (a refused form shown again) takes the focus: browsers honour the
        // attribute in content inserted after the page loaded only if nothing has the focus yet.
        const autofocus = this.element.querySelector('[autofocus]');
        if (autofocus) autofocus.focus();
      }
    }

    window.wagtail.app.register('wc-lazy-panel', LazyPanelController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
