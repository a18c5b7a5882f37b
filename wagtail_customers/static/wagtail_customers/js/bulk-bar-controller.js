/**
 * wc-bulk-bar: the bulk actions bar's height, kept in --wc-bulk-bar-height on the element that scrolls the admin's
 * content (main.content-wrapper), where listing.css keeps that much room free at the foot for a control reached
 * with Tab (scroll-padding-bottom), so it is not scrolled under the bar (WCAG 2.4.11). The bar's height depends on
 * how its actions wrap: the window's width, the font size, the language of its labels; a ResizeObserver follows
 * it. Without JavaScript listing.css keeps the bar's height at the default font size.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class BulkBarController extends Controller {
      connect() {
        this.bar = this.element.querySelector('.footer__container') || this.element;
        this.scroller = this.element.closest('.content-wrapper') || document.documentElement;
        this.observer = new ResizeObserver(() => this.update());
        this.observer.observe(this.bar);
        this.update();
      }

      disconnect() {
        this.observer.disconnect();
        this.scroller.style.removeProperty('--wc-bulk-bar-height');
      }

      update() {
        // The border box's height, which a slide-in (a transform) does not change.
        const height = this.bar.offsetHeight;
        if (height) this.scroller.style.setProperty('--wc-bulk-bar-height', `${height}px`);
      }
    }

    window.wagtail.app.register('wc-bulk-bar', BulkBarController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
