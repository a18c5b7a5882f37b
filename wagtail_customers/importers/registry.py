"""The import formats a site can choose from, by name."""

from django.utils.translation import gettext as _

from .amazon_orders import AmazonOrdersFormat
from .amazon_sale_report import AmazonSaleReportFormat
from .base import ImportFileError
from .generic import GenericFormat
from .online_retail import OnlineRetailFormat
from .shopify import ShopifyFormat

FORMATS = {
    fmt.name: fmt
    for fmt in (GenericFormat, ShopifyFormat, AmazonOrdersFormat, AmazonSaleReportFormat, OnlineRetailFormat)
}


def get_format(name):
    try:
        return FORMATS[name]()
    except KeyError:
        raise ImportFileError(
            _("Unknown import format '%(name)s' (known: %(known)s).") % {"name": name, "known": ", ".join(FORMATS)}
        ) from None
