"""One customer's orders as a file (the customer page's export button).

Three queries whatever the number of orders: the orders (with the units each keeps), the units of any order
still without them, their promo codes.
"""

from django.db.models import Sum

from ..models import OrderLine, PromoCodeUsage
from ..services.personal_data import mask_row
from .resources import CustomerOrderResource

COMPUTED_KEYS = ("promo_codes",)


class CustomerOrdersExport:
    """Same interface as ``query.CustomerExport`` (``spec``, ``headers()``, ``money_columns()``,
    ``rows(csv=False)``)."""

    def __init__(self, customer, spec, *, resource=None, masked=False):
        self.customer = customer
        #: The user may not see the customer's personal data: the ship-to cells read "[hidden]".
        self.masked = masked
        self.spec = spec
        self.resource = resource or CustomerOrderResource()
        # The resource's declared order (``Meta.export_order``), not its fields' (declared ones come last there).
        self.field_names = list(self.resource.get_export_order())
        self.account_ids = {customer.account_id}

    def headers(self):
        return self.resource.export_headers(self.field_names)

    def money_columns(self):
        """``(amount column, currency column)`` pairs of the rows: an order's own amounts with its currency, the
        ``account_*`` ones with the seller account's (an XLSX file shows each with its currency's decimals)."""
        return self.resource.money_columns(self.field_names)

    def rows(self, csv=False):
        """The customer's orders, newest first; ``csv=True``: each cell already CSV text."""
        orders = self.customer.orders.order_by("-placed_at", "-pk")
        # An order recorded by an earlier release has no units until the next statistics rebuild fills them
        # (services/order_figures.py): summed from its lines here. Usually there is none, and no line is read.
        missing_units = dict(
            OrderLine.objects.filter(order__customer=self.customer, order__units__isnull=True)
            .order_by()
            .values_list("order_id")
            .annotate(units=Sum("quantity"))
        )
        codes = {}
        promo_codes = PromoCodeUsage.objects.filter(order__customer=self.customer).order_by("pk")
        for order_id, code in promo_codes.values_list("order_id", "code"):
            codes.setdefault(order_id, []).append(code)
        keys = [key for key in self.resource.values_for(self.field_names) if key not in COMPUTED_KEYS]
        exporter = self.resource.csv_row_exporter if csv else self.resource.row_exporter
        export_row = exporter(self.field_names)
        for row in orders.values(*keys).iterator(chunk_size=2000):
            if row["units"] is None:
                row["units"] = missing_units.get(row["id"], 0)
            row["promo_codes"] = codes.get(row["id"], ())
            yield export_row(mask_row(row) if self.masked else row)
