"""The country filter's choices, loaded after the listing page from their own URL.

The choices are the countries of the customers in the user's scope with their counts ("Germany (73)"),
a grouped count over every one of them: the filters drawer (``filters_drawer.py``) renders the country
``<select>`` with only "Any country" and the selected country, and ``wc-country-choices``
(``static/wagtail_customers/js/country-choices-controller.js``) fills in the rest from here once the
drawer is in the page. Scoped like the listing (``CustomerListing.scoped_queryset``: the user's grants and the
selected seller accounts, remembered or from ``account``); every other parameter is ignored, so a
tampered URL can only narrow what the user may view.
"""

from django.http import JsonResponse, QueryDict
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ...filters import country_choices
from ...listing import CustomerListing
from .access import listing_tab_view, with_params

URL_NAME = "wagtail_customers:country_choices"
#: The one parameter the choices depend on (the accounts in view); "account=" alone means every account.
SCOPE_PARAM = "account"
#: The Stimulus controller that fills the ``<select>``.
CONTROLLER = "wc-country-choices"


def scope_params(query_dict):
    """Only the seller-account selection of ``query_dict`` (kept even when empty: it overrides the remembered one)."""
    params = QueryDict(mutable=True)
    if SCOPE_PARAM in query_dict:
        params.setlist(SCOPE_PARAM, query_dict.getlist(SCOPE_PARAM))
    return params


def country_choices_url(tab, query_dict):
    """Where the page's country ``<select>`` loads its choices from, for ``tab`` and the listing's parameters."""
    return with_params(reverse(URL_NAME, args=(tab.slug,)), scope_params(query_dict))


def load_country_choices_later(filterset, url):
    """Have the page's country ``<select>`` (if the filters have one) fetch its choices from ``url``."""
    field = filterset.form.fields.get("country")
    if field is not None:
        field.widget.attrs.update({"data-controller": CONTROLLER, f"data-{CONTROLLER}-url-value": url})


@never_cache
@require_GET
@listing_tab_view
def country_choices_view(request, listing_tab):
    """``[[value, "Name (count)"], ...]``: the countries of the customers in view (the tab's: the Watchlist counts its
    watched customers), sorted by name in the user's language."""
    listing = CustomerListing(request.user, listing_tab, scope_params(request.GET))
    choices = [
        [value, label] for value, label in country_choices(listing.scoped_queryset.filter(listing_tab.base_filter))
    ]
    return JsonResponse(choices, safe=False)
