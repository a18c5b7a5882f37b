#!/usr/bin/env bash
# Release check: build the sdist and the wheel, check their metadata (twine) and contents, install the wheel
# into a fresh virtual environment, create a new site with `wagtail start`, add the plugin, migrate, and check
# with Django's test client that the admin shows the Customers menu and /admin/customers/ answers 200; then
# follow docs/tutorial.md with its own files (docs/tutorial_files/): Celery settings, first import, a task.
#
#   scripts/check-wheel.sh                  # what `make wheel-check` (and so `make test`) runs
#   WC_WHEEL_CHECK_DEPS="wagtail>=7.0,<7.1" scripts/check-wheel.sh   # the same against Wagtail 7.0 LTS
#   WC_WHEEL_CHECK_KEEP=1 scripts/check-wheel.sh                     # keep the temp folder to look around
#
# Needs: the project's .venv (build, twine: the test extra) and network access to PyPI for the fresh
# environment's dependencies; pip's cache makes the second run quick.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
case $PY in /*) ;; *) PY=$PWD/$PY ;; esac  # the script changes folders later
EXTRA_DEPS=${WC_WHEEL_CHECK_DEPS:-}
# The fresh environment uses the same interpreter the project's venv was made from.
BASE_PYTHON=$("$PY" -c 'import sys; print(sys._base_executable)')
WORK=$(mktemp -d /tmp/wc-wheel-check.XXXXXX)
if [ -n "${WC_WHEEL_CHECK_KEEP:-}" ]; then
  echo "Keeping $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi
step() { printf "\n== [%ss] %s\n" "$((SECONDS - START))" "$*"; }
START=$SECONDS

step "Building the sdist and the wheel"
"$PY" -m build --outdir "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
if grep -i "deprecat" "$WORK/build.log" >"$WORK/warnings"; then
  cat "$WORK/build.log"
  echo "The build printed deprecation warnings (above); fix pyproject.toml or MANIFEST.in." >&2
  exit 1
fi
WHEEL=$(ls "$WORK"/dist/*.whl)
SDIST=$(ls "$WORK"/dist/*.tar.gz)
ls -l "$WORK/dist"

step "twine check"
"$PY" -m twine --no-color check --strict "$WORK"/dist/*

step "Contents: every file of the package is in the wheel and in the sdist"
"$PY" - "$ROOT" "$WHEEL" "$SDIST" <<'PYTHON'
import sys
import tarfile
import zipfile
from pathlib import Path

root, wheel, sdist = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
package = root / "wagtail_customers"
source = {
    path.relative_to(root).as_posix()
    for path in package.rglob("*")
    if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}
}
in_wheel = set(zipfile.ZipFile(wheel).namelist())
with tarfile.open(sdist) as tar:
    in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
problems = []
problems += [f"missing from the wheel: {name}" for name in sorted(source - in_wheel)]
problems += [f"missing from the sdist: {name}" for name in sorted(source - in_sdist)]
problems += [f"missing from the sdist: {name}" for name in ("README.md", "LICENSE") if name not in in_sdist]
problems += [f"unexpected in the wheel: {name}" for name in sorted(in_wheel) if "__pycache__" in name]
# What the release must carry whatever else changes.
required = {
    "migrations": "wagtail_customers/migrations/0001_initial.py",
    "templates": "wagtail_customers/templates/",
    "compiled translations": "wagtail_customers/locale/en/LC_MESSAGES/django.mo",
    "translation template": "wagtail_customers/locale/django.pot",
    "licence": "/licenses/LICENSE",
}
for what, needle in required.items():
    if not any(needle in name for name in in_wheel):
        problems.append(f"no {what} in the wheel ({needle})")
if problems:
    sys.exit("\n".join(problems))
kinds = {}
for name in in_wheel:
    parts = name.split("/")
    kind = parts[1] if len(parts) > 2 and parts[0] == "wagtail_customers" else parts[0]
    kinds[kind] = kinds.get(kind, 0) + 1
print(f"{len(in_wheel)} files in the wheel, {len(in_sdist)} in the sdist; wheel by folder:")
print("  " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
PYTHON

step "A fresh virtual environment with the wheel${EXTRA_DEPS:+ and $EXTRA_DEPS}"
"$BASE_PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
# shellcheck disable=SC2086  # EXTRA_DEPS is one requirement (or empty)
"$VPY" -m pip install -q --disable-pip-version-check "$WHEEL" ${EXTRA_DEPS:+"$EXTRA_DEPS"} 2>&1 \
  | grep -v "^WARNING: Location" || true
"$VPY" -c 'import wagtail_customers' || { echo "The wheel did not install." >&2; exit 1; }
"$VPY" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE "^(django|wagtail|django-import-export|celery|wagtail-customers) "

step "wagtail start: a new site; add the two apps, migrate, open the admin"
cd "$WORK"
"$WORK/venv/bin/wagtail" start mysite >/dev/null
cd mysite
SETTINGS=mysite/settings/base.py
cp "$SETTINGS" "$WORK/base.py.orig"
# What the install guide asks of a site for the admin: the two apps. No URLs, no Celery app.
printf '\nINSTALLED_APPS += ["wagtail_customers", "import_export"]\n' >>"$SETTINGS"
export DJANGO_SETTINGS_MODULE=mysite.settings.dev
# With no Celery settings the plugin must say so (W011: big exports and imports would be refused), and say
# nothing else; the tutorial's settings below silence it.
"$VPY" manage.py check >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; exit 1; }
cat "$WORK/check.log"
grep -q "wagtail_customers.W011" "$WORK/check.log" || { echo "W011 (no task queue) was not reported." >&2; exit 1; }
if grep -E '\([A-Za-z0-9_.]+\.[EW][0-9]+\)' "$WORK/check.log" | grep -v "wagtail_customers.W011"; then
  echo "manage.py check reported more than W011 on the fresh site (above)." >&2
  exit 1
fi
"$VPY" manage.py makemigrations --check --dry-run wagtail_customers
"$VPY" manage.py migrate --noinput -v0
DJANGO_SUPERUSER_PASSWORD=fresh-pw "$VPY" manage.py createsuperuser --noinput --username fresh \
  --email fresh@example.com >/dev/null
"$VPY" "$ROOT/scripts/fresh_site_check.py" admin fresh fresh-pw

step "The tutorial, verbatim: its settings and Celery files, a seller account, the first import"
TUTORIAL="$ROOT/docs/tutorial_files"
cp "$WORK/base.py.orig" "$SETTINGS"
cat "$TUTORIAL/settings.py" >>"$SETTINGS"
cp "$TUTORIAL/celery.py" mysite/celery.py
cp "$TUTORIAL/init.py" mysite/__init__.py
"$VPY" manage.py check --fail-level WARNING
"$VPY" manage.py shell -v0 -c "$(cat "$TUTORIAL/seller_account.py")"
"$VPY" manage.py customers_import --account "My shop" --format generic "$TUTORIAL/orders.csv" --dry-run
"$VPY" manage.py customers_import --account "My shop" --format generic "$TUTORIAL/orders.csv"
"$VPY" "$ROOT/scripts/fresh_site_check.py" admin fresh fresh-pw ada@example.com grace@example.com
"$VPY" "$ROOT/scripts/fresh_site_check.py" figures
"$VPY" "$ROOT/scripts/fresh_site_check.py" celery

printf '\nWheel check passed in %ss.\n' "$((SECONDS - START))"
