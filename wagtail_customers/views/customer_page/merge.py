"""Merging a duplicate into this customer, and undoing it (the service is services/merge.py).

``customers/<pk>/merge/``: the customer ``pk`` is the one kept. Without ``other`` the page finds the duplicate
(a search among the same seller account's customers); with ``?other=<id>`` it shows both side by side and the
statistics the kept customer will have; a POST with ``other`` merges. ``customers/<pk>/merge/undo/`` confirms
(GET) and undoes (POST) the latest merge into the customer.

Both need the delete action on the customer's seller account (a merge deletes the duplicate's row); a customer
the user may not view answers 404, one they may view but not delete 403. An ``other`` id that is not a customer
the user may view, another account's customer, or the customer itself is refused with a message, never a 500.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...customer_search import search_box_term, search_filter
from ...ids import parse_id
from ...models import Customer, CustomerMerge, WatchlistEntry
from ...money import format_money
from ...permissions import Action, can, customers_for
from ...services.merge import (
    MergeError,
    check_combined_figures,
    check_merge,
    check_undo,
    combined_statistics,
    latest_merge,
    merge_customers,
)
from ...services.merge import undo_merge as undo
from ...services.personal_data import mask_customer, may_see_personal_data, personal_search_scope, shown_copy
from .access import scoped_customer

#: Customers listed by the search (the duplicate is usually found by name or e-mail in the first few).
SEARCH_RESULTS = 20
#: The statistics that are amounts in the seller account's currency (formatted as money).
MONEY_STATISTICS = ("amount_spent", "discount_total")
#: The rows of the side-by-side table: (field, label); the statistics rows follow.
DETAIL_ROWS = (
    ("name", gettext_lazy("Name")),
    ("email", gettext_lazy("E-mail")),
    ("external_id", gettext_lazy("Buyer id on the channel")),
    ("phone", gettext_lazy("Phone")),
    ("city", gettext_lazy("City")),
    ("country", gettext_lazy("Country")),
)


def merge_url(kept, other=None):
    url = reverse("wagtail_customers_customer:merge", args=(kept.pk,))
    return f"{url}?other={other.pk}" if other is not None else url


def undo_url(kept, merge=None):
    url = reverse("wagtail_customers_customer:merge_undo", args=(kept.pk,))
    return f"{url}?merge={merge.pk}" if merge is not None else url


def customer_url(customer):
    return reverse("wagtail_customers_customer:detail", args=(customer.pk,))


def snapshot_label(user, merge, account, *, sees_personal_data=None):
    """What the merged customer of ``merge`` was called, masked as ``user`` may see it ("Customer #<id>" once the
    merge is undone: the record keeps no copy of the row then). ``sees_personal_data``: whether the user may see
    the account's personal data, when the caller has read it already (else one query)."""
    snapshot = merge.snapshot or {}
    customer = Customer(
        pk=merge.merged_customer_id,
        account_id=account.pk,
        **{name: snapshot.get(name, "") for name in (*Customer.DETAIL_FIELDS, "identity_key")},
    )
    customer.account = account
    if sees_personal_data is None:
        return str(shown_copy(user, customer))
    return str(customer if sees_personal_data else mask_customer(customer))


def merge_history(user, customer):
    """The merges into ``customer`` for its page, latest first: label, when, by whom, undone, and the undo URL
    for the one an undo would undo (only for users who may merge on the account)."""
    merges = list(customer.merges.select_related("merged_by", "undone_by").order_by("-merged_at", "-pk"))
    if not merges:
        return []
    latest = latest_merge(customer)
    may_undo = can(user, Action.DELETE, customer.account_id)
    # Read once for the whole list, not once per merge.
    sees_personal_data = may_see_personal_data(user, customer.account_id)
    # An undone merge's customer may have been merged again or deleted since, or be out of the user's reach: its
    # "Open" link only when the user can open it (one query for all of them, none without an undone merge).
    restored_ids = {merge.merged_customer_id for merge in merges if merge.undone_at}
    if restored_ids:
        restored_ids = set(customers_for(user, Action.VIEW).filter(pk__in=restored_ids).values_list("pk", flat=True))
    return [
        {
            "merge": merge,
            "label": snapshot_label(user, merge, customer.account, sees_personal_data=sees_personal_data),
            "undo_url": undo_url(customer, merge) if may_undo and latest and merge.pk == latest.pk else None,
            "restored_url": (
                customer_url(Customer(pk=merge.merged_customer_id))
                if merge.undone_at and merge.merged_customer_id in restored_ids
                else None
            ),
        }
        for merge in merges
    ]


class MergeBaseView(WagtailAdminTemplateMixin, TemplateView):
    """The kept customer from the URL, viewable (else 404) and deletable (else 403) by the user."""

    header_icon = "group"
    refusal = gettext_lazy("You may not merge customers of this seller account.")

    def dispatch(self, request, pk):
        self.kept = scoped_customer(request.user, pk, related=("account",))
        if not can(request.user, Action.DELETE, self.kept.account_id):
            raise PermissionDenied(str(self.refusal))
        return super().dispatch(request, pk)

    def shown(self, customer):
        return shown_copy(self.request.user, customer)

    def get_page_subtitle(self):
        return str(self.shown(self.kept))

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_customers:index"), "label": _("Customers")},
            {"url": customer_url(self.kept), "label": str(self.shown(self.kept))},
            {"url": "", "label": str(self.page_title)},
        ]


class MergeCustomersView(MergeBaseView):
    template_name = "wagtail_customers/customer_page/merge.html"
    page_title = gettext_lazy("Merge customers")

    def other_customer(self, value):
        """``(customer, error)`` for the ``other`` parameter: a customer the user may view, or a message."""
        if value is None or value == "":
            return None, None
        pk = parse_id(value)
        other = customers_for(self.request.user, Action.VIEW).select_related("account").filter(pk=pk).first()
        if pk is None or other is None:
            return None, _("That customer does not exist, or you may not see it. Choose one from the search.")
        try:
            check_merge(self.kept, other, self.request.user)
        except MergeError as error:
            return other, str(error)
        return other, None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        other, error = self.other_customer(self.request.GET.get("other"))
        after = None
        if other is not None and error is None:
            after = combined_statistics(self.kept, other)
            try:
                # Refused here, on the comparison, rather than after "Yes, merge".
                check_combined_figures(self.kept, other, after, self.request.user)
            except MergeError as refused:
                error = str(refused)
        context.update(kept=self.shown(self.kept), error=error, next=customer_url(self.kept))
        if other is not None and error is None:
            context.update(self.comparison(other, after))
        else:
            context.update(self.search())
        return context

    def comparison(self, other, after):
        kept, merged = self.kept, other
        shown_kept, shown_merged = self.shown(kept), self.shown(merged)
        watched = set(WatchlistEntry.objects.filter(customer__in=[kept, merged]).values_list("customer_id", flat=True))
        # The kept customer's details stay (a later import updates them from the latest order, as ever).
        rows = [
            (label, getattr(shown_kept, name), getattr(shown_merged, name), getattr(shown_kept, name))
            for name, label in DETAIL_ROWS
        ]
        currency = kept.account.currency

        def shown_figure(name, value):
            # Amounts as every other screen writes them (``$4,185.00``, ``1.234,50 €``, ``¥4,185``).
            if name in MONEY_STATISTICS and value is not None:
                return format_money(value, currency)
            return value

        stats = [
            (
                Customer._meta.get_field(name).verbose_name,
                shown_figure(name, getattr(kept, name)),
                shown_figure(name, getattr(merged, name)),
                shown_figure(name, after[name]),
            )
            for name in Customer.STATISTICS_FIELDS
        ]
        return {
            "other": shown_merged,
            "other_pk": merged.pk,
            "detail_rows": rows,
            "statistics_rows": stats,
            "watched": (kept.pk in watched, merged.pk in watched, bool(watched)),
            "currency": currency,
            "merge_url": merge_url(kept),
            "swap_url": merge_url(merged, kept),
        }

    def search(self):
        user, term = self.request.user, search_box_term(self.request.GET.get("q", ""))
        candidates = customers_for(user, Action.VIEW).filter(account_id=self.kept.account_id).exclude(pk=self.kept.pk)
        sees_personal_data = may_see_personal_data(user, self.kept.account_id)
        if term:
            found = candidates.filter(search_filter(term, personal_search_scope(user)))
        elif sees_personal_data and self.kept.name:
            # Likely duplicates: the same name (only for users who may see names: a match would tell it).
            found = candidates.filter(name__iexact=self.kept.name)
        else:
            found = candidates.none()
        # One account: its personal data is shown or masked for every result alike (no query per row).
        results = [
            customer if sees_personal_data else mask_customer(customer)
            for customer in found.order_by("-last_order_at", "pk")[:SEARCH_RESULTS]
        ]
        return {
            "query": term,
            "results": [(customer, merge_url(self.kept, customer)) for customer in results],
            "suggested": not term,
        }

    def post(self, request, pk):
        other, error = self.other_customer(request.POST.get("other"))
        if other is None and error is None:
            error = _("Choose the customer to merge into this one.")
        if error is not None:
            messages.error(request, error)
            return redirect(merge_url(self.kept))
        try:
            merge = merge_customers(self.kept, other, request.user)
        except MergeError as refused:
            messages.error(request, str(refused))
            return redirect(merge_url(self.kept))
        messages.success(
            request,
            _("%(merged)s merged into %(kept)s: its orders, timeline, watchlist entry and history are here now.")
            % {"merged": self.shown(other), "kept": self.shown(self.kept)},
            buttons=[messages.button(undo_url(self.kept, merge), _("Undo"))],
        )
        return redirect(customer_url(self.kept))


class UndoMergeView(MergeBaseView):
    template_name = "wagtail_customers/customer_page/merge_undo.html"
    page_title = gettext_lazy("Undo merge")

    def requested_merge(self, value):
        """The merge to undo: the latest into this customer; ``merge=<id>`` must name that one (a stale Undo
        button after someone else's later merge is refused, not applied to the other merge)."""
        latest = latest_merge(self.kept)
        if value in (None, ""):
            return latest
        pk = parse_id(value)
        if latest is not None and latest.pk == pk:
            return latest
        asked = CustomerMerge.objects.filter(kept=self.kept, pk=pk).first() if pk else None
        if asked is None:
            raise MergeError(_("There is no such merge into this customer."))
        asked.kept = self.kept
        check_undo(asked, self.request.user)
        return asked

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            merge = self.requested_merge(self.request.GET.get("merge"))
            error = None if merge is None else self._error(merge)
        except MergeError as refused:
            merge, error = None, str(refused)
        context.update(kept=self.shown(self.kept), merge=merge, error=error, next=customer_url(self.kept))
        if merge is not None and error is None:
            context.update(
                merged_label=self.merged_label(merge),
                orders=len({*merge.order_ids, *merge.later_order_ids}),
                undo_url=undo_url(self.kept),
            )
        return context

    def _error(self, merge):
        merge.kept = self.kept
        try:
            check_undo(merge, self.request.user)
        except MergeError as refused:
            return str(refused)
        return None

    def merged_label(self, merge):
        return snapshot_label(self.request.user, merge, self.kept.account)

    def post(self, request, pk):
        try:
            merge = self.requested_merge(request.POST.get("merge"))
            if merge is None:
                raise MergeError(_("No merge into this customer is left to undo."))
            label = self.merged_label(merge)
            restored = undo(merge, request.user)
        except MergeError as refused:
            messages.error(request, str(refused))
            return HttpResponseRedirect(customer_url(self.kept))
        messages.success(
            request,
            _("Merge undone: %(merged)s is a customer of its own again.") % {"merged": label},
            buttons=[messages.button(customer_url(restored), _("Open"))],
        )
        return redirect(customer_url(self.kept))
