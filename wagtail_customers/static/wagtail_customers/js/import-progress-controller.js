// wc-import-progress: the import job page follows its job while it is checked or imported.
// It polls the job's status URL (JSON) every two seconds and moves the progress bar; when the job moves to
// another stage (checked, imported, failed) it reloads the page, which then shows the preview or the outcome.
// Without JavaScript, reloading the page shows the same information.
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
        if (!response.ok) return; // 404: the job is gone or the grant was withdrawn; stop polling
        status = await response.json();
      } catch (error) {
        if (error.name !== 'AbortError') this.schedule(); // a network blip: try again
        return;
      }
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
