"""The customer page's "Download personal data": the answer to an access request (GDPR art. 15) as a zip.

Needs the export and the "See personal data" actions on the customer's seller account (the zip is nothing
but personal data, so it is refused rather than masked): 404 for a customer the user may not see, 403 for
one they may see but not export, or whose personal data they may not see. Built in the request (one
customer) and sent as an attachment that no cache keeps; nothing is written to disk. Each download is
recorded in Wagtail's history, on the customer, without any of the personal data it held.
"""

import io

from django.http import FileResponse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET
from wagtail.log_actions import log

from ...permissions import Action
from ...services.access_request import VERSION, access_zip
from .access import require, scoped_customer

#: Named like the exports' actions: reading data out is recorded, and is not a change of the data.
ACCESS_EXPORT_ACTION = "wagtail_customers.export.access_request"


def access_request_filename(customer, moment):
    """``personal-data-<account>-<customer id>-<date>.zip``: no name or e-mail of the buyer in it."""
    return get_valid_filename(f"personal-data-{customer.account.name}-{customer.pk}-{moment:%Y-%m-%d}.zip")


@require_GET
def download_personal_data(request, pk):
    customer = scoped_customer(request.user, pk)
    require(request.user, Action.EXPORT, customer.account)
    require(request.user, Action.SEE_PERSONAL_DATA, customer.account)
    now = timezone.now()
    document, content = access_zip(customer, now=now)
    log(
        customer,
        ACCESS_EXPORT_ACTION,
        user=request.user,
        data={
            "account_id": customer.account_id,
            "version": VERSION,
            "orders": len(document["orders"]),
            "timeline": len(document["timeline"]),
        },
    )
    response = FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=access_request_filename(customer, now),
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response
