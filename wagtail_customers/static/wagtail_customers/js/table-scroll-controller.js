/**
 * wc-table-scroll: a table's box that scrolls sideways (.wc-table-scroll, table-scroll.css) is a tab stop only
 * while its table overflows it. A region that scrolls must take the focus, to be scrolled with the keyboard
 * (WCAG 2.1.1), so the markup gives every box tabindex="0", and without JavaScript each stays a tab stop; here a
 * box whose table fits (a wide window, a short table) leaves the tab order, and comes back to it when the window
 * narrows, a hidden tab shows it or its table grows.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class TableScrollController extends Controller {
      connect() {
        this.update = this.update.bind(this);
        this.updateLater = () => setTimeout(this.update);
        this.observer = new ResizeObserver(this.update);
        this.observer.observe(this.element);
        const table = this.element.querySelector('table') || this.element.firstElementChild;
        if (table) this.observer.observe(table);
        this.element.addEventListener('focusout', this.updateLater);
        this.update();
      }

      disconnect() {
        this.observer.disconnect();
        this.element.removeEventListener('focusout', this.updateLater);
      }

      update() {
        if (this.element.scrollWidth > this.element.clientWidth) {
          this.element.setAttribute('tabindex', '0');
        } else if (this.element !== document.activeElement) {
          // Not while it has the focus (that would drop the focus to the page): once it loses it.
          this.element.removeAttribute('tabindex');
        }
      }
    }

    window.wagtail.app.register('wc-table-scroll', TableScrollController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
