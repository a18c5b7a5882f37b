"""The customers listing's filters (Wagtail filter chips), shared by the listing views and the exports.

Every filter reads the same query parameters the listing's URL carries, so a bookmarked URL, the
results refreshed without a page load and an export of "all pages" select the same customers.
A value a filter cannot read (text in a number, an unknown account, a date in year 20000) leaves
that one filter out; the others still apply.
"""

from datetime import timedelta
from decimal import Decimal
from functools import cache

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters.fields import DateRangeField, RangeField
from django_filters.widgets import SuffixedMultiWidget
from wagtail.admin.active_filters import RangeFilterAdapter, register_filter_adapter_class
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from .countries import country_code, country_name, sort_key
from .counts import grouped
from .ids import parse_id
from .models import Channel, Customer, RfmGroup, SellerAccount
from .permissions import Action, accounts_for

YES, NO = "yes", "no"
YES_NO_CHOICES = [(YES, _("Yes")), (NO, _("No"))]

#: Said under every amount filter: a customer's amounts are kept in their seller account's currency, and a bound
#: is compared with them as it is typed (docs/concepts/currencies.md), whatever accounts are selected.
IN_ACCOUNT_CURRENCY = _("In each seller account's own currency: amounts are not converted between accounts.")

#: Bounds for typed-in numbers and dates: anything outside is an invalid value, not a database error.
MAX_NUMBER = Decimal("999999999999")
MIN_DATE_YEAR, MAX_DATE_YEAR = 1900, 2999


class NumberRangeWidget(SuffixedMultiWidget):
    """Minimum and maximum inputs (``<name>_min`` / ``<name>_max``); Wagtail 7.0 has no such widget."""

    template_name = "wagtail_customers/widgets/range_input.html"
    suffixes = ["min", "max"]

    def __init__(self, attrs=None):
        widgets = (
            forms.NumberInput(attrs={"placeholder": _("Minimum"), "min": "0"}),
            forms.NumberInput(attrs={"placeholder": _("Maximum"), "min": "0"}),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value):
        return [value.start, value.stop] if value else [None, None]


def _date_in_range(value):
    if value is not None and not MIN_DATE_YEAR <= value.year <= MAX_DATE_YEAR:
        raise forms.ValidationError(
            _("Enter a date between %(low)s and %(high)s."),
            code="date_out_of_range",
            params={"low": MIN_DATE_YEAR, "high": MAX_DATE_YEAR},
        )


class BoundedRangeField(RangeField):
    """A min/max pair of decimals within ``0..MAX_NUMBER`` (the database never sees an overflow)."""

    def __init__(self, *args, **kwargs):
        fields = tuple(
            forms.DecimalField(
                max_digits=15, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(MAX_NUMBER)]
            )
            for _bound in range(2)
        )
        super().__init__(fields, *args, **kwargs)


class BoundedRangeFilter(django_filters.RangeFilter):
    field_class = BoundedRangeField


class BoundedDateRangeField(DateRangeField):
    """A date range whose years stay within ``MIN_DATE_YEAR..MAX_DATE_YEAR``, checked before the dates
    become timezone-aware datetimes (where year 9999 would overflow)."""

    def __init__(self, *args, **kwargs):
        fields = tuple(forms.DateField(validators=[_date_in_range]) for _bound in range(2))
        RangeField.__init__(self, fields, *args, **kwargs)


class BoundedDateFromToRangeFilter(django_filters.DateFromToRangeFilter):
    field_class = BoundedDateRangeField


class YesNoFilter(django_filters.ChoiceFilter):
    """A yes / no / any radio filter over a condition on the customer (shown as a chip when set)."""

    def __init__(self, *args, condition, **kwargs):
        self.condition = condition
        kwargs.setdefault("choices", YES_NO_CHOICES)
        kwargs.setdefault("widget", forms.RadioSelect)
        kwargs.setdefault("empty_label", _("Any"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value == YES:
            return qs.filter(self.condition)
        if value == NO:
            return qs.exclude(self.condition)
        return qs


class AccountChoiceField(django_filters.fields.ModelMultipleChoiceField):
    """Refuses values that are not ids (``ids.parse_id``) before they reach the database."""

    def clean(self, value):
        for item in value or []:
            if parse_id(item) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": item}
                )
        return super().clean(value)


class AccountFilter(django_filters.ModelMultipleChoiceFilter):
    """The seller-account filter. Shown as chips; the scoping itself is done by ``listing.py``,
    which reads the same ``account`` parameter and intersects it with the user's grants."""

    field_class = AccountChoiceField

    def filter(self, qs, value):
        return qs


class ChannelFilter(django_filters.MultipleChoiceFilter):
    """The channel filter, read as the seller accounts on those channels (one small query).

    ``account_id IN (1, 3)`` lets the database walk the tab's sort index as it does for the account selector;
    a join on the account's channel (with django-filter's default SELECT DISTINCT) made it sort every customer
    on the channel before the first page: a page took 450 ms for one channel at 200,000 customers on SQLite, now
    35 ms, as without a filter."""

    def filter(self, qs, value):
        if not value:
            return qs
        account_ids = SellerAccount.objects.filter(channel__in=value).values_list("pk", flat=True)
        return qs.filter(account_id__in=list(account_ids))


def is_country_value(value):
    """Any short text is a country value the filter can read (a code, a name, a value kept as written)."""
    return isinstance(value, str) and len(value) <= 64 and "\x00" not in value


class CountryChoiceField(django_filters.fields.ChoiceField):
    """Any short text is a valid value, so reading the filter needs no query. A value no customer has
    selects nobody."""

    def valid_value(self, value):
        return is_country_value(value)


class CountryFilter(django_filters.ChoiceFilter):
    """The country filter. Its choices on the page are only the selected country: the countries of the
    customers in scope with their counts ("Germany (73)", ``country_choices``) are a grouped count over
    them, loaded after the page (``views/listing/country_choices.py``)."""

    field_class = CountryChoiceField

    def filter(self, qs, value):
        if not value:
            return qs
        # A name or an old bookmark ("Germany") selects the code; a value kept as written selects itself.
        code = country_code(value)
        return qs.filter(country=code) if code else qs.filter(country__iexact=value)


def selected_country_choice(value):
    """The choices the page renders: the selected country alone, named without a count (no query)."""
    if not value or not is_country_value(value):
        return []
    return [(value, country_name(country_code(value) or value))]


def country_choices(customers):
    """``(country, "Name (count)")`` for the countries of ``customers``: one grouped query, names in the
    active language, sorted by name. Served to the page's country ``<select>`` after it has loaded."""
    rows = (
        customers.exclude(country="")
        .order_by()
        .values("country")
        .annotate(customers=Count("pk"))
        .values_list("country", "customers")
    )
    named = [(country, country_name(country), count) for country, count in rows]
    return [
        (
            country,
            gettext("%(country)s (%(count)s)") % {"country": name, "count": grouped(count)},
        )
        for country, name, count in sorted(named, key=lambda row: sort_key(row[1]))
    ]


class PercentRangeFilter(BoundedRangeFilter):
    """A min/max pair of percentages over a stored fraction (``probability_active``: 0.8734 is 87.34 %)."""

    def filter(self, qs, value):
        if value:
            value = slice(*(None if bound is None else bound / 100 for bound in (value.start, value.stop)))
        return super().filter(qs, value)


#: The most days "days since last order" reads (a century): a date further back is out of range.
MAX_DAYS = 36500


class DaysRangeField(RangeField):
    """A min/max pair of whole days within ``0..MAX_DAYS`` (a larger one is an invalid value, not an overflow)."""

    def __init__(self, *args, **kwargs):
        fields = tuple(
            forms.IntegerField(validators=[MinValueValidator(0), MaxValueValidator(MAX_DAYS)]) for _bound in range(2)
        )
        super().__init__(fields, *args, **kwargs)


class DaysSinceFilter(django_filters.RangeFilter):
    """Days since the last order, between a minimum and a maximum: a range of last-order dates (so the
    ``last_order_at`` indexes serve it), counted from now."""

    field_class = DaysRangeField

    def filter(self, qs, value):
        if not value:
            return qs
        now = timezone.now()
        if value.start is not None:
            qs = qs.filter(last_order_at__lte=now - timedelta(days=int(value.start)))
        if value.stop is not None:
            # "At most 30 days": the whole 30th day back is in.
            qs = qs.filter(last_order_at__gt=now - timedelta(days=int(value.stop) + 1))
        return qs


class NumberRangeFilterAdapter(RangeFilterAdapter):
    """The chip of a number range filter, its bounds written as the admin user's language writes numbers
    ("Amount spent: 1.250,5 - alle" in German): Wagtail's adapter writes ``str(value)``, "250.5" in every
    language (Wagtail 7.0 and 8 choose the adapter alike, by the filter's class)."""

    def format_value(self, value):
        if value is None:
            return self.empty_value_label
        return number_format(value, use_l10n=True, force_grouping=True)


register_filter_adapter_class(BoundedRangeFilter, NumberRangeFilterAdapter)  # PercentRangeFilter's too
register_filter_adapter_class(DaysSinceFilter, NumberRangeFilterAdapter)


class CustomerFilterSet(WagtailFilterSet):
    account = AccountFilter(
        label=_("Seller account"), queryset=SellerAccount.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    channel = ChannelFilter(label=_("Channel"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple)
    country = CountryFilter(label=_("Country"), empty_label=_("Any country"))
    last_order = BoundedDateFromToRangeFilter(
        label=_("Last order date"), field_name="last_order_at", widget=DateRangePickerWidget
    )
    orders = BoundedRangeFilter(label=_("Orders"), field_name="orders_count", widget=NumberRangeWidget)
    amount_spent = BoundedRangeFilter(
        label=_("Amount spent"), field_name="amount_spent", widget=NumberRangeWidget, help_text=IN_ACCOUNT_CURRENCY
    )
    has_returns = YesNoFilter(label=_("Has returns"), condition=Q(returned_units__gt=0))
    has_negative_feedback = YesNoFilter(label=_("Has negative feedback"), condition=Q(negative_feedbacks__gt=0))
    used_promo_code = YesNoFilter(label=_("Used a promo code"), condition=Q(promo_codes_used__gt=0))
    on_watchlist = YesNoFilter(label=_("On the watchlist"), condition=Q(watched=True))
    # Buyer insight (docs/concepts/buyer-insight.md).
    rfm_group = django_filters.MultipleChoiceFilter(
        label=_("RFM group"),
        field_name="score__rfm_group",
        choices=RfmGroup.choices,
        widget=forms.CheckboxSelectMultiple,
        # One score per customer: django-filter's default SELECT DISTINCT would sort every customer in view.
        distinct=False,
    )
    repeat_buyer = YesNoFilter(label=_("Repeat customer"), condition=Q(orders_count__gte=2))
    average_order_value = BoundedRangeFilter(
        label=_("Average order value"),
        field_name="average_order_value",
        widget=NumberRangeWidget,
        help_text=IN_ACCOUNT_CURRENCY,
    )
    return_rate = BoundedRangeFilter(label=_("Return rate (%)"), field_name="return_rate", widget=NumberRangeWidget)
    days_since_last_order = DaysSinceFilter(label=_("Days since last order"), widget=NumberRangeWidget)
    expected_spend = BoundedRangeFilter(
        label=_("Expected spend, 12 months"),
        field_name="score__expected_spend",
        widget=NumberRangeWidget,
        help_text=IN_ACCOUNT_CURRENCY,
    )
    probability_active = PercentRangeFilter(
        label=_("Probability active (%)"), field_name="score__probability_active", widget=NumberRangeWidget
    )

    class Meta:
        model = Customer
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None, action=Action.VIEW):
        super().__init__(data, queryset, request=request, prefix=prefix)
        if user is None and request is not None:
            user = request.user
        self.filters["account"].queryset = accounts_for(user, action)
        # No query: the countries with their counts are fetched by the page once shown (country_choices).
        self.filters["country"].extra["choices"] = cache(
            lambda: selected_country_choice(self.form.data.get(self.form.add_prefix("country")))
        )

    def filter_queryset(self, queryset):
        # Apply the filters whose values are valid; an unreadable value drops only its own filter.
        self.form.is_valid()
        for name, value in self.form.cleaned_data.items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset
