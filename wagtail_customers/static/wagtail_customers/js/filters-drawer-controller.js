/**
 * wc-filters-drawer: completes the header's filters drawer (Wagtail's `#filters-drilldown`) when it is about
 * to be opened.
 *
 * The page renders the drawer with the filters in force only: their inputs belong to the search form, so a
 * search keeps them. Once the page is idle (or sooner, when the filters button is hovered or focused or the
 * drawer opened) this fetches every filter (`wcFetchFragment`: the drawer's contents for the search form's
 * fields) and puts them in place of the partial ones; if the form changed while the answer was on its way,
 * it asks again. The answer is parsed with `createContextualFragment`, so the date pickers' scripts run as
 * they do on a page. An opened drawer says it is loading until then; a failed fetch says so, and the next
 * opening tries again. This element sits in the search form, outside the drawer, so it outlives Wagtail's
 * own re-rendering of the drawer (after an active filter is removed), which makes a late answer moot.
 */
(() => {
  const CONTENTS = '.w-drilldown__contents';
  const MENU = '[data-w-drilldown-target="menu"]';

  const register = () => {
    const { Controller } = window.StimulusModule;

    class FiltersDrawerController extends Controller {
      static values = { url: String, loading: String, failed: String };

      connect() {
        this.form = this.element.closest('form');
        this.drawer = this.form && this.form.querySelector('#filters-drilldown');
        if (!this.drawer) return;
        // Hovering or focusing fetches ahead, except after a failure: then only opening tries again.
        this.prefetch = () => {
          if (!this.failed) this.load();
        };
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

      /** A status line at the end of the partial drawer's menu (replaced with it once loaded). */
      announce(text) {
        const menu = this.drawer.querySelector(MENU);
        if (!menu) return;
        if (!this.status || !menu.contains(this.status)) {
          // Put in empty, then filled: a live region filled as it is inserted is often not read out.
          this.status = document.createElement('p');
          this.status.className = 'w-help-text w-pl-5 w-py-2.5 w-my-0 wc-filters-drawer-status';
          this.status.setAttribute('role', 'status');
          menu.append(this.status);
          window.requestAnimationFrame(() => {
            if (this.status) this.status.textContent = text;
          });
          return;
        }
        this.status.textContent = text;
      }

      /** The search form's current fields (the filters in force, the search, the sort) as a query string. */
      formQuery() {
        return new URLSearchParams(new FormData(this.form)).toString();
      }

      async load() {
        if (this.complete || this.loading) return;
        this.loading = true;
        this.abort = new AbortController();
        const partial = this.drawer.querySelector(CONTENTS);
        const query = this.formQuery();
        const separator = this.urlValue.includes('?') ? '&' : '?';
        let html;
        try {
          html = await window.wcFetchFragment(`${this.urlValue}${separator}${query}`, this.abort.signal);
        } catch (error) {
          this.loading = false;
          if (error.name === 'AbortError') return;
          this.fail();
          return;
        }
        this.loading = false;
        // Wagtail re-rendered the whole drawer meanwhile (an active filter removed): that one is complete.
        if (!partial || !partial.isConnected) {
          this.complete = true;
          return;
        }
        // A filter changed while this was on its way: ask again with what the form holds now.
        if (this.formQuery() !== query) {
          this.load();
          return;
        }
        const fetched = document.createRange().createContextualFragment(html).querySelector(CONTENTS);
        if (!fetched) {
          // Not the drawer (a login page, a proxy's error page): never put it in the form.
          this.fail();
          return;
        }
        this.complete = true;
        this.failed = false;
        this.replaceContents(partial, fetched);
      }

      fail() {
        this.failed = true;
        if (this.status) this.announce(this.failedValue);
      }

      /** Put the fetched contents in place, keeping the open submenu and the focus where the user left them. */
      replaceContents(current, fetched) {
        const openSubmenu = current.querySelector('.w-drilldown__submenu:not([hidden])');
        const focused = current.contains(document.activeElement) ? document.activeElement : null;
        const focusedKey = focused && (focused.id || focused.getAttribute('aria-controls'));
        if (openSubmenu) {
          // The drilldown controller still names this submenu as the open one: show it in the new markup
          // as it would (the value does not change, so it would not redo it).
          const submenu = fetched.querySelector(`#${CSS.escape(openSubmenu.id)}`);
          const menu = fetched.querySelector(MENU);
          const toggle = fetched.querySelector(`[aria-controls="${CSS.escape(openSubmenu.id)}"]`);
          if (submenu && menu && toggle) {
            submenu.hidden = false;
            menu.hidden = true;
            toggle.setAttribute('aria-expanded', 'true');
          }
        }
        current.replaceWith(fetched);
        if (!focused) return;
        const refocus =
          (focusedKey && (document.getElementById(focusedKey) || fetched.querySelector(`[aria-controls="${CSS.escape(focusedKey)}"]`))) ||
          fetched.querySelector('[data-w-drilldown-target="toggle"]');
        if (refocus) refocus.focus();
      }
    }

    window.wagtail.app.register('wc-filters-drawer', FiltersDrawerController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
