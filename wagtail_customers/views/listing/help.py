"""The "Help" link in the Customers header: to the plugin's documentation by default, or to the site's
own support page (``WAGTAIL_CUSTOMERS["HELP_URL"]``; ``None`` or ``""`` hides it)."""

from django.utils.translation import gettext as _
from wagtail.admin.widgets.button import HeaderButton

from ...conf import get_setting


def help_header_buttons():
    url = get_setting("HELP_URL")
    if not url:
        return []
    label = _("Help")
    return [
        HeaderButton(
            label,
            url=url,
            icon_name="help",
            # A new tab keeps the user's place in the listing; noopener keeps the help page from
            # reaching back into the admin through window.opener.
            attrs={
                "target": "_blank",
                "rel": "noopener noreferrer",
                "aria-label": _("%(label)s (opens in a new tab)") % {"label": label},
                "data-wc-help-link": "",
            },
        )
    ]
