"""``WatchlistEntry`` as a Wagtail snippet: its own listing (note, added by, date), history and bulk delete.

It lives in the Customers menu only (``menu_hook``): a snippet whose menu item is registered elsewhere
is left out of Wagtail's Snippets index, and a site with no other snippets shows no Snippets menu item.
Its chooser has no "create" tab or URL (entries are made from the customers listing).

Scoped like everything else: the listing shows entries of customers the user may view; an entry of
any other customer answers 404; editing the note or deleting needs ``Action.MANAGE_WATCHLIST`` on
the customer's seller account (403 otherwise). Entries are created from the customers listing (the
eye or the bulk action), so the snippet's "add" sends the user there. Deleting an entry here is
recorded like a removal with the eye (history and the customer's timeline).
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from wagtail.admin import messages
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.tables import Column, DateColumn, UserColumn
from wagtail.admin.widgets.button import HeaderButton
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.views.chooser import SnippetChooserViewSet
from wagtail.snippets.views.snippets import DeleteView, EditView, HistoryView, IndexView, SnippetViewSet, UsageView

from ...ids import parse_ids
from ...log_actions import log_each
from ...menu import CUSTOMERS_MENU_HOOK
from ...models import WatchlistEntry
from ...permissions import Action, actions_by_account, can, customers_for
from ...services.personal_data import (
    mask_entries,
    may_see_personal_data,
    personal_account_ids,
    personal_search_scope,
    shown_copy,
)
from ...services.watchlist import delete_entries
from ..scoping import ScopedViewSetMixin
from ..search import BoundedSearchMixin
from .menu_items import watchlist_menu_item


def scoped_entries(user):
    """The entries of customers the user may view."""
    return WatchlistEntry.objects.filter(customer__in=customers_for(user, Action.VIEW)).select_related(
        "customer__account", "added_by"
    )


class MaskedEntriesMixin:
    """Entries listed or chosen with their customer and note masked where the user may not see personal data
    (services/personal_data.py); a search looks only at the entries whose personal data the user may see, as
    it compares names, e-mails and notes."""

    def search_queryset(self, queryset):
        if getattr(self, "is_searching", False):
            queryset = queryset.filter(personal_search_scope(self.request.user, "customer__account"))
        return super().search_queryset(queryset)

    def filter_object_list(self, objects):
        objects = super().filter_object_list(objects)
        form = getattr(self, "filter_form", None)
        if form is not None and getattr(form, "is_searching", False):
            objects = objects.filter(personal_search_scope(self.request.user, "customer__account"))
        return objects

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = mask_entries(self.request.user, object_list)
        return paginator, page, page.object_list, is_paginated

    def get_results_page(self, request):
        page = super().get_results_page(request)
        page.object_list = mask_entries(request.user, page.object_list)
        return page

    def get_display_title(self, instance):
        return str(mask_entries(self.request.user, [instance])[0])


class WatchlistEntryIndexView(BoundedSearchMixin, MaskedEntriesMixin, IndexView):
    """Each row's title link and Edit / Delete are offered only where the entry's pages answer: Wagtail offers them
    from the model-level permission, which a user with "Manage the watchlist" on any one account holds."""

    @cached_property
    def _actions_by_account(self):
        # Two queries for the whole page.
        return actions_by_account(self.request.user)

    def _may_open(self, instance):
        """Edit and Delete need "Manage the watchlist" and "See personal data" on the entry's seller account
        (``PersonalDataRequiredMixin``, and the viewset's policy)."""
        held = self._actions_by_account.get(instance.customer.account_id, frozenset())
        return {Action.MANAGE_WATCHLIST, Action.SEE_PERSONAL_DATA} <= held

    def get_edit_url(self, instance):
        return super().get_edit_url(instance) if self._may_open(instance) else None

    def get_delete_url(self, instance):
        return super().get_delete_url(instance) if self._may_open(instance) else None

    @cached_property
    def header_buttons(self):
        from ..watchlist_rules.views import may_manage_rules

        buttons = list(super().header_buttons)
        if may_manage_rules(self.request.user):
            url = reverse("wagtail_customers_watchlist_rules:index")
            buttons.append(HeaderButton(_("Watchlist rules"), url=url, icon_name="cogs", priority=20))
        return buttons


class ChooserAccountColumnMixin:
    """The chooser's rows with their seller account: entries whose customer is masked ("Customer #<id>") are
    told apart by it."""

    def get_object_list(self):
        return super().get_object_list().select_related("customer__account")

    @property
    def columns(self):
        return [
            *super().columns,
            Column("account", label=gettext_lazy("Seller account"), accessor="customer.account.name"),
        ]


class WatchlistEntryChooseView(ChooserAccountColumnMixin, MaskedEntriesMixin, SnippetChooserViewSet.choose_view_class):
    pass


class WatchlistEntryChooseResultsView(
    ChooserAccountColumnMixin, MaskedEntriesMixin, SnippetChooserViewSet.choose_results_view_class
):
    pass


class WatchlistEntryChosenView(MaskedEntriesMixin, SnippetChooserViewSet.chosen_view_class):
    pass


class WatchlistEntryChosenMultipleView(MaskedEntriesMixin, SnippetChooserViewSet.chosen_multiple_view_class):
    pass


class PersonalDataRequiredMixin:
    """One entry's page (edit, delete, history, usage) shows its customer and its note in full, and the edit
    form would save what it shows: it needs "See personal data" on the customer's account (403 otherwise; an
    entry outside the user's scope is still 404, ``ScopedViewMixin.get_object``)."""

    def get_object(self, *args, **kwargs):
        entry = super().get_object(*args, **kwargs)
        if not may_see_personal_data(self.request.user, entry.customer.account_id):
            raise PermissionDenied(_("This page shows the customer's personal data, which you may not see."))
        return entry


class WatchlistEntryEditView(PersonalDataRequiredMixin, EditView):
    pass


class WatchlistEntryHistoryView(PersonalDataRequiredMixin, HistoryView):
    pass


class WatchlistEntryUsageView(PersonalDataRequiredMixin, UsageView):
    pass


class WatchlistEntryDeleteView(PersonalDataRequiredMixin, DeleteView):
    def delete_action(self):
        # Its customer locked first, and recorded as a removal with the eye (services/watchlist.py).
        delete_entries([self.object], self.request.user, super().delete_action)


class AddFromCustomersListingView(View):
    """Customers go on the watchlist from the customers listing (the eye, or the bulk action)."""

    def get(self, request, *args, **kwargs):
        messages.info(request, _("Add customers to the watchlist with the eye next to their name."))
        return redirect("wagtail_customers:index")


class WatchlistEntryBulkDeleteAction(DeleteBulkAction):
    """The snippet's bulk delete, scoped, and recorded like a removal with the eye."""

    models = [WatchlistEntry]

    def get_all_objects_in_listing_query(self, parent_id):
        return scoped_entries(self.request.user).values_list("pk", flat=True)

    @classmethod
    def get_queryset(cls, model, object_ids):
        # ``?id=`` values that are not ids (unicode digits, 20 digits) are never found, not a 500.
        return model.objects.filter(pk__in=parse_ids(object_ids)).select_related("customer")

    def get_actionable_objects(self):
        # Entries outside the user's scope are dropped, not listed as "no permission": listing them
        # would show the names of customers the user may not see.
        objects, extra = super().get_actionable_objects()
        visible = set(scoped_entries(self.request.user).values_list("pk", flat=True))
        extra["items_with_no_access"] = [entry for entry in extra["items_with_no_access"] if entry.pk in visible]
        return objects, extra

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The confirmation lists the entries by customer: named as the user may see them (only for the page: the
        # entries the action deletes and logs are read again on POST).
        visible_ids = personal_account_ids(self.request.user)
        mask_entries(self.request.user, [item["item"] for item in context["items"]], visible_ids=visible_ids)
        mask_entries(self.request.user, context["items_with_no_access"], visible_ids=visible_ids)
        return context

    def get_success_message(self, num_parent_objects, num_child_objects):
        if num_parent_objects != 1:
            return super().get_success_message(num_parent_objects, num_child_objects)
        # Wagtail names the one entry deleted: by its customer as the user may see them. A masked copy, since the
        # entries themselves go on to the site's ``after_delete_snippet`` hooks (a masked instance cannot be saved).
        # Wagtail's own string, translated by its catalogue: called through a name makemessages does not extract.
        translate = _
        return translate("%(model_name)s '%(object)s' deleted.") % {
            "model_name": capfirst(WatchlistEntry._meta.verbose_name),
            "object": shown_copy(self.request.user, self.actionable_objects[0].customer),
        }

    def check_perm(self, entry):
        user = self.request.user
        return scoped_entries(user).filter(pk=entry.pk).exists() and can(
            user, Action.MANAGE_WATCHLIST, entry.customer.account_id
        )

    @classmethod
    def execute_action(cls, objects, **kwargs):
        # Wagtail passes the bulk action view itself as ``self`` (for the request's user).
        user = kwargs["self"].request.user

        def delete():
            log_each(objects, "wagtail.delete", user=user, deleted=True)
            return super(WatchlistEntryBulkDeleteAction, cls).execute_action(objects, **kwargs)

        # Their customers locked first (in pk order), and recorded as a removal with the eye (services/watchlist.py).
        return delete_entries(objects, user, delete)


class WatchlistEntryChooserViewSet(SnippetChooserViewSet):
    """The chooser without its "create" URL: an entry needs a customer, picked on the customers listing."""

    choose_view_class = WatchlistEntryChooseView
    choose_results_view_class = WatchlistEntryChooseResultsView
    chosen_view_class = WatchlistEntryChosenView
    chosen_multiple_view_class = WatchlistEntryChosenMultipleView

    def get_urlpatterns(self):
        return [pattern for pattern in super().get_urlpatterns() if pattern.name != "create"]


class WatchlistEntryViewSet(ScopedViewSetMixin, SnippetViewSet):
    model = WatchlistEntry
    chooser_viewset_class = WatchlistEntryChooserViewSet
    #: In the Customers menu, not Wagtail's Snippets menu (``menu_item_is_registered`` follows from it).
    menu_hook = CUSTOMERS_MENU_HOOK
    # A copy of an entry could never be saved (one entry per customer).
    copy_view_enabled = False
    icon = "view"
    menu_label = gettext_lazy("Watchlist")
    add_to_admin_menu = False
    url_prefix = "customers/watchlist-entries"
    list_display = [
        "__str__",
        Column("account", label=gettext_lazy("Seller account"), accessor="customer.account.name"),
        "note",
        UserColumn("added_by", label=gettext_lazy("Added by")),
        DateColumn("created_at", label=gettext_lazy("Added"), sort_key="created_at"),
    ]
    # The buyer id and identity key find customers with no name and no e-mail by their label.
    search_fields = ["customer__name", "customer__email", "customer__external_id", "customer__identity_key", "note"]
    ordering = ["-created_at", "-pk"]
    panels = [FieldPanel("note")]
    index_view_class = WatchlistEntryIndexView
    edit_view_class = WatchlistEntryEditView
    history_view_class = WatchlistEntryHistoryView
    usage_view_class = WatchlistEntryUsageView
    add_view_class = AddFromCustomersListingView
    delete_view_class = WatchlistEntryDeleteView

    def get_queryset(self, request):
        return scoped_entries(request.user)

    def get_menu_item(self, order=None):
        return watchlist_menu_item(self)


watchlist_entry_viewset = WatchlistEntryViewSet()
