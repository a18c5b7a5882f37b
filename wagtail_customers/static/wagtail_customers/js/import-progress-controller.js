// wc-import-progress: the import job page follows its job while it is checked or imported.
// It polls the job's status URL (JSON) every two seconds and moves the progress bar; when the job moves to
// another stage (checked, imported, failed) it reloads the page, which then shows the preview or the outcome.
// Without JavaScript, reloading the page shows the same information.
// Only a 404 (the job is gone, or the grant was withdrawn) stops it: a server error (a 502 during a deploy) or a
// network blip is tried again, waiting longer after each failure in a row (up to 8 times the interval).
(() => {
  const { Controller } = window.StimulusModule;

  class ImportProgressController extends Controller {
    static targets = ['bar', 'label'];
    static values = { url: String, stage: String, interval: { type: Number, default: 2000 } };

    connect() {
      this.schedule();
    }

    disconnect() {
      clearTimeout(this.timer);
      if (this.abort) this.abort.abort();
    }

    schedule() {
      clearTimeout(this.timer);
      const backoff = Math.min(2 ** Math.max((this.failures || 0) - 1, 0), 8);
      this.timer = setTimeout(() => this.refresh(), this.intervalValue * backoff);
    }

    retry() {
      this.failures = (this.failures || 0) + 1;
      this.schedule();
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
        if (response.status === 404) return; // the job is gone or the grant was withdrawn: stop polling
        if (!response.ok) {
          this.retry(); // a server error (a proxy's 502 during a deploy): try again
          return;
        }
        status = await response.json();
      } catch (error) {
        if (error.name !== 'AbortError') this.retry(); // a network blip, or an answer that is no JSON: try again
        return;
      }
      this.failures = 0;
      if (status.stage !== this.stageValue) {
        window.location.reload();
        return;
      }
      this.barTarget.value = status.percent;
      this.barTarget.textContent = `${status.percent}%`;
      this.labelTarget.textContent = status.progress_label;
      this.schedule();
    }
  }

  window.wagtail.app.register('wc-import-progress', ImportProgressController);
})();
