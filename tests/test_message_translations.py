"""The messages a seller reads about an import or an order go through translation, as whole sentences.

An order the ingestion service refuses, a row an import cannot read, the import's warnings and the "Imported ..."
message reach the admin (the job's error list, a connection's last error). They were English f-strings, sentences
glued from fragments, and "order(s)" plurals; tests/test_translations.py only sees strings that are marked.

Two checks: the modules' source passes no unmarked text to the exceptions and messages that carry it, and no "(s)"
plural into a translation function; and, under a pseudo-translation, representative messages come out translated
as whole sentences (the words filled into them translated too), with the right plural form.
"""

import ast
import gettext as gettext_module
from decimal import Decimal
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import trans_real

from tests.factories import order_data
from wagtail_customers.importers.base import ImportFileError, ImportReport, Table
from wagtail_customers.importers.online_retail import OnlineRetailFormat
from wagtail_customers.services.ingestion import IngestionError, IngestionResult, LineData, record_orders
from wagtail_customers.services.statistics import StatisticsOverflow

PACKAGE = Path(__file__).resolve().parents[1] / "wagtail_customers"
MODULES = [
    "services/ingestion.py",
    "services/order_checks.py",
    "importers/base.py",
    "importers/reading.py",
    "importers/online_retail.py",
    "views/imports/views.py",
]
TRANSLATING = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "npgettext"}
#: Callables whose message argument a seller reads: the exceptions by their first argument, the admin's flash
#: messages and the import report's warnings by theirs.
CARRIERS = {"IngestionError": 0, "ImportFileError": 0}
FLASH_LEVELS = {"debug", "info", "success", "warning", "error"}


def called_name(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def message_argument(call):
    """The argument of ``call`` holding a message a seller reads, or None when ``call`` carries none."""
    name, func = called_name(call), call.func
    if name in CARRIERS:
        index = CARRIERS[name]
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "messages":
        index = 1 if name in FLASH_LEVELS else None  # messages.success(request, text)
    elif name == "append" and isinstance(func.value, ast.Attribute) and func.value.attr == "warnings":
        index = 0  # report.warnings.append(text)
    else:
        index = None
    return call.args[index] if index is not None and len(call.args) > index else None


def translated(node):
    """Whether ``node`` is a translation call, or one with its placeholders filled in (``_("...") % {...}``); a
    variable, attribute or item is taken on trust (it holds a message built elsewhere, checked where it was built)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        node = node.left
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        return True
    return isinstance(node, ast.Call) and called_name(node) in TRANSLATING


def untranslated_messages(source, filename):
    problems = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        argument = message_argument(node)
        if argument is not None and not translated(argument):
            problems.append(f"{filename}:{node.lineno}: {ast.unparse(argument)[:80]}")
        if called_name(node) in TRANSLATING:
            for literal in node.args:
                if isinstance(literal, ast.Constant) and isinstance(literal.value, str) and "(s)" in literal.value:
                    problems.append(f"{filename}:{node.lineno}: '(s)' plural, not ngettext: {literal.value[:80]!r}")
    return problems


@pytest.mark.parametrize("module", MODULES)
def test_the_module_passes_only_translated_sentences_to_what_sellers_read(module):
    path = PACKAGE / module
    assert untranslated_messages(path.read_text(), module) == []


@pytest.mark.parametrize(
    "source",
    [
        'raise IngestionError(f"Order {order}: no order date.")',
        'raise IngestionError("An order has no order id.")',
        'raise ImportFileError("Row %s is bad" % row, row)',
        'messages.success(request, "Imported %s order(s)." % n)',
        'report.warnings.append(f"{count} rows skipped.")',
        'message = _("%(count)d row(s) skipped.") % {"count": count}',
    ],
)
def test_the_source_check_catches_an_untranslated_message(source):
    assert untranslated_messages(source, "probe.py")


class Pseudo(gettext_module.NullTranslations):
    """A catalogue translating every message to itself in brackets, so a translated message shows as such."""

    def gettext(self, message):
        return f"[{message}]"

    def ngettext(self, singular, plural, n):
        return f"[{singular if n == 1 else plural}]"

    def to_language(self):
        return "xx"


@pytest.fixture
def pseudo(monkeypatch):
    """Activate the pseudo-translation: ``translation.override("xx")`` finds it in Django's cache of catalogues."""
    monkeypatch.setitem(trans_real._translations, "xx", Pseudo())
    with translation.override("xx"):
        yield


@pytest.mark.django_db
def test_a_refused_amount_is_one_translated_sentence_with_its_name_translated(pseudo, account):
    bad = order_data("2")
    bad.lines.append(LineData(sku="BIG", quantity=1, unit_price=Decimal("NaN")))
    with pytest.raises(IngestionError) as error:
        record_orders(account, [bad])
    assert str(error.value) == "[Order 2: [the unit price] of line 2 (BIG) is not a number (NaN).]"


@pytest.mark.django_db
def test_a_refused_channel_is_translated(pseudo, account):
    with pytest.raises(IngestionError) as error:
        record_orders(account, [order_data("3", channel="myspace")])
    assert str(error.value).startswith("[Order 3: channel 'myspace' is not one of ")


def test_an_overflow_names_the_order_or_the_customer_in_a_sentence_of_its_own(pseudo):
    result = IngestionResult(named_by={7: "A1"})
    by_order = result.overflow_error(StatisticsOverflow(7, "amount_spent", 10**13))
    by_customer = result.overflow_error(StatisticsOverflow(8, "units", 2**40))
    assert str(by_order).startswith("[Order A1: the customer's [amount spent] would be 10000000000000, more than")
    assert str(by_customer).startswith("[Customer #8: the [units] would be 1099511627776, more than can be stored;")


def test_an_import_error_names_its_row_and_counts_the_others_in_the_plural_form(pseudo):
    errors = [{"row": 3, "message": "boom"}, {"row": 4, "message": "bang"}]
    assert str(ImportFileError("boom", 3)) == "[Row 3: boom]"
    assert str(ImportFileError("boom", 3, errors=errors)) == "[[Row 3: boom] (and 1 more error)]"
    assert str(ImportFileError("boom", 3, errors=errors, errors_total=5)) == "[[Row 3: boom] (and 4 more errors)]"


def test_an_import_error_reads_as_before_in_english():
    error = ImportFileError("boom", 3, errors=[{"row": 3, "message": "boom"}], errors_total=3)
    assert str(error) == "Row 3: boom (and 2 more errors)"


def test_the_online_retail_warnings_take_the_plural_form_of_their_count(pseudo):
    header = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    rows = [
        # Days above 12: dates that tell their order (no warning about it).
        ("1", "MUG", "Mug", "3", "1/15/2011 9:00", "2.50", "7"),
        ("2", "MUG", "Mug", "-1", "1/15/2011 9:00", "2.50", "7"),  # a stock adjustment, skipped
        ("C3", "MUG", "Mug", "-1", "1/16/2011 9:00", "2.50", "7"),
    ]
    cells = [(number, dict(zip(header, row, strict=True))) for number, row in enumerate(rows, 2)]
    table = Table(headers=header, rows=cells)
    report = ImportReport()
    OnlineRetailFormat().parse(table, report)
    assert report.warnings == [
        "[1 row with a zero or negative quantity outside a C invoice skipped (stock adjustment).]",
        "[1 cancellation invoice. Units returned on earlier purchases in the file: 1; returned orders made of units "
        "with no earlier purchase in the file: 0.]",
    ]


@pytest.mark.django_db
def test_the_column_picker_hands_its_translated_announcement_to_the_controller(pseudo):
    html = render_to_string("wagtail_customers/listing/_column_picker_form.html", {"column_picker_rows": []})
    assert 'data-wc-column-picker-announcement-value="[%(label)s: %(position)s of %(count)s]"' in html


@pytest.mark.django_db
def test_the_column_picker_announcement_in_english():
    with translation.override("en"):
        html = render_to_string("wagtail_customers/listing/_column_picker_form.html", {"column_picker_rows": []})
    assert 'data-wc-column-picker-announcement-value="%(label)s: %(position)s of %(count)s"' in html
