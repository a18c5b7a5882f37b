"""The listing's table columns: Wagtail ``Column`` objects built from the user's column view.

Nothing here queries the database per row: rows come with their seller account and watchlist
entry (``select_related``), and what the user may do per account is worked out once per page.
Each column builds its cells' HTML in Python (``cells.py``) rather than rendering a template per cell; the
templates named in ``cell_template_name`` give the same markup (tests/test_listing_cells.py compares them).
``CustomerTable`` joins them into the body's rows in one pass (tests/test_listing_rows.py compares the body with
Wagtail's template), and the name column builds its row URLs from one ``reverse()`` per page.
"""

from urllib.parse import urlencode

from django.contrib.admin.utils import quote
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from wagtail.admin.ui.tables import (
    BulkActionsCheckboxColumn,
    ButtonsColumnMixin,
    Column,
    DateColumn,
    Table,
    TitleColumn,
)
from wagtail.admin.widgets.button import Button, ButtonWithDropdown

from ...countries import country_name
from ...insight.display import FIGURE_ACCESSORS, INSIGHT_TEXTS, score_of
from ...money import format_money
from ...services.personal_data import PERSONAL_SORTS, is_hidden
from . import cells

NUMBER_COLUMNS = {"orders_count", "units", "promo_codes_used", "negative_feedbacks", "returned_units"}
MONEY_COLUMNS = {"amount_spent", "discount_total"}
DATE_COLUMNS = {"last_order_at"}
#: Amounts that are averages or predictions: no "incomplete" mark (they are over the converted orders only).
FIGURE_MONEY_COLUMNS = {"average_order_value", "expected_spend"}


#: A customer id no real row has, standing for the id in a URL reversed once per page (``RowUrl``).
URL_ID_PLACEHOLDER = 987_654_321_012_345
#: A title no customer has, standing for the customer's name in a row menu built once per page; letters
#: and digits only, so escaping leaves it as it is.
MENU_TITLE_PLACEHOLDER = "wcRowTitle4f1c9a7e2b"


class RowUrl:
    """``reverse(url_name, args=(pk,))`` for each row from one ``reverse()`` per page: the URL is reversed with a
    placeholder id once and the row's id put in its place. Only for a non-negative integer id, which ``reverse``
    writes as its digits unquoted (so the URL is the same string); any other id goes through ``reverse``."""

    def __init__(self, url_name):
        self.url_name = url_name
        placeholder = str(URL_ID_PLACEHOLDER)
        url = reverse(url_name, args=(URL_ID_PLACEHOLDER,))
        self.parts = url.split(placeholder) if url.count(placeholder) == 1 else None

    def __call__(self, pk):
        if self.parts is None or type(pk) is not int or pk < 0:
            return reverse(self.url_name, args=(pk,))
        return f"{self.parts[0]}{pk}{self.parts[1]}"


class CustomerTable(Table):
    """Wagtail's table with its body's rows built in one Python pass: each row is Wagtail's ``<tr>`` (its
    ``get_row_attrs``) around each column's ``render_cell_html``, as ``wagtailadmin/tables/table.html`` does
    with a ``{% component %}`` per cell (about a fifth of the table's time at 100 rows). The caption and
    header stay in the template (``wagtail_customers/listing/table.html``)."""

    template_name = "wagtail_customers/listing/table.html"

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["rows_html"] = self.rows_html(context["request"])
        return context

    def rows_html(self, request):
        columns = list(self.columns.values())
        parts = []
        for row in self.rows:
            # What a cell's column reads from the template's context there (``Column.get_cell_context_data``).
            cell_context = {"table": self, "row": row, "request": request}
            parts.append(cells.html_format("<tr{}>", cells.attrs_html(row.attrs)))
            # As ``{% component %}`` does: a cell not marked safe is escaped.
            parts.extend(cells.escaped(column.render_cell_html(row.instance, cell_context)) for column in columns)
            parts.append("</tr>")
        return mark_safe("".join(parts))  # noqa: S308 - each part is escaped or built with html_format


def is_watched(customer):
    # With select_related("watchlist_entry") a missing entry is cached: no query either way.
    return hasattr(customer, "watchlist_entry")


class TextColumn(Column):
    """A value as text (Wagtail's ``cell.html``)."""

    def render_cell_html(self, instance, parent_context):
        return cells.plain_cell_html(self.get_cell_context_data(instance, parent_context))


class LastOrderColumn(DateColumn):
    """A date as "3 days ago" with the full date as a tooltip (Wagtail's ``date_cell.html``)."""

    def render_cell_html(self, instance, parent_context):
        return cells.date_cell_html(self.get_cell_context_data(instance, parent_context))


class CheckboxColumn(BulkActionsCheckboxColumn):
    """The bulk actions' row checkbox (Wagtail's ``listing_checkbox_cell.html``)."""

    def render_cell_html(self, instance, parent_context):
        return cells.checkbox_cell_html(self.get_cell_context_data(instance, parent_context))


class NumberColumn(TextColumn):
    """A count with thousands separators (Wagtail 7.0 has no ``NumberColumn`` of its own)."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        raw = self.get_value(instance)
        context["value"] = "" if raw is None else number_format(raw, force_grouping=True)
        return context


class MoneyColumn(Column):
    """An amount in the customer's seller-account currency, in the user's language (``1.234,50 €``), marked
    incomplete while some of the customer's orders have no exchange rate into that currency (never a silent
    0 for them)."""

    cell_template_name = "wagtail_customers/listing/money_cell.html"

    def get_value(self, instance):
        amount = super().get_value(instance)
        if amount is None:
            return None
        return format_money(amount, instance.account.currency)

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["unconverted_orders"] = instance.unconverted_orders
        return context

    def render_cell_html(self, instance, parent_context):
        return cells.money_cell_html(self.get_cell_context_data(instance, parent_context))


class FigureMoneyColumn(MoneyColumn):
    """An average or a predicted amount: over the orders whose money is known, so never marked incomplete."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["unconverted_orders"] = 0
        return context


class InsightTextColumn(TextColumn):
    """A figure from the customer's scores or statistics, as text (``insight_cells``)."""

    def __init__(self, name, *, text_of, **kwargs):
        self.text_of = text_of
        super().__init__(name, **kwargs)

    def get_value(self, instance):
        return self.text_of(instance)


class RfmGroupColumn(Column):
    """The RFM group as a status tag (Wagtail's ``w-status``), empty until the customer is scored."""

    def render_cell_html(self, instance, parent_context):
        return cells.rfm_group_cell_html(self.get_cell_context_data(instance, parent_context))

    def get_value(self, instance):
        score = score_of(instance)
        return (score.rfm_group, score.get_rfm_group_display()) if score else None


class CountryColumn(TextColumn):
    """The country's name in the user's language; it sorts by the stored code."""

    def get_value(self, instance):
        return country_name(instance.country)


class AddressColumn(TextColumn):
    def get_value(self, instance):
        parts = [part for part in (instance.address_line1, instance.address_line2) if part]
        # A masked address (services/personal_data.py) is one "hidden" value, not two joined as plain text.
        hidden = next((part for part in parts if is_hidden(part)), None)
        return hidden if hidden is not None else ", ".join(parts)


class CustomerNameColumn(ButtonsColumnMixin, TitleColumn):
    """The customer's name linking to the customer page, with the watchlist eye on its left and a
    "..." menu (view, erase personal data, delete) on its right."""

    cell_template_name = "wagtail_customers/listing/name_cell.html"

    def __init__(self, *, label, sort_key, context):
        #: Per-page facts: ``manage_account_ids``, ``delete_account_ids``, ``erase_account_ids``, ``request``,
        #: ``next_url``.
        self.context = context
        super().__init__(
            "name",
            label=label,
            sort_key=sort_key,
            accessor=str,
            get_url=lambda customer: self.row_urls["detail"](customer.pk),
            get_title_id=lambda customer: f"customer_{quote(customer.pk)}_title",
            # Sticky while the table scrolls sideways (listing.css).
            classname="wc-name-column",
        )

    @cached_property
    def row_urls(self):
        """Per page (a column is made for each page): each row link's URL from one ``reverse()``."""
        return {
            "detail": RowUrl("wagtail_customers_customer:detail"),
            "watchlist_toggle": RowUrl("wagtail_customers:watchlist_toggle"),
            "erase": RowUrl("wagtail_customers:erase"),
            "delete": RowUrl("wagtail_customers:delete"),
        }

    @cached_property
    def csrf_token(self):
        # One per page, as ``{% csrf_token %}`` gives one per template render (each call masks the secret anew).
        return get_token(self.context["request"])

    @cached_property
    def labels(self):
        # Translated once per page, not for each row's menu.
        return {"view": _("View customer"), "erase": _("Erase personal data"), "delete": _("Delete")}

    @cached_property
    def next_query(self):
        # A query string value, URL-encoded (``admin.utils.quote`` is for ids in paths, not this).
        return urlencode({"next": self.context["next_url"]})

    def render_cell_html(self, instance, parent_context):
        # The title column's context without the mixin's buttons: the row's menu comes from menu_html.
        context = self.with_row_context(TitleColumn.get_cell_context_data(self, instance, parent_context), instance)
        context["buttons"] = True
        return cells.name_cell_html(context, self.menu_html(instance, parent_context))

    def get_cell_context_data(self, instance, parent_context):
        return self.with_row_context(super().get_cell_context_data(instance, parent_context), instance)

    def with_row_context(self, context, instance):
        watched = is_watched(instance)
        context.update(
            watched=watched,
            can_manage_watchlist=instance.account_id in self.context["manage_account_ids"],
            watchlist_url=self.row_urls["watchlist_toggle"](instance.pk),
            watch_value="0" if watched else "1",
            csrf_token=self.csrf_token,
            next_url=self.context["next_url"],
            customer_label=str(instance),
        )
        return context

    def row_actions(self, instance):
        """Which of the menu's actions the row has: (erase, delete)."""
        erase = instance.account_id in self.context["erase_account_ids"] and instance.erased_at is None
        return erase, instance.account_id in self.context["delete_account_ids"]

    def get_buttons(self, instance, parent_context):
        return self.buttons_for(instance.pk, str(instance), *self.row_actions(instance))

    def buttons_for(self, pk, title, erase, delete):
        more = [Button(self.labels["view"], self.row_urls["detail"](pk), icon_name="user", priority=10)]
        if erase:
            erase_url = self.row_urls["erase"](pk)
            more.append(Button(self.labels["erase"], f"{erase_url}?{self.next_query}", icon_name="user", priority=20))
        if delete:
            delete_url = self.row_urls["delete"](pk)
            more.append(Button(self.labels["delete"], f"{delete_url}?{self.next_query}", icon_name="bin", priority=30))
        return [
            ButtonWithDropdown(
                buttons=more,
                icon_name="dots-horizontal",
                attrs={"aria-label": _("More options for '%(title)s'") % {"title": title}},
            )
        ]

    @cached_property
    def menu_templates(self):
        return {}

    def menu_html(self, instance, parent_context):
        """The row's "..." menu: built once per page for each set of actions, with a placeholder id and title,
        and each row's put in their place (building the buttons and their markup was a third of a row's time).
        An id that is not a non-negative integer, or a menu the placeholders do not split cleanly, is built
        for its row."""
        actions = self.row_actions(instance)
        template = self.menu_templates.get(actions)
        if template is None:
            html = cells.buttons_html(
                self.buttons_for(URL_ID_PLACEHOLDER, MENU_TITLE_PLACEHOLDER, *actions), parent_context
            )
            usable = str(URL_ID_PLACEHOLDER) in html and html.count(MENU_TITLE_PLACEHOLDER) == 1
            template = self.menu_templates[actions] = str(html) if usable else False
        if template is False or type(instance.pk) is not int or instance.pk < 0:
            return cells.buttons_html(self.buttons_for(instance.pk, str(instance), *actions), parent_context)
        html = template.replace(str(URL_ID_PLACEHOLDER), str(instance.pk))
        return mark_safe(html.replace(MENU_TITLE_PLACEHOLDER, str(conditional_escape(str(instance)))))  # noqa: S308


def table_column(customer_column, context):
    """The Wagtail column for one ``columns.CustomerColumn``."""
    name = customer_column.name
    # A personal column is not sortable while some rows are masked (``listing.CustomerListing.ordering``).
    sortable = customer_column.sort_field and (name not in PERSONAL_SORTS or context.get("sorts_personal", True))
    options = {"label": customer_column.label, "sort_key": name if sortable else None}
    if name == "name":
        return CustomerNameColumn(context=context, **options)
    if name in NUMBER_COLUMNS:
        return NumberColumn(name, **options)
    if name in MONEY_COLUMNS:
        return MoneyColumn(name, **options)
    if name in DATE_COLUMNS:
        return LastOrderColumn(name, **options)
    if name == "address":
        return AddressColumn(name, **options)
    if name == "country":
        return CountryColumn(name, **options)
    if name == "account":
        return TextColumn(name, accessor="account.name", **options)
    if name in FIGURE_MONEY_COLUMNS:
        return FigureMoneyColumn(name, accessor=FIGURE_ACCESSORS[name], **options)
    if name == "rfm_group":
        return RfmGroupColumn(name, **options)
    if name in INSIGHT_TEXTS:
        return InsightTextColumn(name, text_of=INSIGHT_TEXTS[name](), **options)
    return TextColumn(name, **options)


def table_columns(customer_columns, context, *, with_checkboxes):
    columns = [table_column(column, context) for column in customer_columns]
    if with_checkboxes:
        columns.insert(0, CheckboxColumn("bulk_actions", obj_type="customer"))
    return columns
