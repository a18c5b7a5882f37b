"""Bulk actions on the listing's selected rows: confirm (GET), then act (POST to the same URL).

Wagtail's ``bulk-actions.js`` sends the selection as ``id=1&id=2...``, or as ``id=all`` plus the
listing's own parameters when "select all in listing" is used; the tab is in the URL. The POST
reads the same query string, so what is confirmed is what is acted on. Rows the user may see but
not act on are listed apart and left alone; rows they may not see are never found.
"""

from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...counts import grouped
from ...listing import CustomerListing, get_tab
from ...permissions import Action, can
from ...services.erasure import erase_customers, erasure_summary
from ...services.personal_data import mask_customers, personal_account_ids
from ...services.watchlist import add_to_watchlist, remove_from_watchlist
from ..customer_page.merge import merge_url
from .access import account_ids_for, bulk_listing_params, forbidden, may_open_listing, next_url, requested_ids
from .delete import delete_customers, deletion_summary
from .index import export_start_url

#: How many of the selected customers the confirmation page names.
LISTED_MAX = 50

BULK_ACTIONS = {
    "watchlist-add": {"action": Action.MANAGE_WATCHLIST, "title": gettext_lazy("Add to watchlist")},
    "watchlist-remove": {"action": Action.MANAGE_WATCHLIST, "title": gettext_lazy("Remove from watchlist")},
    "delete": {"action": Action.DELETE, "title": gettext_lazy("Delete customers")},
    "erase": {"action": Action.ERASE, "title": gettext_lazy("Erase personal data")},
    "export": {"action": Action.EXPORT, "title": gettext_lazy("Export selected customers")},
    # Exactly two selected: opens the merge screen (views/customer_page/merge.py), which confirms and merges.
    "merge": {"action": Action.DELETE, "title": gettext_lazy("Merge customers")},
}


class CustomerBulkActionView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_customers/listing/bulk_confirm.html"
    header_icon = "group"

    def dispatch(self, request, tab, action):
        self.tab = get_tab(tab)
        self.bulk_action = BULK_ACTIONS.get(action)
        if self.tab is None or self.bulk_action is None:
            raise Http404
        self.action_name = action
        if action == "export" and not export_start_url():
            raise Http404
        if not may_open_listing(request):
            return forbidden(request)
        if not can(request.user, self.bulk_action["action"]):
            return forbidden(request, _("You may not do this for any seller account."))
        if action == "merge":
            return self.open_merge_screen(request)
        return super().dispatch(request, tab, action)

    def open_merge_screen(self, request):
        """The merge screen for exactly two selected customers of one seller account (the one with more orders
        kept; the screen can swap them), else back to the listing with what to select."""
        chosen = list(self.actionable.order_by("-orders_count", "pk")[:3])
        if len(chosen) != 2 or self.not_permitted.exists() or chosen[0].account_id != chosen[1].account_id:
            messages.error(request, _("Select exactly two customers of the same seller account to merge them."))
            return redirect(next_url(request))
        return redirect(merge_url(*chosen))

    def get_page_title(self):
        return self.bulk_action["title"]

    def get_breadcrumbs_items(self):
        return []

    # -- the selection -------------------------------------------------------------------------

    @cached_property
    def selection(self):
        """The selected customers the user may see: every row of the tab for ``id=all``, else the ids."""
        ids, everything = requested_ids(self.request.GET)
        listing = CustomerListing(self.request.user, self.tab, bulk_listing_params(self.request))
        queryset = listing.queryset
        if not everything:
            queryset = queryset.filter(pk__in=ids) if ids else queryset.none()
        return queryset

    @cached_property
    def permitted_account_ids(self):
        return account_ids_for(self.request.user, self.bulk_action["action"])

    @cached_property
    def actionable(self):
        return self.selection.filter(account_id__in=self.permitted_account_ids)

    @cached_property
    def not_permitted(self):
        return self.selection.exclude(account_id__in=self.permitted_account_ids)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actionable_count = self.actionable.count()
        visible_ids = personal_account_ids(self.request.user)
        context.update(
            action_name=self.action_name,
            # Both lists named as the user may see them (services/personal_data.py).
            actionable=mask_customers(self.request.user, self.actionable[:LISTED_MAX], visible_ids=visible_ids),
            actionable_count=actionable_count,
            more_count=max(actionable_count - LISTED_MAX, 0),
            not_permitted=mask_customers(self.request.user, self.not_permitted[:LISTED_MAX], visible_ids=visible_ids),
            not_permitted_count=self.not_permitted.count(),
            submit_url=self.request.get_full_path(),
            next=next_url(self.request),
        )
        if self.action_name == "delete":
            context["summary"] = deletion_summary(self.actionable)
        if self.action_name == "erase":
            context["erasure_summary"] = erasure_summary(self.actionable)
        if self.action_name == "export":
            context.update(self.export_context())
        return context

    def export_context(self):
        """The form the exports feature receives: the listing filter (tab and parameters) plus the ids."""
        ids, everything = requested_ids(self.request.GET)
        params = bulk_listing_params(self.request)
        params.pop("per_page", None)
        return {
            "export_url": export_start_url(),
            "export_fields": [
                ("tab", self.tab.slug),
                ("scope", "all" if everything else "selected"),
                *[(name, value) for name, values in params.lists() for value in values],
            ]
            + ([] if everything else [("ids", ",".join(str(pk) for pk in ids))]),
            "export_formats": [("csv", _("CSV")), ("xlsx", _("Excel (XLSX)"))],
        }

    # -- acting --------------------------------------------------------------------------------

    def post(self, request, tab, action):
        if action == "export":
            # The export form posts to the exports feature, not here.
            raise Http404
        user = request.user
        if action == "watchlist-add":
            done = len(add_to_watchlist(self.actionable, user))
            message = ngettext(
                "%(count)s customer added to the watchlist.", "%(count)s customers added to the watchlist.", done
            )
        elif action == "watchlist-remove":
            done = len(remove_from_watchlist(self.actionable, user))
            message = ngettext(
                "%(count)s customer removed from the watchlist.",
                "%(count)s customers removed from the watchlist.",
                done,
            )
        elif action == "erase":
            done = erase_customers(self.actionable, user)
            message = ngettext(
                "Personal data of %(count)s customer erased.", "Personal data of %(count)s customers erased.", done
            )
        else:
            done = delete_customers(self.actionable, user)
            message = ngettext("%(count)s customer deleted.", "%(count)s customers deleted.", done)
        messages.success(request, message % {"count": grouped(done)})
        return redirect(next_url(request))
