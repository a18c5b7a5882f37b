"""Regenerate the plugin's translation catalogue (what `make messages` runs).

Writes ``locale/django.pot`` (the template translators start from), merges it into
``locale/en/LC_MESSAGES/django.po`` and compiles ``django.mo`` beside it; the same for the ``djangojs``
domain once the package has JavaScript files. Needs GNU gettext (Debian's ``gettext`` package).

    python scripts/messages.py [PACKAGE_DIR]    # default: the wagtail_customers folder beside this script

tests/test_translations.py runs it on a copy of the package to tell whether the committed catalogue is stale.
"""

import os
import subprocess
import sys
from pathlib import Path

DEFAULT_PACKAGE = Path(__file__).resolve().parents[1] / "wagtail_customers"
LANGUAGES = ["en"]
MAKEMESSAGES = [
    "makemessages",
    *(f"--locale={language}" for language in LANGUAGES),
    "--keep-pot",
    "--no-obsolete",
    # File names without line numbers: an edit elsewhere in a file does not change the catalogue.
    "--add-location=file",
    "--verbosity=0",
]


def django_admin(args, package_dir):
    # Run as a standalone app folder, without a project's settings (makemessages then scans this folder only).
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-m", "django", *args], cwd=package_dir, env=env, check=True)


def regenerate(package_dir=DEFAULT_PACKAGE):
    package_dir = Path(package_dir)
    django_admin(MAKEMESSAGES, package_dir)
    if any((package_dir / "static").rglob("*.js")):
        django_admin([*MAKEMESSAGES, "--domain=djangojs"], package_dir)
    django_admin(["compilemessages", *(f"--locale={language}" for language in LANGUAGES), "--verbosity=0"], package_dir)


if __name__ == "__main__":
    regenerate(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PACKAGE)
