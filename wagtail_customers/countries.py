"""Countries as ISO 3166-1 alpha-2 codes: recognising what channels and files write, and naming a code.

``country_code(value)`` recognises a country written as an alpha-2 or alpha-3 code, its English name
(official, common or former), its name in one of ``RECOGNISED_LANGUAGES`` (so local names such as
"Deutschland", "España" or "Österreich" too) or one of ``ALIASES`` ("UK", "U.S.A.", "Holland" ...),
ignoring case, accents, spaces and punctuation. ``normalise_country(value)`` is what the ingestion
service stores: the code, or the value as written when it is not recognised (nothing is lost).

``country_name(value)`` is the name of a code in the active language (the admin user's), read from
django-countries' own translation catalogues, so the site needs no ``django_countries`` app entry;
a value that is not a code is shown as written.

Everything here is pure Python over a table built once per process: no query, ever.
"""

import gettext
import re
import unicodedata
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path

import django_countries
from django.utils import translation
from django_countries import countries

#: django-countries' catalogues whose country names are recognised, besides English. The order
#: matters only when two languages give the same name to different countries: such a name is dropped.
RECOGNISED_LANGUAGES = (
    "de", "fr", "es", "it", "nl", "pt_PT", "pt_BR", "pl", "sv", "da", "nb", "fi", "cs", "sk", "hu", "ro",
    "el", "bg", "hr", "sl", "lt", "lv", "et", "tr_TR", "ru", "uk", "ja", "zh_Hans", "zh_Hant", "ko_KR",
)  # fmt: skip

#: What channels and people write that is neither an ISO name nor a code. Checked before any name.
ALIASES = {
    "GB": (
        "UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales", "Northern Ireland",
        "United Kingdom", "GB-ENG", "GB-SCT", "GB-WLS", "GB-NIR",
    ),
    "US": ("USA", "U.S.A.", "U.S.", "United States", "United States of America", "America", "USA (US)"),
    "AE": ("UAE", "U.A.E.", "Emirates", "United Arab Emirates"),
    "CZ": ("Czech Republic", "Czechia"),
    "NL": ("Holland", "The Netherlands", "Netherlands"),
    "KR": ("South Korea", "Korea, Republic of", "Republic of Korea", "Korea (South)"),
    "KP": ("North Korea", "Korea, Democratic People's Republic of", "Korea (North)"),
    "RU": ("Russia", "Russian Federation"),
    "VN": ("Vietnam", "Viet Nam"),
    "IE": ("EIRE", "Éire", "Republic of Ireland"),
    "DE": ("BRD", "Federal Republic of Germany"),
    "TR": ("Turkey", "Türkiye", "Turkiye"),
    "IR": ("Iran",),
    "SY": ("Syria",),
    "LA": ("Laos",),
    "MD": ("Moldova",),
    "BO": ("Bolivia",),
    "VE": ("Venezuela",),
    "TZ": ("Tanzania",),
    "TW": ("Taiwan",),
    "MK": ("Macedonia", "North Macedonia"),
    "SZ": ("Swaziland", "Eswatini"),
    "MM": ("Burma",),
    "CI": ("Ivory Coast", "Cote d'Ivoire"),
    "CV": ("Cape Verde",),
    "VA": ("Vatican", "Vatican City", "Holy See"),
    "PS": ("Palestine",),
    "HK": ("Hong Kong SAR", "Hong Kong, China"),
    "MO": ("Macau", "Macao SAR"),
    "CN": ("PRC", "People's Republic of China", "Mainland China"),
    "CD": ("DRC", "DR Congo", "Congo-Kinshasa", "Democratic Republic of the Congo"),
    "CG": ("Congo-Brazzaville", "Republic of the Congo"),
    "TL": ("East Timor",),
    "BA": ("Bosnia", "Bosnia-Herzegovina"),
    "FM": ("Micronesia",),
    "BN": ("Brunei",),
    "KN": ("St Kitts and Nevis", "Saint Kitts"),
    "LC": ("St Lucia",),
    "VC": ("St Vincent",),
}  # fmt: skip

_LOCALE_DIR = Path(django_countries.__file__).resolve().parent / "locale"
_THE = re.compile(r"^the\s+", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\([^)]*\)")


def _key(text):
    """``text`` folded for comparison: no case, accents, spaces or punctuation; "&" reads as "and"."""
    text = unicodedata.normalize("NFKD", _THE.sub("", str(text).strip())).casefold().replace("&", " and ")
    return "".join(character for character in text if character.isalnum())


def sort_key(name):
    """A key sorting names alphabetically whatever their case and accents ("Österreich" among the O)."""
    return "".join(
        character for character in unicodedata.normalize("NFKD", name) if not unicodedata.combining(character)
    ).casefold()


class _Table:
    """Folded name -> code, filled tier by tier: a lower tier never replaces a higher one's entry, and a
    name two countries share within one tier is dropped (an ambiguous value stays as written)."""

    def __init__(self):
        self.codes = {}

    def add_tier(self, pairs):
        tier = {}
        ambiguous = set()
        for code, name in pairs:
            key = _key(name)
            if not key or key in self.codes:
                continue
            if tier.setdefault(key, code) != code:
                ambiguous.add(key)
        for key in ambiguous:
            del tier[key]
        self.codes.update(tier)


def _english_names():
    """``(code, English name)`` for every name django-countries has for a code (official, common, former)."""
    from django_countries.data import COUNTRIES

    with translation.override(None):
        for code, name in COUNTRIES.items():
            yield code, str(name)
        for code, name in countries.COMMON_NAMES.items():
            yield code, str(name)
        for code, names in countries.OLD_NAMES.items():
            for name in names:
                yield code, str(name)


def _variants(names):
    """Shorter spellings of the names: without the parenthesised part or the part after a comma, and
    "St" for "Saint"."""
    for code, name in names:
        for variant in (_PARENTHESES.sub("", name), name.split(",")[0]):
            if variant != name:
                yield code, variant
        if name.startswith("Saint "):
            yield code, "St " + name[len("Saint ") :]


@cache
def _catalogue(language):
    """django-countries' translations for a Django language code (``de``, ``pt-br``, ``ko``), or ``None``."""
    locale = translation.to_locale(language)
    candidates = [locale, locale.split("_")[0]]
    if _LOCALE_DIR.is_dir():
        base = locale.split("_")[0]
        candidates += sorted(path.name for path in _LOCALE_DIR.iterdir() if path.name.startswith(base + "_"))
    for candidate in candidates:
        if (_LOCALE_DIR / candidate / "LC_MESSAGES" / "django.mo").is_file():
            return gettext.translation("django", localedir=_LOCALE_DIR, languages=[candidate])
    return None


@cache
def _lookup():
    """The folded-name -> code table, built once per process."""
    table = _Table()
    english = list(_english_names())
    table.add_tier((code, alias) for code, aliases in ALIASES.items() for alias in aliases)
    table.add_tier(english)
    table.add_tier(_variants(english))
    translated = []
    for language in RECOGNISED_LANGUAGES:
        catalogue = _catalogue(language)
        if catalogue is not None:
            translated += [(code, catalogue.gettext(name)) for code, name in english]
    table.add_tier(translated)
    table.add_tier(_variants(translated))
    return table.codes


@lru_cache(maxsize=4096)  # a file repeats a handful of spellings over many rows
def country_code(value):
    """The ISO 3166-1 alpha-2 code ``value`` names, or ``""`` when it names no country (or is empty)."""
    text = str(value or "").strip()
    if not text:
        return ""
    # Codes only as written: "N/A" folds to "na" but is not Namibia.
    if len(text) in (2, 3) and text.isascii() and text.isalpha() and (code := countries.alpha2(text)):
        return code
    return _lookup().get(_key(text), "")


def normalise_country(value):
    """What to store for a country as written: its code, else the value as written (trimmed)."""
    text = str(value or "").strip()
    return country_code(text) or text


def is_country_code(value):
    return bool(value) and value in countries.countries


def unrecognised_countries(values, limit=100):
    """``[{"value": text, "count": n}, ...]`` for the non-empty values that name no country, most
    frequent first, at most ``limit`` of them."""
    counts = Counter(text for value in values if (text := str(value or "").strip()) and not country_code(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"value": value, "count": count} for value, count in ranked]


def country_name(value, language=None):
    """The name of the country ``value`` (a code) in ``language`` (default: the active language).

    A value that is not a code (kept as written because it was not recognised) is returned as is."""
    if not is_country_code(value):
        return value or ""
    return _name(value, language or translation.get_language() or "en")


@cache
def _name(code, language):
    with translation.override(None):
        english = str(countries.countries[code])
    catalogue = _catalogue(language)
    return catalogue.gettext(english) if catalogue is not None else english


@cache
def _search_keys(language):
    """``(code, folded tails)`` per country: its English and ``language`` names folded from each word on."""
    keys = []
    for code in countries.countries:
        tails = set()
        for name in (_name(code, "en"), _name(code, language)):
            words = [word for word in re.split(r"[\s\-,()]+", name) if word]
            tails.update(_key(" ".join(words[index:])) for index in range(len(words)))
        keys.append((code, tuple(tails)))
    return keys


def matching_codes(term, language=None):
    """Codes of the countries a search term names: the code or any spelling ``country_code`` knows, and,
    for three characters or more, the countries whose English or ``language`` name has a word starting
    with the term. "GB", "UK", "United Kingdom" and "Uni" all find GB."""
    codes = set()
    if code := country_code(term):
        codes.add(code)
    folded = _key(term)
    if len(folded) >= 3:
        language = language or translation.get_language() or "en"
        codes.update(code for code, tails in _search_keys(language) if any(tail.startswith(folded) for tail in tails))
    return codes
