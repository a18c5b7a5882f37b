/**
 * wc-auto-submit: submit a small form as soon as one of its controls is changed with the mouse (rows per page),
 * and hide its "Apply" button, which only serves browsers without JavaScript.
 *
 * A change made with the keyboard (an arrow key on the closed select changes its value at once in some browsers)
 * does not reload the page (WCAG 3.2.2, on input): the "Apply" button shows instead, and Enter applies.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class AutoSubmitController extends Controller {
      static targets = ['fallback'];

      connect() {
        this.byKeyboard = false;
      }

      fallbackTargetConnected(button) {
        button.hidden = true;
      }

      key(event) {
        if (event.key === 'Enter') {
          event.preventDefault();
          this.element.requestSubmit();
        } else if (event.key !== 'Tab') {
          this.byKeyboard = true;
        }
      }

      pointer() {
        this.byKeyboard = false;
      }

      submit() {
        if (!this.byKeyboard) {
          this.element.requestSubmit();
        } else if (this.hasFallbackTarget) {
          this.fallbackTarget.hidden = false;
        }
      }
    }

    window.wagtail.app.register('wc-auto-submit', AutoSubmitController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
