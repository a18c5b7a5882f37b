"""The committed translation catalogue is current: regenerating it from the code finds no new or dropped string.

When this fails, run ``make messages`` and commit wagtail_customers/locale/.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "wagtail_customers"
LOCALE = PACKAGE / "locale"
MESSAGES_SCRIPT = ROOT / "scripts" / "messages.py"


def message_keys(catalogue):
    """The identity of each entry: context, singular and plural; locations and translations aside."""
    return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in catalogue if not entry.obsolete}


def regenerated_copy(tmp_path, extra_files=None):
    """Copy the package, add ``extra_files`` ({relative path: text}), regenerate its catalogue there."""
    copy = tmp_path / "wagtail_customers"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for relative, text in (extra_files or {}).items():
        (copy / relative).write_text(text)
    subprocess.run([sys.executable, str(MESSAGES_SCRIPT), str(copy)], check=True, capture_output=True)
    return copy / "locale"


def stale_entries(committed_locale, fresh_locale, domain="django"):
    """Human-readable differences between two catalogues of one domain, empty when they agree."""
    committed = message_keys(polib.pofile(str(committed_locale / f"{domain}.pot")))
    fresh = message_keys(polib.pofile(str(fresh_locale / f"{domain}.pot")))
    return [f"new, not in the .pot: {key[1]!r}" for key in sorted(fresh - committed, key=str)] + [
        f"in the .pot, gone from the code: {key[1]!r}" for key in sorted(committed - fresh, key=str)
    ]


def fresh_domains(fresh_locale):
    return sorted(path.stem for path in fresh_locale.glob("*.pot"))


@pytest.fixture(scope="module")
def fresh_locale(tmp_path_factory):
    return regenerated_copy(tmp_path_factory.mktemp("messages"))


def test_the_committed_catalogue_lists_every_translatable_string(fresh_locale):
    assert fresh_domains(fresh_locale), "makemessages produced no catalogue at all"
    for domain in fresh_domains(fresh_locale):
        assert (LOCALE / f"{domain}.pot").exists(), f"locale/{domain}.pot is missing: run `make messages`"
        stale = stale_entries(LOCALE, fresh_locale, domain)
        assert not stale, "The translation catalogue is stale; run `make messages`:\n" + "\n".join(stale)


def test_the_english_catalogue_matches_the_template_and_is_compiled():
    for pot_path in LOCALE.glob("*.pot"):
        domain = pot_path.stem
        po_path = LOCALE / "en" / "LC_MESSAGES" / f"{domain}.po"
        mo_path = po_path.with_suffix(".mo")
        assert po_path.exists() and mo_path.exists(), f"run `make messages` ({po_path.name} or .mo missing)"
        po = polib.pofile(str(po_path))
        assert message_keys(po) == message_keys(polib.pofile(str(pot_path))), f"{po_path.name} is behind {domain}.pot"
        compiled = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in polib.mofile(str(mo_path)) if entry.msgid}
        translated = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in po.translated_entries()}
        assert compiled == translated, f"{mo_path.name} is not compiled from {po_path.name}: run `make messages`"


def test_a_new_string_in_the_code_makes_the_catalogue_stale(tmp_path, fresh_locale):
    probe = 'from django.utils.translation import gettext_lazy as _\n\nPROBE = _("A string nobody extracted yet")\n'
    fresh = regenerated_copy(tmp_path, {"stale_probe.py": probe})
    # Compared with the catalogue of the same code without the probe, the probe is the one difference.
    assert stale_entries(fresh_locale, fresh) == ["new, not in the .pot: 'A string nobody extracted yet'"]
