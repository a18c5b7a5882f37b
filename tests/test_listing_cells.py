"""The listing's cells built in Python (views/listing/cells.py) give the markup their templates give.

Each table is rendered twice from the same rows: once as the listing renders it, once with every column
rendering its cell through its ``cell_template_name`` as Wagtail's ``Column.render_cell_html`` does (the
plugin's ``name_cell.html`` and ``money_cell.html``, Wagtail's ``cell.html``, ``date_cell.html`` and
``listing_checkbox_cell.html``). The two must be the same HTML (Django's HTML comparison: same elements,
attributes and text, whitespace aside). This runs on Wagtail 8 and, at the floors, on Wagtail 7.0.
"""

import re
from functools import partial

import pytest
from django.test import RequestFactory
from django.test.html import parse_html
from django.utils import translation
from django.utils.safestring import SafeString
from wagtail.admin.ui.tables import BaseColumn, Table

from tests.listing_support import customer
from wagtail_customers.columns import COLUMNS
from wagtail_customers.models import Customer, WatchlistEntry
from wagtail_customers.services.personal_data import HiddenValue
from wagtail_customers.views.listing.table import table_columns

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(account, other_account, superuser):
    """Customers covering each kind of cell: watched or not, odd names, hidden and missing values."""
    ada = customer(account, "A1", name="Ada Lovelace", email="ada@example.com", lines=((3, "1234.50"),))
    odd = customer(other_account, "B1", name='<b>O\'Brien & "Co"</b>', email="ob@example.com", city="Zürich")
    blank = customer(account, "C1", name="", email="blank@example.com", city="")
    WatchlistEntry.objects.create(customer=ada, added_by=superuser)
    # Counts in the thousands and millions: grouped by each language's separator (NumberColumn).
    Customer.objects.filter(pk=odd.pk).update(unconverted_orders=2, units=1234567, returned_units=1000)
    account.name = "Shop <One> & Co"
    account.save()
    customers = list(Customer.objects.select_related("account", "watchlist_entry").order_by("pk"))
    # As the listing shows a customer whose personal data the user may not see, and one never ordered.
    customers[2].address_line1 = HiddenValue()
    customers[2].email = HiddenValue()
    customers[2].last_order_at = None
    assert [c.pk for c in customers] == [ada.pk, odd.pk, blank.pk]
    return customers


def listing_context(request, account_ids):
    ids = set(account_ids)
    return {
        "manage_account_ids": ids,
        "delete_account_ids": ids,
        "erase_account_ids": ids,
        "request": request,
        "next_url": "/admin/customers/?q=a&p=2",
    }


def render_table(columns, customers, request):
    return Table(columns, customers).render_html({"request": request})


def by_templates(columns):
    """The same columns, each rendering its cells through its cell template (Wagtail's own path)."""
    for column in columns:
        column.render_cell_html = partial(BaseColumn.render_cell_html, column)
    return columns


def without_csrf_values(html):
    # Each ``get_token`` call masks the CSRF secret afresh, so two renders never share the value.
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+"', r'\1…"', str(html))


def assert_same_html(built, templated):
    built, templated = without_csrf_values(built), without_csrf_values(templated)
    built_cells, templated_cells = built.split("<td")[1:], templated.split("<td")[1:]
    assert len(built_cells) == len(templated_cells)
    for built_cell, templated_cell in zip(built_cells, templated_cells, strict=True):
        built_cell, templated_cell = "<td" + built_cell.split("</td>")[0], "<td" + templated_cell.split("</td>")[0]
        assert parse_html(built_cell + "</td>") == parse_html(templated_cell + "</td>"), (
            f"built:\n{built_cell}\n\ntemplated:\n{templated_cell}"
        )
    assert parse_html(built) == parse_html(templated)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("may_act", [True, False], ids=["may-act", "may-only-view"])
def test_every_column_renders_what_its_template_renders(rows, superuser, account, other_account, language, may_act):
    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    context = listing_context(request, [account.pk, other_account.pk] if may_act else [])
    with translation.override(language):
        built = render_table(table_columns(COLUMNS, context, with_checkboxes=True), rows, request)
        templated = render_table(by_templates(table_columns(COLUMNS, context, with_checkboxes=True)), rows, request)
    assert_same_html(built, templated)
    # The cells really are in the page, with what the tests and the scripts look for.
    assert built.count('class="bulk-action-checkbox"') == 3
    assert f'<span id="customer_{rows[0].pk}_title">Ada Lovelace</span>' in built
    assert "&lt;b&gt;O&#x27;Brien &amp; &quot;Co&quot;&lt;/b&gt;" in built
    assert ("wc-watch" in built) is may_act and "wc-eye--on" in built
    assert built.count("data-wc-incomplete") == 2  # amount spent and discount received of the one customer
    assert "wc-hidden-value" in built


def test_dates_are_in_the_current_time_zone_as_the_template_gives_them(rows, superuser, account):
    """The date column reads the page's time zone once (``LastOrderColumn.local_time``); a zone away from UTC by
    a part of an hour, and one changed between two pages, give what the template gives."""
    from django.utils import timezone

    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    context = listing_context(request, [account.pk])
    for zone in ("America/St_Johns", "Asia/Kathmandu"):
        with timezone.override(zone):
            built = render_table(table_columns(COLUMNS, context, with_checkboxes=True), rows, request)
            templated = render_table(by_templates(table_columns(COLUMNS, context, with_checkboxes=True)), rows, request)
            local = timezone.localtime(rows[0].last_order_at)
        assert_same_html(built, templated)
        assert f'datetime="{local.isoformat()}"' in built, zone


def test_a_value_is_read_as_wagtails_column_reads_it(rows):
    """``FieldValueMixin.get_value``: an attribute, a dotted path, a method (called), a mapping, a missing name and
    a callable accessor give what Wagtail's ``Column.get_value`` gives."""
    from wagtail.admin.ui.tables import Column

    from wagtail_customers.views.listing.table import TextColumn

    ada = rows[0]
    accessors = ["name", "account.name", "account.currency", "__str__", "nothing", "account.nothing"]
    accessors += ["pk", "account.pk", lambda customer: getattr(customer, "city", "?")]
    for accessor in accessors:
        for instance in (ada, {"name": "From a mapping", "account": {"name": "Shop"}}):
            ours = TextColumn("x", accessor=accessor).get_value(instance)
            assert ours == Column("x", accessor=accessor).get_value(instance), accessor


def test_a_cells_opening_tag_is_kept_by_its_exact_text():
    """``td_html`` keeps the opening tag for a plain ``str`` class name only: a safe string with the same text, a
    number equal to True, or a list write their own, as ``html_format`` writes them."""
    from django.utils.safestring import mark_safe

    from wagtail_customers.views.listing.cells import html_format, td_html

    for first, second in (("x&amp;y", mark_safe("x&amp;y")), (1, True), ("a", ["a"]), ("", None)):
        for classname in (first, second):
            expected = html_format('<td class="{}">{}</td>', classname, "v") if classname else "<td>v</td>"
            assert td_html(classname, "v") == expected, classname


#: What a cell's column reads from the table's context, for a cell rendered alone.
CELL_CONTEXT = {"row": None, "table": None}


def test_blank_text_and_numbers_take_wagtails_context():
    """A blank value shows the column's ``empty_value_display`` (None too), and a number in an amount's column is
    unlocalized, as Wagtail's cell context gives them."""
    from django.test import override_settings

    from wagtail_customers.views.listing.table import MoneyColumn, TextColumn

    class Row:
        pk, unconverted_orders = 1, 0

    class NumberMoney(MoneyColumn):
        def get_value(self, instance):
            return 1234567

    for display in ("–", None, ""):
        for blank in ("", " ", "\xa0"):
            column = TextColumn("x", accessor=lambda row, blank=blank: blank)
            column.empty_value_display = display
            built = column.render_cell_html(Row(), CELL_CONTEXT)
            assert parse_html(built) == parse_html(BaseColumn.render_cell_html(column, Row(), CELL_CONTEXT)), built
    with override_settings(USE_THOUSAND_SEPARATOR=True), translation.override("de"):
        column = NumberMoney("amount_spent")
        assert "1234567" in column.render_cell_html(Row(), CELL_CONTEXT)
        templated = BaseColumn.render_cell_html(column, Row(), CELL_CONTEXT)
        assert parse_html(column.render_cell_html(Row(), CELL_CONTEXT)) == parse_html(templated)


def test_a_lookup_that_raises_type_error_reads_as_wagtails_does():
    from wagtail.admin.ui.tables import Column

    from wagtail_customers.views.listing.table import TextColumn

    class Odd:
        def __getattr__(self, name):
            raise TypeError(name)

    assert TextColumn("dyn").get_value(Odd()) is None is Column("dyn").get_value(Odd())


def link_text_ends(html):
    """Whether a link's text starts and ends with whitespace (None without a link)."""
    match = re.search(r"<a [^>]*>(\s*)(.*?)(\s*)</a>", str(html), re.S)
    return match and (bool(match.group(1)), bool(match.group(3)))


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_header_renders_what_wagtails_template_renders(rows, superuser, account, language):
    """Each column's header (``headers.column_header_html``) against Wagtail's ``column_header.html``: sorted by
    it either way or by another column, a column that does not sort, the page number dropped from the links and
    the other parameters kept (escaped), a label and a base URL that need escaping."""
    from django.utils.safestring import SafeString

    from wagtail_customers.views.listing.table import CustomerTable

    request = RequestFactory().get("/admin/customers/", {"q": "a&b", "p": "3", "per_page": "10", "ordering": "x"})
    request.user = superuser
    context = listing_context(request, [account.pk])
    columns = table_columns(COLUMNS, {**context, "sorts_personal": False}, with_checkboxes=True)
    columns[3].label = '<i>"Odd" & label</i>'
    sort_keys = [column.sort_key for column in columns if column.sort_key]
    assert len(sort_keys) >= 10 and len(sort_keys) < len(columns)  # personal columns do not sort here
    with translation.override(language):
        for ordering in (None, sort_keys[0], f"-{sort_keys[0]}", sort_keys[-1], f"-{sort_keys[-1]}"):
            for base_url in ("/admin/customers/", "/admin/x?<y>", None):
                table = CustomerTable(columns, rows, ordering=ordering, base_url=base_url)
                header_context = {"table": table, "request": request}
                for column in columns:
                    built = column.render_header_html(header_context)
                    templated = BaseColumn.render_header_html(column, header_context)
                    assert isinstance(built, SafeString)
                    # Wagtail's header, plus the order of the sorted column only for screen readers.
                    sort = {column.sort_key: "ascending", f"-{column.sort_key}": "descending"}.get(ordering)
                    assert re.findall(r'aria-sort="(\w+)"', built) == ([sort] if column.sort_key and sort else [])
                    built = built.replace(f' aria-sort="{sort}"', "")
                    assert parse_html(built) == parse_html(templated), f"built:\n{built}\n\ntemplated:\n{templated}"
                    # The comparison above drops the whitespace at an element's ends; the space after a sort link's
                    # label shows (Wagtail's arrow is drawn after the link's text).
                    assert link_text_ends(built) == link_text_ends(templated), built


def test_each_cell_is_safe_html(rows, superuser, account):
    """Wagtail's ``{% component %}`` escapes a cell that is not marked safe; every built cell is."""
    request = RequestFactory().get("/admin/customers/")
    request.user = superuser
    columns = table_columns(COLUMNS, listing_context(request, [account.pk]), with_checkboxes=True)
    table = Table(columns, rows)
    for row in table.rows:
        for column in columns:
            html = column.render_cell_html(row.instance, {"table": table, "row": row, "request": request})
            assert isinstance(html, SafeString), column.name
            assert html.startswith("<td") and html.endswith("</td>"), column.name


# Arabic and Chinese join two units with "، " and "，", not a comma: Wagtail then keeps both.
@pytest.mark.parametrize("language", ["en", "de", "fr", "ja", "ar", "zh-hans"])
def test_the_time_since_text_is_wagtails_for_every_unit(language):
    from datetime import timedelta

    from django.utils import timezone
    from wagtail.admin.templatetags.wagtailadmin_tags import timesince_simple

    from wagtail_customers.views.listing.cells import time_since_text

    now = timezone.now()
    ages = [timedelta(0), timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=59), timedelta(hours=1)]
    ages += [timedelta(hours=23, minutes=59), timedelta(days=1), timedelta(days=8), timedelta(days=40)]
    ages += [timedelta(days=365), timedelta(days=800), -timedelta(days=2)]
    with translation.override(language):
        for age in ages:
            # Twice: the second reads the texts kept from the first.
            for _ in range(2):
                assert time_since_text(now - age) == timesince_simple(now - age), (language, age)


NUMBERS = [0, 1, -1, 999, 1000, -1000, 12345, 1234567, -9876543210, 10**15, 2.5, None]


def test_a_count_is_grouped_as_number_format_groups_it_in_every_language(settings):
    from django.utils.formats import number_format

    from wagtail_customers.views.listing.cells import grouped_number

    # Every language Django knows (threes with ",", ".", a space, a no-break space, "'"; India's 3, 2, 0).
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for number in NUMBERS[:-1]:
                assert grouped_number(number) == number_format(number, force_grouping=True), (language, number)


def test_the_grouping_follows_a_changed_setting(settings):
    from django.utils.formats import number_format

    from wagtail_customers.views.listing.cells import grouped_number

    # Asturian has no format module of its own: the settings' grouping applies, and the kept one is forgotten.
    with translation.override("ast"):
        assert grouped_number(1234567) == number_format(1234567, force_grouping=True)
        settings.NUMBER_GROUPING, settings.THOUSAND_SEPARATOR = 2, "_"
        assert grouped_number(1234567) == number_format(1234567, force_grouping=True) == "1_23_45_67"
        settings.NUMBER_GROUPING = 3
        assert grouped_number(1234567) == "1_234_567"
