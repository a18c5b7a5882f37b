# make demo: the example site on its embedded defaults.  make test: everything CI runs.
VENV ?= .venv
# The main virtualenv (demo, tests, docs, release check) runs on the newest supported Python found here, so
# `make test` covers Python 3.13 with Django 6.0; `make test-lowest` covers the other end (Python 3.11 and every
# dependency at its lowest allowed version).
PYTHON ?= $(shell scripts/find-python.sh 3.13 3.12 3.11)
LOWEST_PYTHON ?= $(shell scripts/find-python.sh 3.11)
LOWEST_VENV ?= .venv-lowest
LOWEST_STAMP := $(LOWEST_VENV)/.installed-lowest
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-example
BENCH_STAMP := $(VENV)/.installed-bench
ADMIN_USER ?= admin
ADMIN_PASSWORD ?= changeme-demo
PYTEST_ARGS ?=

.PHONY: demo test venv system-deps lint checks docs wheel-check wheel-check-lts messages test-sqlite test-postgres test-lowest bench bench-datasets bench-smoke clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[test,docs,example]"
	touch $(STAMP)

$(DEMO_STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[example]"
	touch $(DEMO_STAMP)

venv: $(STAMP)

demo: $(DEMO_STAMP)
	cd example_project && ../$(PY) manage.py migrate --noinput -v0
	cd example_project && ../$(PY) manage.py customers_demo_data --if-empty
	cd example_project && ../$(PY) manage.py demo_admin --username "$(ADMIN_USER)" --password "$(ADMIN_PASSWORD)"
	@echo ""
	@echo "  Admin: http://127.0.0.1:8000/admin/   user: $(ADMIN_USER)   password: $(ADMIN_PASSWORD)"
	@echo ""
	cd example_project && ../$(PY) manage.py runserver 127.0.0.1:8000

system-deps:
	scripts/install-system-deps.sh

lint: venv
	$(VENV)/bin/ruff check wagtail_customers example_project tests benchmarks scripts
	$(VENV)/bin/ruff format --check wagtail_customers example_project tests benchmarks scripts

checks: venv
	cd example_project && ../$(PY) manage.py makemigrations --check --dry-run -v1
	cd example_project && ../$(PY) manage.py check --fail-level WARNING

docs: venv
	$(VENV)/bin/sphinx-build -q -W --keep-going -b html docs docs/_build/html

# Build the sdist and wheel, twine-check them, install the wheel into a new `wagtail start` site and open its admin.
wheel-check: venv
	PY=$(PY) scripts/check-wheel.sh

# The same against the oldest supported Wagtail (7.0 LTS).
wheel-check-lts: venv
	PY=$(PY) WC_WHEEL_CHECK_DEPS="wagtail>=7.0,<7.1" scripts/check-wheel.sh

# Regenerate the translation catalogue (locale/django.pot, the English .po and .mo) after changing UI strings.
messages: venv
	$(PY) scripts/messages.py

# axe-core, injected into every plugin screen by tests/browser/test_accessibility.py (pinned in its lock file).
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
# After the Debian packages, which bring npm (order-only: a new npm does not reinstall axe-core).
$(AXE): tests/browser/axe/package-lock.json | system-deps
	npm ci --prefix tests/browser/axe --no-audit --no-fund --silent
	touch $(AXE)

test-sqlite: venv $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

# With a streaming replica of the throwaway cluster beside it, for tests/test_read_replica.py (a few seconds more).
test-postgres: venv $(AXE)
	WC_PG_REPLICA=1 scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_ARGS)

# Every dependency pinned to the lower bound pyproject.toml gives it (scripts/lowest_constraints.py), on the
# oldest supported Python, in a virtualenv of its own: the floors are versions the suite passed on.
$(LOWEST_STAMP): pyproject.toml scripts/lowest_constraints.py
	$(LOWEST_PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOWEST_VENV)/bin/python scripts/lowest_constraints.py $(LOWEST_VENV)/lowest-constraints.txt
	$(LOWEST_VENV)/bin/python -m pip install -q -c $(LOWEST_VENV)/lowest-constraints.txt -e ".[test]"
	touch $(LOWEST_STAMP)

# Prints the versions under test first: every pinned dependency, and kombu, which Celery brings in unpinned.
test-lowest: $(LOWEST_STAMP) $(AXE)
	$(LOWEST_VENV)/bin/python -m pip freeze | grep -i -E "^($$(sed 's/==.*//' $(LOWEST_VENV)/lowest-constraints.txt | paste -sd '|' -)|kombu)=="
	$(LOWEST_VENV)/bin/python -m pytest $(PYTEST_ARGS)

# The whole suite on SQLite; on PostgreSQL what can differ by database (the browser tests drive the same views,
# the benchmark harness runs on its own SQLite data); at the lowest versions all but the harness and the tests
# marked version_neutral (browser tests whose Wagtail steps another takes there too; the plugin's own code over more
# combinations or in racing threads), so the Celery worker and every Wagtail 7.0 screen and widget the plugin uses
# are still driven at the floors.
# Under 30 minutes on a 2-core machine: every part runs in one pool of two jobs, one per core (separate databases,
# ports, folders and virtualenvs), longest first, so the two cores finish together (on 2026-12-03: lowest 11.6
# min, SQLite without the browser 14.7, PostgreSQL 12.6, browser 6.8, the rest about 4; on 2026-12-04, with the
# saved views, rules and alerts: 17.3, 19.9, 18.7 and 7.4, 38 min in all, hence the cuts below; on 2026-12-06: 11.2,
# 15.2, 11.3 and 6.8, 25 min in all, where CI had taken 30.5; on 2026-12-07, 13.4, 19.7, 14.0 and 8.3, 30.4 min in
# all, hence the cuts of the walks and of the floors' matrices): the SQLite suite is two
# passes (browser tests, the rest), and the release check, the docs build (queued after the browser tests, which write
# its screenshots) and the linters run in the pool too, last, as they take a minute or two. Output is
# printed whole as each part ends, with its slowest tests. The PostgreSQL pass leaves out the browser tests and the
# real-worker tests too (both drive the same code on either database), the tests that cannot reach a database
# at all (marked no_db by tests/conftest.py: parsing, formatting, docs), the permission matrix (541 requests
# deciding who may open which URL, in Python; each view's own tests run its queries on PostgreSQL) and the masking
# matrix (every page for the users who may not see personal data: masked in Python, services/personal_data.py).
# The main virtualenv is built inside the pool, while the lowest one is built and its pass starts on the other core
# (built before the pool, it kept a core idle for about a minute); each pass that runs in it waits for it.
# The Debian packages and axe-core are installed in the pool too, while the lowest virtualenv is built on the other
# core (installed first, they kept a core idle for as long as apt took). Each pass prints when it started, counted
# from the start of `make test`, and how long it took.
test:
	WC_TEST_STARTED=$$(date +%s) $(MAKE) -j2 --output-sync=target test-lowest-pass test-sqlite-rest-pass \
		test-postgres-pass test-sqlite-browser-pass test-contrib wheel-check docs lint checks

DURATIONS := --durations=15 --durations-min=5
# `$(call timed,COMMAND)`: COMMAND, then the pass's start and length; the pass fails as COMMAND does.
timed = started=$$(date +%s); $(1); status=$$?; \
	echo "$@: started at +$$(( started - $${WC_TEST_STARTED:-$$started} )) s, took $$(( $$(date +%s) - started )) s"; \
	exit $$status
.PHONY: test-postgres-pass test-lowest-pass test-sqlite-rest-pass test-sqlite-browser-pass
test-postgres-pass: venv system-deps $(AXE)
	@$(call timed,$(MAKE) test-postgres PYTEST_ARGS="-m 'not browser and not bench and not worker and not no_db' \
		--ignore=tests/test_permission_matrix.py \
		--deselect=tests/test_personal_data_masking.py::test_no_personal_data_in_any_answer_for_users_without_the_action \
		$(DURATIONS)")

test-lowest-pass: $(LOWEST_STAMP) system-deps $(AXE)
	@$(call timed,$(MAKE) test-lowest PYTEST_ARGS="-m 'not bench and not version_neutral' $(DURATIONS)")

test-sqlite-rest-pass: venv system-deps $(AXE)
	@$(call timed,$(MAKE) test-sqlite PYTEST_ARGS="-m 'not browser' $(DURATIONS)")

test-sqlite-browser-pass: venv system-deps $(AXE)
	@$(call timed,$(MAKE) test-sqlite PYTEST_ARGS="-m browser $(DURATIONS)")

# The in-site shop integrations (wagtail_customers/contrib/salesman, contrib/oscar), each against the real package
# in a virtualenv of its own, with its own settings (tests/contrib/*_settings.py). django-salesman 1.3 requires
# Django <6.0, so its virtualenv has Django 5.2 (with Wagtail 8); django-oscar 4.2 runs on the newest (Django 6.0,
# Wagtail 8). SQLite, tables made from the models (--nomigrations: the main suite covers the plugin's migrations;
# Oscar's migrations alone took 5 minutes here). About a minute with the virtualenvs in place; building both the
# first time took about 10 minutes on a busy 2-core machine.
SALESMAN_VENV ?= .venv-salesman
OSCAR_VENV ?= .venv-oscar
SALESMAN_STAMP := $(SALESMAN_VENV)/.installed-salesman
# Only what the shops' tests use (not the browser, worker or release tools of the main suite's [test] extra).
CONTRIB_TEST_TOOLS := "pytest>=8" "pytest-django>=4.8"
OSCAR_STAMP := $(OSCAR_VENV)/.installed-oscar

$(SALESMAN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(SALESMAN_VENV)
	$(SALESMAN_VENV)/bin/python -m pip install -q --upgrade pip
	$(SALESMAN_VENV)/bin/python -m pip install -q -e ".[salesman,modeladmin]" "Django>=5.2,<6.0" $(CONTRIB_TEST_TOOLS)
	touch $(SALESMAN_STAMP)

$(OSCAR_STAMP): pyproject.toml
	$(PYTHON) -m venv $(OSCAR_VENV)
	$(OSCAR_VENV)/bin/python -m pip install -q --upgrade pip
	$(OSCAR_VENV)/bin/python -m pip install -q -e ".[oscar,modeladmin]" $(CONTRIB_TEST_TOOLS)
	touch $(OSCAR_STAMP)

.PHONY: test-contrib
test-contrib: $(SALESMAN_STAMP) $(OSCAR_STAMP)
	$(SALESMAN_VENV)/bin/python -m pip freeze | grep -i -E "^(django|wagtail|django-salesman)=="
	$(SALESMAN_VENV)/bin/python -m pytest --ds=tests.contrib.salesman_settings --nomigrations tests/contrib $(PYTEST_ARGS)
	$(OSCAR_VENV)/bin/python -m pip freeze | grep -i -E "^(django|wagtail|django-oscar)=="
	$(OSCAR_VENV)/bin/python -m pytest --ds=tests.contrib.oscar_settings --nomigrations tests/contrib $(PYTEST_ARGS)

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e ".[bench]"
	touch $(BENCH_STAMP)

# The full run: S, M and L (1M orders) on SQLite and PostgreSQL, XL (5M orders) on PostgreSQL, then the load
# test, then an XL export and rebuild on 1 and on 2 Celery workers (benchmarks/workers.py); writes
# docs/performance.md and benchmarks/results/*.json. Datasets are cached in benchmarks/.data (the first L build
# takes minutes, XL about half an hour): `make bench-datasets` builds them ahead, measuring nothing.
BENCH_SIZES ?= S,M,L,XL
bench: $(BENCH_STAMP)
	$(PY) -m benchmarks.run --sizes $(BENCH_SIZES) --repeat 20
	$(PY) -m benchmarks.load --size L
	$(PY) -m benchmarks.workers --size XL

bench-datasets: $(BENCH_STAMP)
	$(PY) -m benchmarks.run --sizes $(BENCH_SIZES) --build-only --nice 19

# About a minute: size S on SQLite, every case once; results in /tmp, docs/performance.md untouched.
bench-smoke: $(BENCH_STAMP)
	$(PY) -m benchmarks.run --sizes S --db sqlite --quick --repeat 3 --baseline-repeat 1 --stats-repeat 1 \
		--results-dir /tmp/wagtail-customers-bench-smoke --report ""

clean:
	rm -rf $(VENV) $(LOWEST_VENV) $(SALESMAN_VENV) $(OSCAR_VENV) docs/_build example_project/db.sqlite3
