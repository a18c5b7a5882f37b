/**
 * wc-export-download: the "Export selected" form, which answers with a file (or, for a big
 * export, with a redirect to the Exports page).
 *
 * A file download leaves the page where it is, so on submit this controller puts a random token in
 * the form; the server sets it in the wc_export_download cookie with the file and queues a
 * message. When the cookie shows the token, the download has started: the controller takes the
 * user back to the listing (the next value), where the message is shown. A redirect answer simply
 * replaces the page. Without JavaScript the form still posts and the file still downloads.
 */
(() => {
  const COOKIE = 'wc_export_download';

  const randomToken = () => {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  };

  const readCookie = (name) => {
    const prefix = `${name}=`;
    const found = document.cookie.split('; ').find((part) => part.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : null;
  };

  const register = () => {
    const { Controller } = window.StimulusModule;

    class ExportDownloadController extends Controller {
      static targets = ['token', 'status'];

      static values = { next: String, preparing: String, interval: { type: Number, default: 250 } };

      submit() {
        const token = randomToken();
        this.tokenTarget.value = token;
        this.element.setAttribute('aria-busy', 'true');
        if (this.hasStatusTarget) this.statusTarget.textContent = this.preparingValue;
        window.clearInterval(this.timer);
        this.timer = window.setInterval(() => this.check(token), this.intervalValue);
      }

      check(token) {
        if (readCookie(COOKIE) !== token) return;
        window.clearInterval(this.timer);
        document.cookie = `${COOKIE}=; Max-Age=0; path=/; SameSite=Lax`;
        window.location.assign(this.nextValue);
      }

      disconnect() {
        window.clearInterval(this.timer);
      }
    }

    window.wagtail.app.register('wc-export-download', ExportDownloadController);
  };

  if (window.wagtail && window.wagtail.app && window.StimulusModule) register();
  else document.addEventListener('DOMContentLoaded', register, { once: true });
})();
