"""The listing's table columns: Wagtail ``Column`` objects built from the user's column view.

Nothing here queries the database per row: rows come with their seller account and watchlist
entry (``select_related``), and what the user may do per account is worked out once per page.
Each column builds its cells' HTML in Python (``cells.py``) rather than rendering a template per cell; the
templates named in ``cell_template_name`` give the same markup (tests/test_listing_cells.py compares them).
``BuiltRowsTable`` (the listing's ``CustomerTable``, the customer page's orders table) joins them into the body's rows
in one pass (tests/test_listing_rows.py and tests/test_customer_orders_table.py compare the body with Wagtail's
template); the name column (``name_column.py``) builds its cell once per page for each row state.
"""

from datetime import datetime

from django.conf import settings
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone
from wagtail.admin.ui.tables import (
    BulkActionsCheckboxColumn,
    Column,
    DateColumn,
    StatusTagColumn,
    Table,
)

from ...countries import country_name
from ...insight.display import FIGURE_ACCESSORS, INSIGHT_TEXTS, score_of
from ...money import format_money
from ...services.personal_data import PERSONAL_SORTS, is_hidden
from ...stack_room import call_with_stack_room
from . import cells
from .headers import BuiltHeaderMixin
from .name_column import CustomerNameColumn

NUMBER_COLUMNS = {"orders_count", "units", "promo_codes_used", "negative_feedbacks", "returned_units"}
MONEY_COLUMNS = {"amount_spent", "discount_total"}
DATE_COLUMNS = {"last_order_at"}
#: Amounts that are averages or predictions: no "incomplete" mark (they are over the converted orders only).
FIGURE_MONEY_COLUMNS = {"average_order_value", "expected_spend"}


class BuiltRowsTable(Table):
    """Wagtail's table with its body's rows built in one Python pass: each row is Wagtail's ``<tr>`` (its
    ``get_row_attrs``) around each column's ``render_cell_html``, as ``wagtailadmin/tables/table.html`` does
    with a ``{% component %}`` per cell (about a fifth of the table's time at 100 rows). The caption and
    header stay in the template (``wagtail_customers/listing/table.html``). Any Wagtail column works; one that
    builds its cell in Python (``cells.py``) saves the cell template's render too."""

    template_name = "wagtail_customers/listing/table.html"

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["rows_html"] = self.rows_html(context["request"])
        return context

    def rows_html(self, request):
        # Hundreds of cell calls: from where a stack chunk boundary cannot make each one map a chunk anew.
        return call_with_stack_room(self.build_rows_html, request)

    def build_rows_html(self, request):
        columns = list(self.columns.values())
        parts = []
        for row in self.rows:
            # What a cell's column reads from the template's context there (``Column.get_cell_context_data``).
            cell_context = {"table": self, "row": row, "request": request}
            attrs = row.attrs
            parts.append(cells.html_format("<tr{}>", cells.attrs_html(attrs)) if attrs else "<tr>")
            # As ``{% component %}`` does: a cell not marked safe is escaped.
            parts.extend(cells.escaped(column.render_cell_html(row.instance, cell_context)) for column in columns)
            parts.append("</tr>")
        return mark_safe("".join(parts))  # noqa: S308 - each part is escaped or built with html_format


class CustomerTable(BuiltRowsTable):
    """The listing's table."""


class FieldValueMixin:
    """Wagtail's ``Column.get_value`` for an object that is no mapping, without an exception per cell.

    Wagtail's ``multigetattr`` tries ``instance[name]`` before ``instance.name``, and a model instance answers
    the first with a ``TypeError``: about a microsecond a cell, a few hundred cells a page. Here each step of
    the accessor is an attribute read where the object has no ``__getitem__``; a step that is missing, is
    callable or meets a mapping goes through Wagtail's own lookup from the start, so the value is the same."""

    def get_value(self, instance):
        accessor = self.accessor
        if callable(accessor):
            return super().get_value(instance)
        current = instance
        for name in accessor.split("."):
            if hasattr(type(current), "__getitem__"):
                return super().get_value(instance)
            try:
                current = getattr(current, name)
            except (AttributeError, TypeError):  # what Wagtail's lookup turns into None or raises, as it does
                return super().get_value(instance)
            if callable(current):
                return super().get_value(instance)
        return current


class TextColumn(BuiltHeaderMixin, FieldValueMixin, Column):
    """A value as text (Wagtail's ``cell.html``)."""

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value.__class__ is str and value.strip():
            # What ``Column.get_cell_context_data`` and ``plain_cell_html`` make of text, without the context: the
            # text escaped. Blank text and anything else take that way (``empty_value_display``, numbers).
            return cells.td_html(self.classname, value)
        return cells.plain_cell_html(self.get_cell_context_data(instance, parent_context))


class LastOrderColumn(BuiltHeaderMixin, FieldValueMixin, DateColumn):
    """A date as "3 days ago" with the full date as a tooltip (Wagtail's ``date_cell.html``)."""

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value.__class__ is datetime:
            # ``date_cell_html`` of the context, which holds the date itself; the page's time zone read once.
            return cells.td_html(self.classname, cells.human_readable_date_html(value, self.local_time))
        return cells.date_cell_html(self.get_cell_context_data(instance, parent_context))

    @cached_property
    def local_time(self):
        """``template_localtime`` for a ``datetime``, with the time zone looked up once per page (a column
        lives for one request)."""
        return cells.local_time_in(get_current_timezone() if settings.USE_TZ else None)


class StatusColumn(BuiltHeaderMixin, StatusTagColumn):
    """A status as Wagtail's tag (``status_tag_cell.html``), filled when ``primary`` says so."""

    def render_cell_html(self, instance, parent_context):
        return cells.status_tag_cell_html(self.get_cell_context_data(instance, parent_context))


class CheckboxColumn(BulkActionsCheckboxColumn):
    """The bulk actions' row checkbox (Wagtail's ``listing_checkbox_cell.html``)."""

    def render_cell_html(self, instance, parent_context):
        # The two values ``checkbox_cell_html`` reads from ``get_cell_context_data``, without the rest.
        return cells.checkbox_cell_html({"instance": instance, "aria_describedby": self.get_aria_describedby(instance)})


class NumberColumn(TextColumn):
    """A count with thousands separators (Wagtail 7.0 has no ``NumberColumn`` of its own)."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        raw = self.get_value(instance)
        context["value"] = "" if raw is None else number_format(raw, force_grouping=True)
        return context

    def render_cell_html(self, instance, parent_context):
        # What the context above gives through ``plain_cell_html``, without building the context per cell.
        return cells.number_cell_html(self.classname, self.get_value(instance))


class MoneyColumn(BuiltHeaderMixin, FieldValueMixin, Column):
    """An amount in the customer's seller-account currency, in the user's language (``1.234,50 €``), marked
    incomplete while some of the customer's orders have no exchange rate into that currency (never a silent
    0 for them)."""

    cell_template_name = "wagtail_customers/listing/money_cell.html"

    def get_value(self, instance):
        amount = super().get_value(instance)
        if amount is None:
            return None
        return format_money(amount, instance.account.currency)

    def unconverted_orders(self, instance):
        return instance.unconverted_orders

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["unconverted_orders"] = self.unconverted_orders(instance)
        return context

    def render_cell_html(self, instance, parent_context):
        text = self.get_value(instance)
        if text is not None and (text.__class__ is not str or not text.strip()):
            # Blank text or a number (which Wagtail's context unlocalizes): the context's way.
            return cells.money_cell_html(self.get_cell_context_data(instance, parent_context))
        # What ``Column.get_cell_context_data`` gives ``money_cell_html`` for an amount's text, without the rest.
        return cells.money_cell_html(
            {"value": text, "unconverted_orders": self.unconverted_orders(instance), "column": self}
        )


class FigureMoneyColumn(MoneyColumn):
    """An average or a predicted amount: over the orders whose money is known, so never marked incomplete."""

    def unconverted_orders(self, instance):
        return 0


class InsightTextColumn(TextColumn):
    """A figure from the customer's scores or statistics, as text (``insight_cells``)."""

    def __init__(self, name, *, text_of, **kwargs):
        self.text_of = text_of
        super().__init__(name, **kwargs)

    def get_value(self, instance):
        return self.text_of(instance)


class NotScoredMixin:
    """A column read from the customer's scores (``CustomerScore``): "Not scored yet", muted, for a customer the
    daily refresh has not scored, as the customer page says, rather than an empty cell (an export's cell stays
    empty). The customer's score came with the row (``select_related``): no query."""

    cell_template_name = "wagtail_customers/listing/not_scored_cell.html"

    @property
    def scored_cell_template_name(self):
        """The cell template of a scored customer's cell: the column's own."""
        return super().cell_template_name

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["not_scored"] = score_of(instance) is None
        context["scored_cell_template_name"] = self.scored_cell_template_name
        return context

    def render_cell_html(self, instance, parent_context):
        if score_of(instance) is None:
            return cells.not_scored_cell_html(self.classname)
        return self.render_scored_cell_html(instance, parent_context)

    def render_scored_cell_html(self, instance, parent_context):
        return super().render_cell_html(instance, parent_context)


class ScoreTextColumn(NotScoredMixin, InsightTextColumn):
    """A score or a prediction as text (the RFM score, expected orders, probability active)."""


class ScoreMoneyColumn(NotScoredMixin, FigureMoneyColumn):
    """A predicted amount (expected spend)."""


class RfmGroupColumn(NotScoredMixin, BuiltHeaderMixin, Column):
    """The RFM group as a status tag (Wagtail's ``w-status``); "Not scored yet" until the customer is scored."""

    def render_scored_cell_html(self, instance, parent_context):
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
    # The columns read from the scores say when the customer is not scored yet.
    scored = customer_column.is_insight
    if name in FIGURE_MONEY_COLUMNS:
        column_class = ScoreMoneyColumn if scored else FigureMoneyColumn
        return column_class(name, accessor=FIGURE_ACCESSORS[name], **options)
    if name == "rfm_group":
        return RfmGroupColumn(name, **options)
    if name in INSIGHT_TEXTS:
        column_class = ScoreTextColumn if scored else InsightTextColumn
        return column_class(name, text_of=INSIGHT_TEXTS[name](), **options)
    return TextColumn(name, **options)


def table_columns(customer_columns, context, *, with_checkboxes):
    columns = [table_column(column, context) for column in customer_columns]
    if with_checkboxes:
        columns.insert(0, CheckboxColumn("bulk_actions", obj_type="customer"))
    return columns
