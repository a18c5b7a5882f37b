"""The header's filters drawer, completed when it is about to be opened.

The drawer's 17 fields are Django widget templates and Wagtail icons, about a fifth of a listing page's
time, for a drawer a seller opens now and then. Its inputs belong to the header's search form, though, so
the page cannot leave them out: a search typed before they came would drop the filters in force. The page
therefore renders the drawer with the fields in force only (``ActiveFilterFields``), and ``wc-filters-drawer``
(``static/wagtail_customers/js/filters-drawer-controller.js``) fetches every field from here once the page
is idle (or sooner, when the drawer's button is hovered or focused or the drawer opened) and puts them in
place of the partial ones. Same ``CustomerListing`` (scoping, tab, accounts, filter values) as the page,
so the fields and their values are the ones the page used to render. Without JavaScript Wagtail's drawer
does not open at all: a request that is not a fetch is sent to the listing.
"""

from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ...listing import CustomerListing
from .access import is_fetch, listing_params, listing_tab_view, tab_listing_url
from .country_choices import country_choices_url, load_country_choices_later

URL_NAME = "wagtail_customers:filters_drawer"
#: Wagtail's own drawer contents, the same template its results fragment re-renders (``_w_filter_fragment``).
DRAWER_TEMPLATE = "wagtailadmin/shared/headers/_filters.html"


def listing_filters(listing, tab, query_dict, *, whole_drawer=True):
    """The listing's filterset: ``None`` without fields. In a whole drawer the country ``<select>`` loads its
    choices (a grouped count) once shown; the page's partial drawer does not (the fetched one will: twice
    would run the count twice)."""
    filterset = listing.filterset
    if not filterset.form.fields:
        return None
    if whole_drawer:
        load_country_choices_later(filterset, country_choices_url(tab, query_dict))
    return filterset


def filters_drawer_url(tab):
    """Where the page's drawer fetches its fields from (the controller adds the listing's current parameters)."""
    return reverse(URL_NAME, args=(tab.slug,))


class ActiveFilterFields:
    """A filterset as the page's header renders it: only the fields whose value differs from their initial one
    (what Wagtail shows as active filters, invalid values included, so their errors show too)."""

    def __init__(self, filterset):
        self.form = [filterset.form[name] for name in filterset.form.changed_data]

    def __bool__(self):
        # The drawer and its button are rendered even with no field in force: they are what the user opens.
        return True


@never_cache
@require_GET
@listing_tab_view
def filters_drawer(request, listing_tab):
    """Every field of ``listing_tab``'s drawer, with the values of the listing's query parameters."""
    params = listing_params(request.GET)
    if not is_fetch(request):
        return redirect(tab_listing_url(listing_tab, params))
    listing = CustomerListing(request.user, listing_tab, params)
    return TemplateResponse(request, DRAWER_TEMPLATE, {"filters": listing_filters(listing, listing_tab, params)})
