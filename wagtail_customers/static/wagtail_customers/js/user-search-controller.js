// wc-user-search: the Share access form's user field suggests matching users as one types
// (an ARIA combobox). Without JavaScript the field still works: type a user name or e-mail address.
(() => {
  const { Controller } = window.StimulusModule;

  class UserSearchController extends Controller {
    static targets = ['results', 'status'];
    static values = { url: String, empty: String, minLength: { type: Number, default: 3 } };

    connect() {
      this.input = this.element.querySelector('input[type="text"]');
      if (!this.input) return;
      this.options = [];
      this.active = -1;
      this.input.setAttribute('role', 'combobox');
      this.input.setAttribute('aria-autocomplete', 'list');
      this.input.setAttribute('aria-expanded', 'false');
      this.input.setAttribute('aria-controls', this.resultsTarget.id);
      this.onInput = this.onInput.bind(this);
      this.onKeydown = this.onKeydown.bind(this);
      this.input.addEventListener('input', this.onInput);
      this.input.addEventListener('keydown', this.onKeydown);
    }

    disconnect() {
      if (!this.input) return;
      this.input.removeEventListener('input', this.onInput);
      this.input.removeEventListener('keydown', this.onKeydown);
      clearTimeout(this.timer);
    }

    onInput() {
      clearTimeout(this.timer);
      const query = this.input.value.trim();
      // The server answers a name prefix of minLength characters or a whole e-mail address.
      if (query.length < this.minLengthValue) {
        this.render([]);
        return;
      }
      // Wait for a pause in typing before asking the server.
      this.timer = setTimeout(() => this.search(query), 200);
    }

    async search(query) {
      const url = `${this.urlValue}?q=${encodeURIComponent(query)}`;
      try {
        const response = await fetch(url, {
          headers: { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' },
          credentials: 'same-origin',
        });
        if (!response.ok) return;
        const data = await response.json();
        if (this.input.value.trim() === query) this.render(data.results || []);
      } catch (error) {
        this.render([]);
      }
    }

    render(results) {
      this.resultsTarget.replaceChildren();
      this.options = results;
      this.active = -1;
      results.forEach((user, index) => {
        const option = document.createElement('li');
        option.id = `${this.resultsTarget.id}-${index}`;
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', 'false');
        option.className = 'wc-user-search__option';
        option.dataset.username = user.username;
        const label = user.name ? `${user.name} (${user.username})` : user.username;
        option.textContent = user.email ? `${label} · ${user.email}` : label;
        option.addEventListener('mousedown', (event) => {
          event.preventDefault();
          this.choose(index);
        });
        this.resultsTarget.appendChild(option);
      });
      const open = results.length > 0;
      this.resultsTarget.hidden = !open;
      this.input.setAttribute('aria-expanded', String(open));
      this.input.removeAttribute('aria-activedescendant');
      const typed = this.input.value.trim().length >= this.minLengthValue;
      this.statusTarget.textContent = open || !typed ? '' : this.emptyValue;
    }

    onKeydown(event) {
      if (!this.options.length) return;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        this.highlight((this.active + step + this.options.length) % this.options.length);
      } else if (event.key === 'Enter' && this.active >= 0) {
        event.preventDefault();
        this.choose(this.active);
      } else if (event.key === 'Escape') {
        this.render([]);
      }
    }

    highlight(index) {
      const items = this.resultsTarget.querySelectorAll('[role="option"]');
      items.forEach((item, i) => item.setAttribute('aria-selected', String(i === index)));
      this.active = index;
      this.input.setAttribute('aria-activedescendant', items[index].id);
    }

    choose(index) {
      this.input.value = this.options[index].username;
      this.render([]);
      this.input.focus();
    }
  }

  window.wagtail.app.register('wc-user-search', UserSearchController);
})();
