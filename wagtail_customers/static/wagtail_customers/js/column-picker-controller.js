/**
 * wc-column-picker: reorder the listing's columns by drag and drop, or with the up / down buttons
 * (keyboard users). The order of the list is the order the form posts, so saving needs nothing
 * more than the form's own submit. Moves are announced in a polite live region, in the words of the
 * translated `announcement` value (its %(label)s, %(position)s and %(count)s filled in here).
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class ColumnPickerController extends Controller {
      static targets = ['list', 'item', 'status', 'moves', 'moveHelp'];

      static values = { announcement: String };

      connect() {
        // Moving columns works from here on: its buttons and help are hidden in the markup (a page without
        // JavaScript offers the checkboxes only).
        this.movesTargets.forEach((element) => {
          element.hidden = false;
        });
        if (this.hasMoveHelpTarget) this.moveHelpTarget.hidden = false;
        // The panel opens below the toolbar, often near the bottom of the window: keep all of it (Save
        // and Reset included) on screen, letting the list scroll inside (listing.css).
        this.disclosure = this.element.closest('details');
        this.fit = this.fit.bind(this);
        if (this.disclosure) this.disclosure.addEventListener('toggle', this.fit);
        window.addEventListener('resize', this.fit);
        // Fetched into a menu that is already open (wc-lazy-panel): no toggle is coming.
        this.fit();
      }

      disconnect() {
        if (this.disclosure) this.disclosure.removeEventListener('toggle', this.fit);
        window.removeEventListener('resize', this.fit);
      }

      fit() {
        if (!this.disclosure || !this.disclosure.open) return;
        const margin = 16;
        const smallest = Math.min(240, window.innerHeight - 2 * margin);
        const room = () => window.innerHeight - this.element.getBoundingClientRect().top - margin;
        const height = Math.max(room(), smallest);
        this.element.style.maxHeight = `${height}px`;
        if (room() < height) this.element.scrollIntoView({ block: 'nearest' });
      }

      dragStart(event) {
        this.dragged = event.currentTarget;
        this.dragged.classList.add('wc-column-list__item--dragging');
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', this.dragged.dataset.column);
      }

      dragOver(event) {
        if (!this.dragged) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'move';
        const target = event.currentTarget;
        if (target === this.dragged) return;
        const { top, height } = target.getBoundingClientRect();
        const after = event.clientY > top + height / 2;
        this.listTarget.insertBefore(this.dragged, after ? target.nextSibling : target);
      }

      drop(event) {
        event.preventDefault();
        if (this.dragged) this.announce(this.dragged);
      }

      dragEnd() {
        if (this.dragged) this.dragged.classList.remove('wc-column-list__item--dragging');
        this.dragged = null;
      }

      moveUp(event) {
        const item = event.currentTarget.closest('[data-wc-column-picker-target="item"]');
        const previous = item.previousElementSibling;
        if (!previous) return;
        this.listTarget.insertBefore(item, previous);
        this.afterMove(item, event.currentTarget);
      }

      moveDown(event) {
        const item = event.currentTarget.closest('[data-wc-column-picker-target="item"]');
        const next = item.nextElementSibling;
        if (!next) return;
        this.listTarget.insertBefore(next, item);
        this.afterMove(item, event.currentTarget);
      }

      afterMove(item, button) {
        button.focus();
        this.announce(item);
      }

      announce(item) {
        if (!this.hasStatusTarget) return;
        const position = this.itemTargets.indexOf(item) + 1;
        const label = item.querySelector('[data-wc-column-picker-target="label"]');
        const values = {
          label: label ? label.textContent : '',
          position: String(position),
          count: String(this.itemTargets.length),
        };
        if (!this.announcementValue) {
          // A form rendered without the translated wording.
          this.statusTarget.textContent = `${values.label}: ${values.position} / ${values.count}`;
          return;
        }
        // One pass: a column label that happens to contain a placeholder is not filled in again.
        this.statusTarget.textContent = this.announcementValue.replace(/%\((\w+)\)s/g, (placeholder, name) =>
          Object.prototype.hasOwnProperty.call(values, name) ? values[name] : placeholder,
        );
      }
    }

    window.wagtail.app.register('wc-column-picker', ColumnPickerController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
