/**
 * wc-filters-drawer: completes the header's filters drawer (Wagtail's `#filters-drilldown`) when it is about
 * to be opened.
 *
 * The page renders the drawer with the filters in force only: their inputs belong to the search form, so a
 * search keeps them. Once the page is idle (or sooner, when the filters button is hovered or focused or the
 * drawer opened) this fetches every filter (`wcFetchFragment`: the drawer's contents for the listing's
 * current parameters) and puts them in place of the partial ones. The answer is parsed with `createContextualFragment`, so the date pickers' scripts run
 * as they do on a page. An opened drawer says it is loading until then; a failed fetch says so, and the next
 * opening tries again. This element sits in the search form, outside the drawer, so it outlives Wagtail's
 * own re-rendering of the drawer (after an active filter is removed).
 */
(() => {
  const CONTENTS = '.w-drilldown__contents';
  const MENU = '[data-w-drilldown-target="menu"]';

  const register = () => {
    const { Controller } = window.StimulusModule;

    class FiltersDrawerController extends Controller {
      static values = { url: String, loading: String, failed: String };

      connect() {
        const form = this.element.closest('form');
        this.drawer = form && form.querySelector('#filters-drilldown');
        if (!this.drawer) return;
        this.prefetch = () => this.load();
        this.opened = () => {
          if (!this.complete) this.announce(this.loadingValue);
          this.load();
        };
        this.drawer.addEventListener('pointerover', this.prefetch);
        this.drawer.addEventListener('focusin', this.prefetch);
        this.drawer.addEventListener('w-dropdown:shown', this.opened);
        // After what the page itself loads (its scripts, the statistics band), not before the table.
        if (window.requestIdleCallback) this.idle = window.requestIdleCallback(this.prefetch, { timeout: 1000 });
        else this.idle = window.setTimeout(this.prefetch, 100);
      }

      disconnect() {
        if (!this.drawer) return;
        this.drawer.removeEventListener('pointerover', this.prefetch);
        this.drawer.removeEventListener('focusin', this.prefetch);
        this.drawer.removeEventListener('w-dropdown:shown', this.opened);
        if (window.cancelIdleCallback) window.cancelIdleCallback(this.idle);
        else window.clearTimeout(this.idle);
        if (this.abort) this.abort.abort();
      }

      /** A status line at the top of the partial drawer's menu (replaced with it once loaded). */
      announce(text) {
        const menu = this.drawer.querySelector(MENU);
        if (!menu) return;
        if (!this.status || !menu.contains(this.status)) {
          this.status = document.createElement('p');
          this.status.className = 'w-help-text w-pl-5 w-py-2.5 w-my-0 wc-filters-drawer-status';
          this.status.setAttribute('role', 'status');
          menu.append(this.status);
        }
        this.status.textContent = text;
      }

      async load() {
        if (this.complete || this.loading) return;
        this.loading = true;
        this.abort = new AbortController();
        let html;
        try {
          html = await window.wcFetchFragment(this.urlValue + window.location.search, this.abort.signal);
        } catch (error) {
          this.loading = false;
          if (error.name !== 'AbortError' && this.status) this.announce(this.failedValue);
          return;
        }
        this.loading = false;
        this.complete = true;
        this.replaceContents(document.createRange().createContextualFragment(html));
      }

      /** Put the fetched contents in place, keeping the open submenu and the focus where the user left them. */
      replaceContents(fragment) {
        const current = this.drawer.querySelector(CONTENTS);
        const fetched = fragment.querySelector(CONTENTS);
        if (!current || !fetched) {
          // Not the markup this was written for: the whole drawer, as Wagtail's own re-rendering does.
          this.drawer.replaceChildren(fragment);
          return;
        }
        const openSubmenu = current.querySelector('.w-drilldown__submenu:not([hidden])');
        const focused = current.contains(document.activeElement) ? document.activeElement.id : null;
        current.replaceWith(fetched);
        if (openSubmenu) {
          const toggle = fetched.querySelector(`[aria-controls="${CSS.escape(openSubmenu.id)}"]`);
          if (toggle) toggle.click();
        }
        const refocus = focused && document.getElementById(focused);
        if (refocus) refocus.focus();
        else if (focused !== null) {
          const first = fetched.querySelector('[data-w-drilldown-target="toggle"]');
          if (first) first.focus();
        }
      }
    }

    window.wagtail.app.register('wc-filters-drawer', FiltersDrawerController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
