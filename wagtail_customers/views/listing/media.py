"""The listing's own front-end files: small Stimulus controllers (no build step) and a little CSS."""

from django import forms
from wagtail.admin.staticfiles import versioned_static

#: The box a wide table scrolls in (``.wc-table-scroll``): on every page with one, the customer and order pages too.
TABLE_SCROLL_STYLESHEET = "wagtail_customers/css/table-scroll.css"
TABLE_SCROLL_CONTROLLER = "wagtail_customers/js/table-scroll-controller.js"
#: Shared by the controllers below: loaded before them.
HELPERS = ("wagtail_customers/js/fetch-fragment.js",)
#: One Stimulus controller per file, each registered on ``window.wagtail.app`` with a ``wc-`` prefix.
CONTROLLERS = (
    "wagtail_customers/js/watchlist-toggle-controller.js",
    "wagtail_customers/js/column-picker-controller.js",
    "wagtail_customers/js/auto-submit-controller.js",
    "wagtail_customers/js/export-download-controller.js",
    "wagtail_customers/js/statistics-band-controller.js",
    "wagtail_customers/js/country-choices-controller.js",
    "wagtail_customers/js/disclosure-controller.js",
    "wagtail_customers/js/lazy-panel-controller.js",
    "wagtail_customers/js/filters-drawer-controller.js",
    TABLE_SCROLL_CONTROLLER,
)
STYLESHEET = "wagtail_customers/css/listing.css"
#: The buyer-insight tags (RFM groups), shared with the customer page.
INSIGHT_STYLESHEET = "wagtail_customers/css/insight.css"


def listing_media():
    return forms.Media(
        js=[versioned_static(path) for path in (*HELPERS, *CONTROLLERS)],
        css={
            "all": [
                versioned_static(TABLE_SCROLL_STYLESHEET),
                versioned_static(STYLESHEET),
                versioned_static(INSIGHT_STYLESHEET),
            ]
        },
    )
