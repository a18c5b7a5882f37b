"""The statistics band of a searched or filtered listing, loaded after the table from its own URL.

The band of a search or filter is an aggregate over every matching customer, whose cost grows with
them: the listing page shows a "Calculating…" placeholder instead, and ``wc-statistics-band``
(``static/wagtail_customers/js/statistics-band-controller.js``) fetches the figures from here once the
page is shown. Same ``CustomerListing`` (scoping, tab, accounts, filters, search) and same function as
the page would use, so the figures are the ones the page used to compute before its table; a tampered
URL can only narrow what the user may view. Without JavaScript the placeholder's link opens the band
on a page of its own.
"""

from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ...db_router import reading_from_replica
from ...listing import CustomerListing
from .access import is_fetch, listing_tab_view, tab_listing_url

BAND_TEMPLATE = "wagtail_customers/listing/_statistics_band.html"
PAGE_TEMPLATE = "wagtail_customers/listing/statistics.html"


@never_cache
@require_GET
@listing_tab_view
def statistics_band(request, listing_tab):
    """The band's figures for ``listing_tab`` and the listing's query parameters: the bare band for the page's
    controller, or a page holding it (the no-JavaScript link)."""
    listing = CustomerListing(request.user, listing_tab, request.GET)
    with reading_from_replica(request):
        context = {"statistics": listing.statistics()}
    if is_fetch(request):
        return TemplateResponse(request, BAND_TEMPLATE, context)
    listing_url = tab_listing_url(listing_tab, request.GET)
    context.update(
        page_title=_("Customers: statistics"),
        header_title=_("Statistics of the customers found"),
        listing_url=listing_url,
    )
    return TemplateResponse(request, PAGE_TEMPLATE, context)
