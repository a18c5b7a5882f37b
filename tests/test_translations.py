"""The committed translation catalogue is current: regenerating it from the code finds no new or dropped string.

When this fails, run ``make messages`` and commit wagtail_customers/locale/.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.template.base import Lexer, TokenType
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import trim_whitespace

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


def template_messages(text):
    """``(context, msgid, plural)`` of each ``translate``/``blocktranslate`` tag in a template's ``text`` (no plural
    is "", as polib reads it), built the way Django builds them when it renders the template, independently of
    makemessages (which loses a string whose tag shares a line with a translators' comment before it)."""
    messages, tokens = [], iter(Lexer(text).tokenize())
    for token in tokens:
        if token.token_type != TokenType.BLOCK:
            continue
        name, *bits = smart_split(token.contents)
        if name == "comment":  # a {% comment %} block's tags are not rendered
            for inner in tokens:
                if inner.token_type == TokenType.BLOCK and inner.contents == "endcomment":
                    break
            continue
        context = next(
            (unquoted(after) for before, after in zip(bits, bits[1:], strict=False) if before == "context"), None
        )
        if name in ("trans", "translate") and bits and bits[0][0] in "'\"" and bits[0][-1] == bits[0][0]:
            # The literal as Django looks it up: its escapes read, a % doubled (as in a blocktranslate's text).
            messages.append((context, unquoted(bits[0]).replace("%", "%%"), ""))
        elif name in ("blocktrans", "blocktranslate"):
            parts, current = [], []
            for inner in tokens:
                if inner.token_type == TokenType.BLOCK and inner.contents in (
                    "plural",
                    "endblocktrans",
                    "endblocktranslate",
                ):
                    parts.append("".join(current))
                    current = []
                    if inner.contents != "plural":
                        break
                elif inner.token_type == TokenType.VAR:
                    current.append(f"%({inner.contents})s")
                elif inner.token_type == TokenType.TEXT:
                    current.append(inner.contents.replace("%", "%%"))
            if "trimmed" in bits:
                parts = [trim_whitespace(part) for part in parts]
            messages.append((context, parts[0], parts[1] if len(parts) > 1 else ""))
    return messages


def unquoted(literal):
    quoted = literal[:1] in "'\"" and literal[-1:] == literal[:1]
    return unescape_string_literal(literal) if quoted else literal


def test_every_template_string_reaches_the_catalogue(fresh_locale):
    extracted = message_keys(polib.pofile(str(fresh_locale / "django.pot")))
    found = {
        path.relative_to(PACKAGE): template_messages(path.read_text())
        for path in sorted((PACKAGE / "templates").rglob("*"))
        if path.suffix in (".html", ".txt")
    }
    assert sum(map(len, found.values())) > 500  # the tags were read
    missing = [f"{path}: {key[1]!r}" for path, keys in found.items() for key in keys if key not in extracted]
    assert not missing, "makemessages leaves these out (a translators' comment on the tag's line?):\n" + "\n".join(
        missing
    )


def test_a_translators_comment_on_the_tags_line_is_caught(tmp_path):
    # The way a string was lost once: makemessages turns the comment into a Python comment that swallows the call.
    probe = (
        "{% load i18n %}{% comment %}Translators: a probe.{% endcomment %}"
        "{% blocktrans trimmed %}A probe nobody finds{% endblocktrans %}\n"
    )
    fresh = regenerated_copy(tmp_path, {"templates/probe.html": probe})
    extracted = message_keys(polib.pofile(str(fresh / "django.pot")))
    assert template_messages(probe) == [(None, "A probe nobody finds", "")]
    assert (None, "A probe nobody finds", "") not in extracted
