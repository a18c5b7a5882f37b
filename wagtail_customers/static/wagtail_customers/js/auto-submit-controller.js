/**
 * wc-auto-submit: submit a small form as soon as one of its controls changes (rows per page),
 * and hide its "Apply" button, which only serves browsers without JavaScript.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class AutoSubmitController extends Controller {
      static targets = ['fallback'];

      fallbackTargetConnected(button) {
        button.hidden = true;
      }

      submit() {
        this.element.requestSubmit();
      }
    }

    window.wagtail.app.register('wc-auto-submit', AutoSubmitController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
