// wc-export-progress: a row of the Exports page follows its job's progress until the job is done or failed.
// It polls the job's status URL (JSON) every two seconds, updates the state, progress bar, row count and size
// in place, and reveals the download button when the file is ready. Without JavaScript, reloading the page shows
// the same information.
(() => {
  const { Controller } = window.StimulusModule;

  class ExportProgressController extends Controller {
    static targets = ['state', 'error', 'bar', 'rows', 'size', 'expires', 'download'];
    static values = { url: String, active: Boolean, interval: { type: Number, default: 2000 } };

    connect() {
      if (this.activeValue) this.schedule();
    }

    disconnect() {
      clearTimeout(this.timer);
      if (this.abort) this.abort.abort();
    }

    schedule() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), this.intervalValue);
    }

    async refresh() {
      this.abort = new AbortController();
      let status;
      try {
        const response = await fetch(this.urlValue, {
          headers: { Accept: 'application/json' },
          credentials: 'same-origin',
          signal: this.abort.signal,
        });
        if (!response.ok) return; // 404 (job gone) or 403 (access changed): stop polling
        status = await response.json();
      } catch (error) {
        if (error.name !== 'AbortError') this.schedule(); // a network blip: try again
        return;
      }
      this.render(status);
      this.activeValue = status.active;
      if (status.active) this.schedule();
    }

    render(status) {
      this.element.dataset.state = status.state;
      if (this.hasStateTarget) {
        this.stateTarget.textContent = status.state_label;
        this.stateTarget.classList.toggle('w-status--primary', status.state === 'done');
      }
      if (this.hasErrorTarget) {
        this.errorTarget.textContent = status.error;
        this.errorTarget.hidden = !status.error;
      }
      if (this.hasBarTarget) {
        this.barTarget.value = status.percent;
        this.barTarget.textContent = `${status.percent}%`;
      }
      if (this.hasRowsTarget) this.rowsTarget.textContent = status.progress_label;
      if (this.hasSizeTarget) this.sizeTarget.textContent = status.size;
      if (this.hasExpiresTarget) this.expiresTarget.textContent = status.expires;
      if (this.hasDownloadTarget && status.download_url) {
        this.downloadTarget.href = status.download_url;
        this.downloadTarget.hidden = false;
        this.downloadTarget.classList.remove('w-hidden');
      }
    }
  }

  window.wagtail.app.register('wc-export-progress', ExportProgressController);
})();
