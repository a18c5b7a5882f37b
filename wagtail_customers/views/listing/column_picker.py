"""The column picker's form, loaded when the listing's "Columns" menu is first opened.

Every column with its checkbox and move buttons is a few hundred elements (and icons) that a seller
opens now and then: rendered with each listing page and each results refresh it was about an eighth of
the page's time. The menu holds a placeholder instead (``listing/_lazy_menu.html``), and ``wc-lazy-panel``
(``static/wagtail_customers/js/lazy-panel-controller.js``) fetches the form from here when the menu is
opened. Without JavaScript the placeholder's link opens the form on a page of its own. The form posts to
``preferences.save_columns`` and goes back to ``next`` (a path on this site, else the listing).

The form ticks the columns ``next`` shows: its ``columns`` parameter or its open saved view's, else the user's own.
With a saved view open it also offers to show the columns on that listing only (``preferences.save_columns``).
"""

from urllib.parse import urlsplit

from django.http import QueryDict
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from ...columns import COLUMNS, COLUMNS_BY_NAME, columns_for_preference
from ...models import ListingPreference
from ...services.saved_views import VIEW_PARAM, page_column_names
from .access import next_url, panel_or_page, toolbar_menu_view

FORM_TEMPLATE = "wagtail_customers/listing/_column_picker_form.html"
PAGE_TEMPLATE = "wagtail_customers/listing/column_picker.html"


def column_picker_url(listing_url):
    """The form's URL for the menu of the listing at ``listing_url`` (where saving goes back to)."""
    return f"{reverse('wagtail_customers:column_picker')}?{urlencode({'next': listing_url})}"


def column_picker_rows(preference, shown_names=()):
    """Every column in the order shown (``shown_names``, else the user's; visible ones first); the name column is
    always shown."""
    visible = list(shown_names) or [column.name for column in columns_for_preference(preference)]
    order = visible + [column.name for column in COLUMNS if column.name not in visible]
    return [
        {"column": COLUMNS_BY_NAME[name], "visible": name in visible or name == "name", "locked": name == "name"}
        for name in order
    ]


@toolbar_menu_view
def column_picker(request):
    current_url = next_url(request)
    listing_query = QueryDict(urlsplit(current_url).query)
    shown_names = page_column_names(request.user, listing_query)
    preference = None if shown_names else ListingPreference.objects.filter(user=request.user).first()
    context = {
        "column_picker_rows": column_picker_rows(preference, shown_names),
        "current_url": current_url,
        # With a saved view open, its listing may show other columns than the user's default, without saving them.
        "view_is_open": VIEW_PARAM in listing_query,
    }
    return panel_or_page(
        request,
        FORM_TEMPLATE,
        PAGE_TEMPLATE,
        context,
        page_title=_("Customers: columns"),
        header_title=_("Columns of the customers listing"),
        back_url=current_url,
    )
