"""The customer columns shared by the listing and the exports, and each user's column view.

A user's view (visible columns, in order) is stored server-side in ``ListingPreference.columns``;
an empty list means the plugin's default. Exports use the same view.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import ListingPreference


@dataclass(frozen=True)
class CustomerColumn:
    name: str
    label: str
    #: The model field (or ``__`` path) the column sorts by; ``None`` when not sortable.
    sort_field: str | None = None
    #: The column's values run against its sort field (days since the last order fall as the date rises).
    inverted: bool = False

    @property
    def is_insight(self):
        """Read from the customer's scores (``CustomerScore``), a row of its own."""
        return bool(self.sort_field) and self.sort_field.startswith("score__")


COLUMNS = [
    CustomerColumn("name", _("Customer"), "name"),
    CustomerColumn("email", _("E-mail"), "email"),
    CustomerColumn("address", _("Address")),
    CustomerColumn("postal_code", _("Postal code"), "postal_code"),
    CustomerColumn("city", _("City"), "city"),
    CustomerColumn("state", _("State / province"), "state"),
    CustomerColumn("country", _("Country"), "country"),
    CustomerColumn("orders_count", _("Orders"), "orders_count"),
    CustomerColumn("units", _("Units"), "units"),
    CustomerColumn("amount_spent", _("Amount spent"), "amount_spent"),
    CustomerColumn("discount_total", _("Discount received"), "discount_total"),
    CustomerColumn("promo_codes_used", _("Promo codes used"), "promo_codes_used"),
    CustomerColumn("negative_feedbacks", _("Negative feedbacks"), "negative_feedbacks"),
    CustomerColumn("returned_units", _("Returned units"), "returned_units"),
    CustomerColumn("account", _("Seller account"), "account__name"),
    CustomerColumn("last_order_at", _("Last order"), "last_order_at"),
    # Buyer insight (docs/concepts/buyer-insight.md).
    CustomerColumn("average_order_value", _("Average order value"), "average_order_value"),
    CustomerColumn("repeat_buyer", _("Repeat customer"), "orders_count"),
    CustomerColumn("days_since_last_order", _("Days since last order"), "last_order_at", inverted=True),
    CustomerColumn("return_rate", _("Return rate"), "return_rate"),
    CustomerColumn("rfm_group", _("RFM group"), "score__rfm_code"),
    CustomerColumn("rfm_score", _("RFM score"), "score__rfm_code"),
    CustomerColumn("expected_orders", _("Expected orders, 12 months"), "score__expected_orders"),
    CustomerColumn("expected_spend", _("Expected spend, 12 months"), "score__expected_spend"),
    CustomerColumn("probability_active", _("Probability active"), "score__probability_active"),
]
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
#: The columns from the predicted-value model: the listing says when each account's model was fitted.
PREDICTION_COLUMNS = frozenset({"expected_orders", "expected_spend", "probability_active"})

#: The plugin's default view: what a user sees before choosing, and after "Reset".
DEFAULT_COLUMNS = [
    "name",
    "email",
    "city",
    "country",
    "orders_count",
    "units",
    "amount_spent",
    "returned_units",
    "account",
    "last_order_at",
]


def clean_column_names(names):
    """Known column names, in the given order, without duplicates; unknown ones are dropped."""
    seen, cleaned = set(), []
    for name in names or []:
        if name in COLUMNS_BY_NAME and name not in seen:
            seen.add(name)
            cleaned.append(name)
    return cleaned


def user_columns(user):
    """The user's visible columns (``CustomerColumn``s) in the user's order."""
    preference = ListingPreference.objects.filter(user=user).only("columns").first() if user.pk else None
    names = clean_column_names(preference.columns if preference else []) or DEFAULT_COLUMNS
    return [COLUMNS_BY_NAME[name] for name in names]


def columns_for_preference(preference):
    """The visible columns for a ``ListingPreference`` already loaded (or ``None``): no extra query."""
    names = clean_column_names(preference.columns if preference else []) or DEFAULT_COLUMNS
    return [COLUMNS_BY_NAME[name] for name in names]
