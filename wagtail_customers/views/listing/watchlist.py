"""The watchlist eye: POST only, CSRF protected; JSON for ``fetch``, a redirect back for a plain form."""

from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from ...db_router import note_own_write
from ...models import Customer
from ...permissions import Action, can
from ...services.personal_data import shown_copy
from ...services.watchlist import toggle_watchlist
from .access import customer_or_404, forbidden, next_url, wants_json

WATCH_VALUES = {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False}


@require_POST
def watchlist_toggle(request, pk):
    """Put the customer on the watchlist or take them off.

    ``watch=1`` / ``watch=0`` asks for a state (a double click changes nothing); without it the
    state flips. Answers ``{"watched": bool, ...}`` to ``fetch`` callers, else redirects to ``next``.
    """
    customer = customer_or_404(request.user, pk)
    if not can(request.user, Action.MANAGE_WATCHLIST, customer.account_id):
        return forbidden(request, _("You may not change the watchlist for this seller account."))
    watch = WATCH_VALUES.get(request.POST.get("watch", "").strip().lower())
    try:
        watched = toggle_watchlist(customer, request.user, watch)
    except Customer.DoesNotExist as error:
        # Deleted, or merged into another, while the toggle waited for it: as for a customer already gone.
        raise Http404 from error
    # The watchlist tab they open next must count this change, which a read replica may not have yet.
    note_own_write(request)
    # Named as the user may see them: "Customer #<id>" without the personal-data grant.
    customer = shown_copy(request.user, customer)
    if watched:
        message = _("'%(customer)s' is on the watchlist.") % {"customer": customer}
        label = _("Remove '%(customer)s' from the watchlist") % {"customer": customer}
    else:
        message = _("'%(customer)s' is off the watchlist.") % {"customer": customer}
        label = _("Add '%(customer)s' to the watchlist") % {"customer": customer}
    if wants_json(request):
        return JsonResponse({"customer": customer.pk, "watched": watched, "message": message, "label": label})
    messages.success(request, message)
    return redirect(next_url(request))
