/**
 * wc-disclosure: a toolbar menu (a <details>) whose panel stays inside the admin's content area and the window,
 * and closes with Escape.
 *
 * The panels open right-aligned under their button (listing.css): a button near the left of the toolbar would
 * push the panel under the sidebar, where the content area's overflow clips it, and on a phone a panel wider
 * than the room left of its button's right edge ran off the window's right edge. The panel is narrowed to the
 * room there is, then moved right or left just enough.
 *
 * Escape in an open menu closes it and gives the focus back to its button (the <summary>); without this the
 * menu stayed open and Wagtail's own Escape handling moved the focus to the sidebar's toggle.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;
    const MARGIN = 8;

    class DisclosureController extends Controller {
      static targets = ['panel'];

      connect() {
        this.onKeydown = (event) => {
          if (event.key !== 'Escape' || !this.element.open) return;
          // The innermost open menu closes, not the menus around it, and nothing else acts on this Escape.
          event.stopPropagation();
          event.preventDefault();
          this.close();
        };
        this.element.addEventListener('keydown', this.onKeydown);
      }

      disconnect() {
        this.element.removeEventListener('keydown', this.onKeydown);
      }

      close() {
        this.element.open = false;
        const summary = this.element.querySelector(':scope > summary');
        if (summary) summary.focus();
      }

      place() {
        if (!this.element.open || !this.hasPanelTarget) return;
        const panel = this.panelTarget;
        panel.style.left = '';
        panel.style.right = '';
        panel.style.minWidth = '';
        panel.style.maxWidth = '';
        const area = (this.element.closest('main') || document.documentElement).getBoundingClientRect();
        const minLeft = Math.max(area.left, 0) + MARGIN;
        const maxRight = Math.min(area.right, document.documentElement.clientWidth) - MARGIN;
        const room = Math.max(maxRight - minLeft, 0);
        let found = panel.getBoundingClientRect();
        if (found.width > room) {
          // Narrowed by what it is too wide (its min-width and max-width count its content box or its border box).
          const width = parseFloat(window.getComputedStyle(panel).width) - (found.width - room);
          panel.style.minWidth = '0';
          panel.style.maxWidth = `${Math.max(width, 0)}px`;
          found = panel.getBoundingClientRect();
        }
        let shift = 0;
        if (found.left < minLeft) shift = minLeft - found.left;
        else if (found.right > maxRight) shift = maxRight - found.right;
        if (shift === 0) return;
        const offset = found.left - this.element.getBoundingClientRect().left;
        panel.style.right = 'auto';
        panel.style.left = `${offset + shift}px`;
      }
    }

    window.wagtail.app.register('wc-disclosure', DisclosureController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
