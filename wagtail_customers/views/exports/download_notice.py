"""Telling the user an immediate export has started downloading.

A download answers with the file, so the page that posted the form stays where it is. When the
form carries a ``download_token`` (set by the ``wc-export-download`` controller as it submits),
the file response also sets that token in a short-lived cookie and queues a Wagtail message; the
controller sees the cookie and takes the user back to the listing, where the message shows.
Without JavaScript there is no token: the download happens and nothing else changes.
"""

import re

from django.utils.translation import ngettext
from wagtail.admin import messages

from ...counts import grouped

#: The cookie the controller watches (wagtail_customers/js/export-download-controller.js).
DOWNLOAD_COOKIE = "wc_export_download"
#: How long the cookie lives: only until the page that asked for the file has read it.
DOWNLOAD_COOKIE_MAX_AGE = 120

TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")


def download_token(request):
    """The form's ``download_token`` if it is well formed, else ``None``."""
    token = request.POST.get("download_token", "")
    return token if TOKEN.fullmatch(token) else None


def announce_download(request, response, count, filename):
    """Queue the "your export is downloading" message and set the token cookie on ``response``."""
    token = download_token(request)
    if token is None:
        return response
    messages.success(
        request,
        ngettext(
            "Your export of %(count)s customer is downloading as %(filename)s.",
            "Your export of %(count)s customers is downloading as %(filename)s.",
            count,
        )
        % {"count": grouped(count), "filename": filename},
    )
    # Read by the page's script, so not HttpOnly; it holds nothing but the page's own random token.
    response.set_cookie(
        DOWNLOAD_COOKIE,
        token,
        max_age=DOWNLOAD_COOKIE_MAX_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=False,
    )
    return response
