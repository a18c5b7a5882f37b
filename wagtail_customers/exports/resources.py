"""django-import-export resources for the customer exports.

``CustomerResource`` declares one field per customer column (``columns.COLUMNS``) and how each is
rendered. A site swaps in its own subclass with ``WAGTAIL_CUSTOMERS["EXPORT_RESOURCE"]``.

Every amount carries its currency: a file mixes seller accounts kept in different currencies, so a
"Currency" column (the seller account's currency, which the customer's amounts are kept in) follows
the first amount column of every export that has one, in CSV and XLSX alike, and then "Orders without
exchange rate": the customer's orders whose money could not be converted into that currency and is
therefore left out of the amounts (0 when they are complete; docs/concepts/currencies.md). In XLSX each
amount is shown with its currency's decimals (``money_currencies``: whole yen, cents of a dollar), its cell
holding the number as it is.

The streaming writers read rows with ``QuerySet.values()`` (dicts, never a query per row) and render
each row with :meth:`StreamingResourceMixin.row_exporter` (native cells, for XLSX) or ``csv_row_exporter``
(CSV text): the same fields, widgets' conversions and ``dehydrate_<field>`` methods django-import-export's
own ``export_resource`` uses, compiled once per export into one function (``cells.py``). A
``dehydrate_<field>`` method therefore receives a dict of the fetched values (list the keys it reads
in ``row_values``); the resource's standard ``export()`` still works too and passes model instances.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from ..columns import COLUMNS_BY_NAME
from ..conf import get_setting
from ..insight.display import days_since, yes_no_text
from ..models import Customer, Order, OrderStatus, RateSource, RfmGroup
from ..models.accounts import Channel
from ..models.customers import customer_label
from ..models.orders import FulfilmentStatus
from .cells import compile_row, csv_converter, native_converter
from .neutralise import neutralise
from .writers import csv_cell

TEXT = widgets.CharWidget()
INTEGER = widgets.IntegerWidget()
DECIMAL = widgets.DecimalWidget()
DATETIME = widgets.DateTimeWidget()


def value_of(row, key):
    """``row[key]`` for a fetched dict, ``row.key`` (following ``__``) for a model instance."""
    if isinstance(row, dict):
        return row.get(key)
    for part in key.split("__"):
        row = getattr(row, part, None)
        if row is None:
            return None
    return row


class StreamingResourceMixin:
    """Per-row export of ``values()`` dicts for the streaming writers."""

    #: ``values()`` keys each ``dehydrate_<field>`` method reads, by field name.
    row_values = {}
    #: Keys every row carries whatever the columns (the writers track the seller accounts written).
    always_values = ("id", "account_id")
    #: Amount fields, each with the field holding its currency's code: an XLSX file shows the amount with that
    #: currency's decimals (``#,##0`` for JPY, ``#,##0.00`` for USD; ``money_columns``).
    money_currencies = {}

    def export_field_names(self, column_names):
        """The resource fields to export for the user's visible columns, in the user's order.

        Override to add fields of your own (for example ``return [*super()..., "phone"]``)."""
        return [name for name in column_names if name in self.fields]

    def export_headers(self, field_names):
        return [force_str(self.fields[name].column_name) for name in field_names]

    def money_columns(self, field_names):
        """``(amount column, currency column)`` index pairs among ``field_names``: each of ``money_currencies``
        exported with its currency field (an amount without it is shown with two decimals)."""
        index = {name: col for col, name in enumerate(field_names)}
        return tuple(
            (index[amount], index[currency])
            for amount, currency in self.money_currencies.items()
            if amount in index and currency in index
        )

    def values_for(self, field_names):
        """The ``values()`` keys the rows need for these fields."""
        keys = dict.fromkeys(self.always_values)
        for name in field_names:
            field = self.fields[name]
            if name in self.row_values:
                keys.update(dict.fromkeys(self.row_values[name]))
            elif field.attribute:
                keys[field.attribute] = None
        return list(keys)

    def row_exporter(self, field_names):
        """A function ``row -> [cell, ...]`` for the given fields: numbers, dates and text stay native
        (``force_native_type``) so the writers keep numbers as numbers. Compiled once per export
        (``cells.py``): the cells equal the widgets' ``render(value, force_native_type=True)``."""
        return self._compiled_row(field_names, native_converter, lambda method: method, None)

    def csv_row_exporter(self, field_names):
        """A function ``row -> [text, ...]``: each cell as ``writers.csv_cell`` writes the native one
        (numbers as digits, dates without their zone, text through the formula neutraliser)."""
        return self._compiled_row(field_names, csv_converter, _csv_of, "")

    def _compiled_row(self, field_names, converter, wrap_method, empty):
        columns = []
        for name in field_names:
            field = self.fields[name]
            method = field.get_dehydrate_method(name)
            method = method if callable(method) else getattr(self, method, None)
            if method is not None:
                columns.append((None, wrap_method(method)))
            elif field.attribute:
                # Streamed rows are always ``values()`` dicts keyed by the field's attribute.
                columns.append((field.attribute, converter(field.widget)))
            else:
                columns.append((None, lambda row: empty))
        return compile_row(columns)


def _csv_of(method):
    def cell(row):
        value = method(row)
        # Text, what a dehydrate method mostly returns, without csv_cell's lookup by type.
        return neutralise(value) if value.__class__ is str else csv_cell(value)

    return cell


def with_currency_fields(names, money_fields, currency_fields):
    """``names`` with ``currency_fields`` right after the first of ``money_fields`` (unchanged without one)."""
    names = [name for name in names if name not in currency_fields]
    for index, name in enumerate(names):
        if name in money_fields:
            return [*names[: index + 1], *currency_fields, *names[index + 1 :]]
    return names


def _column_field(name, attribute=None, widget=TEXT):
    return fields.Field(attribute=attribute or name, column_name=COLUMNS_BY_NAME[name].label, widget=widget)


class CustomerResource(StreamingResourceMixin, resources.ModelResource):
    """One field per customer column; headings are the columns' translatable labels.

    Amount columns (``money_fields``) bring the ``currency_fields`` along, right after the first of
    them: not columns a user picks, since an amount cannot be read without its currency and without
    knowing whether it is complete."""

    #: Fields holding amounts in the seller account's currency.
    money_fields = ("amount_spent", "discount_total", "average_order_value", "expected_spend")
    #: Fields added after the first amount field whenever an export has one, in this order.
    currency_fields = ("currency", "unconverted_orders")

    name = _column_field("name")
    email = _column_field("email")
    address = fields.Field(column_name=COLUMNS_BY_NAME["address"].label)
    postal_code = _column_field("postal_code")
    city = _column_field("city")
    state = _column_field("state")
    country = _column_field("country")
    orders_count = _column_field("orders_count", widget=INTEGER)
    units = _column_field("units", widget=INTEGER)
    amount_spent = _column_field("amount_spent", widget=DECIMAL)
    discount_total = _column_field("discount_total", widget=DECIMAL)
    promo_codes_used = _column_field("promo_codes_used", widget=INTEGER)
    negative_feedbacks = _column_field("negative_feedbacks", widget=INTEGER)
    returned_units = _column_field("returned_units", widget=INTEGER)
    account = _column_field("account", attribute="account__name")
    last_order_at = _column_field("last_order_at", widget=DATETIME)
    # Buyer insight (docs/concepts/buyer-insight.md); the scores are empty until a refresh scores the customer.
    average_order_value = _column_field("average_order_value", widget=DECIMAL)
    repeat_buyer = _column_field("repeat_buyer", attribute="orders_count")
    days_since_last_order = _column_field("days_since_last_order", attribute="last_order_at", widget=INTEGER)
    return_rate = fields.Field(attribute="return_rate", column_name=_("Return rate (%)"), widget=DECIMAL)
    rfm_group = _column_field("rfm_group", attribute="score__rfm_group")
    rfm_score = _column_field("rfm_score", attribute="score__rfm_code", widget=INTEGER)
    expected_orders = _column_field("expected_orders", attribute="score__expected_orders", widget=DECIMAL)
    expected_spend = _column_field("expected_spend", attribute="score__expected_spend", widget=DECIMAL)
    probability_active = fields.Field(
        attribute="score__probability_active", column_name=_("Probability active (%)"), widget=DECIMAL
    )
    currency = fields.Field(attribute="account__currency", column_name=_("Currency"), widget=TEXT)
    unconverted_orders = fields.Field(
        attribute="unconverted_orders", column_name=_("Orders without exchange rate"), widget=INTEGER
    )

    row_values = {
        "address": ("address_line1", "address_line2"),
        "name": ("name", "email", "external_id", "identity_key"),
        "repeat_buyer": ("orders_count",),
        "days_since_last_order": ("last_order_at",),
        "rfm_group": ("score__rfm_group",),
        "probability_active": ("score__probability_active",),
    }

    class Meta:
        model = Customer
        fields = (*COLUMNS_BY_NAME, "currency", "unconverted_orders")
        export_order = (*COLUMNS_BY_NAME, "currency", "unconverted_orders")

    @property
    def money_currencies(self):
        # Every amount is in the seller account's currency (the "currency" field), a subclass's own too.
        return dict.fromkeys(self.money_fields, "currency")

    def export_field_names(self, column_names):
        names = super().export_field_names(column_names)
        return with_currency_fields(
            names, self.money_fields, [name for name in self.currency_fields if name in self.fields]
        )

    def dehydrate_name(self, row):
        """The name; for a customer with neither name nor e-mail, the label the listing shows
        (the buyer id, or "Buyer of order #..."), so that every row says who it is."""
        if row.__class__ is dict:
            # The export's rows: read directly, once per row of every file.
            name, email = row.get("name"), row.get("email")
        else:
            name, email = value_of(row, "name"), value_of(row, "email")
        if name or email:
            return name or ""
        external_id, identity_key = value_of(row, "external_id"), value_of(row, "identity_key")
        return str(customer_label(name, email, external_id, identity_key, value_of(row, "id")))

    @cached_property
    def now(self):
        # One moment per file: every row's "days since" counts from it.
        return timezone.now()

    def dehydrate_repeat_buyer(self, row):
        return yes_no_text((value_of(row, "orders_count") or 0) >= 2)

    def dehydrate_days_since_last_order(self, row):
        return days_since(value_of(row, "last_order_at"), self.now)

    def dehydrate_rfm_group(self, row):
        group = value_of(row, "score__rfm_group")
        return str(RFM_GROUP_LABELS.get(group, group or ""))

    def dehydrate_probability_active(self, row):
        probability = value_of(row, "score__probability_active")
        return None if probability is None else (probability * 100).quantize(Decimal("0.01"))

    def dehydrate_address(self, row):
        return ", ".join(part for part in (value_of(row, "address_line1"), value_of(row, "address_line2")) if part)


RFM_GROUP_LABELS = dict(RfmGroup.choices)
STATUS_LABELS = dict(OrderStatus.choices)
FULFILMENT_LABELS = dict(FulfilmentStatus.choices)
CHANNEL_LABELS = dict(Channel.choices)
RATE_SOURCE_LABELS = dict(RateSource.choices)


def _order_field(name, widget=TEXT, attribute=True):
    label = capfirst(Order._meta.get_field(name).verbose_name) if name != "units" else _("Units")
    return fields.Field(attribute=name if attribute else None, column_name=label, widget=widget)


ORDER_FIELDS = (
    "external_id",
    "placed_at",
    "status",
    "fulfilment_status",
    "channel",
    "currency",
    "units",
    "subtotal",
    "discount",
    "shipping",
    "tax",
    "total",
    "refunded",
    # The same money in the seller account's currency (empty when no rate is known), and how it was converted.
    "account_currency",
    "account_total",
    "account_refunded",
    "account_discount",
    "exchange_rate",
    "rate_source",
    "promo_codes",
    "ship_city",
    "ship_country",
)


class CustomerOrderResource(StreamingResourceMixin, resources.ModelResource):
    """One customer's orders, for the customer page's export button.

    The rows carry one computed key, ``promo_codes`` (the codes used, as a list), fetched set-based by the
    export, never per row; ``units`` is the order's own figure (the quantities on its lines).

    Each order keeps its own currency and amounts; the ``account_*`` columns add its total, refunded
    amount and discount in the seller account's currency ("Account currency"), with the rate and where
    it came from. They are empty, never 0, when no rate is known."""

    external_id = _order_field("external_id")
    placed_at = _order_field("placed_at", DATETIME)
    status = _order_field("status", attribute=False)
    fulfilment_status = _order_field("fulfilment_status", attribute=False)
    channel = _order_field("channel", attribute=False)
    currency = _order_field("currency")
    units = _order_field("units", INTEGER)
    subtotal = _order_field("subtotal", DECIMAL)
    discount = _order_field("discount", DECIMAL)
    shipping = _order_field("shipping", DECIMAL)
    tax = _order_field("tax", DECIMAL)
    total = _order_field("total", DECIMAL)
    refunded = _order_field("refunded", DECIMAL)
    account_currency = fields.Field(attribute="account__currency", column_name=_("Account currency"), widget=TEXT)
    account_total = _order_field("account_total", DECIMAL)
    account_refunded = _order_field("account_refunded", DECIMAL)
    account_discount = _order_field("account_discount", DECIMAL)
    exchange_rate = _order_field("exchange_rate", DECIMAL)
    rate_source = _order_field("rate_source", attribute=False)
    promo_codes = fields.Field(column_name=_("Promo codes"))
    ship_city = _order_field("ship_city")
    ship_country = _order_field("ship_country")

    row_values = {
        "status": ("status",),
        "fulfilment_status": ("fulfilment_status",),
        "channel": ("channel",),
        "rate_source": ("rate_source",),
        "promo_codes": ("promo_codes",),
    }
    always_values = ("id",)
    #: The order's amounts are in its own currency, the ``account_*`` ones in the seller account's.
    money_currencies = {
        **dict.fromkeys(("subtotal", "discount", "shipping", "tax", "total", "refunded"), "currency"),
        **dict.fromkeys(("account_total", "account_refunded", "account_discount"), "account_currency"),
    }

    class Meta:
        model = Order
        fields = ORDER_FIELDS
        export_order = ORDER_FIELDS

    def dehydrate_status(self, row):
        value = value_of(row, "status")
        return force_str(STATUS_LABELS.get(value, value or ""))

    def dehydrate_fulfilment_status(self, row):
        value = value_of(row, "fulfilment_status")
        return force_str(FULFILMENT_LABELS.get(value, value or ""))

    def dehydrate_channel(self, row):
        value = value_of(row, "channel")
        return force_str(CHANNEL_LABELS.get(value, value or ""))

    def dehydrate_rate_source(self, row):
        value = value_of(row, "rate_source")
        return force_str(RATE_SOURCE_LABELS.get(value, value or ""))

    def dehydrate_promo_codes(self, row):
        if isinstance(row, dict):
            codes = row.get("promo_codes") or ()
        else:
            codes = row.promo_codes.values_list("code", flat=True)
        return ", ".join(codes)


def customer_resource_class():
    """The resource class a site configured (``WAGTAIL_CUSTOMERS["EXPORT_RESOURCE"]``)."""
    return import_string(get_setting("EXPORT_RESOURCE"))
