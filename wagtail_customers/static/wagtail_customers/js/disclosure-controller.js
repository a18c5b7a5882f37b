/**
 * wc-disclosure: keep a toolbar menu's panel inside the admin's content area. The panels open right-aligned
 * under their button (listing.css); a button near the left of the toolbar would push the panel under the
 * sidebar, where the content area's overflow clips it, so the panel is moved right just enough.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;
    const MARGIN = 8;

    class DisclosureController extends Controller {
      static targets = ['panel'];

      place() {
        if (!this.element.open || !this.hasPanelTarget) return;
        const panel = this.panelTarget;
        panel.style.left = '';
        panel.style.right = '';
        const area = (this.element.closest('main') || document.documentElement).getBoundingClientRect();
        const shortfall = area.left + MARGIN - panel.getBoundingClientRect().left;
        if (shortfall <= 0) return;
        const offset = panel.getBoundingClientRect().left - this.element.getBoundingClientRect().left;
        panel.style.right = 'auto';
        panel.style.left = `${offset + shortfall}px`;
      }
    }

    window.wagtail.app.register('wc-disclosure', DisclosureController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
