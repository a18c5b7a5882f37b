"""Watchlist rules, per seller account: list, create, edit, enable or disable, run now, delete.

Open to users who may manage the watchlist of at least one seller account (``Action.MANAGE_WATCHLIST``); each
sees and chooses only the rules and accounts they may manage it for. Others are refused before any rule is looked
up (the plugin's 403 page); a rule outside the user's accounts, or an id that is not one,
is 404. Changes are POSTs only (enable, disable, run and delete answer 405 to a GET, except delete's confirmation)
and are logged in the seller account's history (``services/watchlist_rules.log_rule``).
"""

from celery.result import EagerResult
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView, View
from wagtail.admin import messages
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton

from ...counts import grouped
from ...ids import parse_id
from ...models import WatchlistRule
from ...permissions import Action, accounts_for, can, has_module_permission
from ...services.watchlist_rules import CHANGE_ACTION, CREATE_ACTION, DELETE_ACTION, apply_rule, log_rule
from ...task_queue import queued, task_queue_configured
from ...watchlist_rules.tasks import run_watchlist_rule_task
from ..transactions import outside_request_transaction
from .forms import WatchlistRuleForm, condition_formset_class

INDEX = "wagtail_customers_watchlist_rules:index"


def may_manage_rules(user):
    """May the user open the rules' pages at all (some account, or the module-wide permission)?"""
    return has_module_permission(user, Action.MANAGE_WATCHLIST) or can(user, Action.MANAGE_WATCHLIST)


def rules_for(user):
    """The rules of the seller accounts whose watchlist the user may manage."""
    return WatchlistRule.objects.filter(account__in=accounts_for(user, Action.MANAGE_WATCHLIST)).select_related(
        "account"
    )


class RulesAccessMixin:
    header_icon = "view"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if not may_manage_rules(request.user):
            raise PermissionDenied

    def get_rule(self):
        pk = parse_id(self.kwargs.get("pk"))
        if pk is None:
            raise Http404
        return get_object_or_404(rules_for(self.request.user), pk=pk)

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": reverse(INDEX), "label": _("Watchlist rules")},
            {"url": "", "label": self.get_page_title()},
        ]


class RuleIndexView(RulesAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_customers/watchlist_rules/index.html"
    page_title = gettext_lazy("Watchlist rules")

    def get_breadcrumbs_items(self):
        return [{"url": reverse("wagtailadmin_home"), "label": _("Home")}, {"url": "", "label": self.page_title}]

    def get_header_buttons(self):
        if not accounts_for(self.request.user, Action.MANAGE_WATCHLIST).exists():
            return []
        return [
            HeaderButton(
                _("Add a rule"), url=reverse("wagtail_customers_watchlist_rules:add"), icon_name="plus", priority=10
            )
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rules"] = (
            rules_for(self.request.user)
            .prefetch_related("conditions")
            .annotate(watched=Count("entries"))
            .order_by("account__name", "name", "pk")
        )
        return context


class RuleFormView(RulesAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    """Create (no ``pk``) or edit a rule and its conditions."""

    template_name = "wagtail_customers/watchlist_rules/form.html"
    http_method_names = ["get", "post"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.rule = self.get_rule() if "pk" in kwargs else None
        self.accounts = accounts_for(request.user, Action.MANAGE_WATCHLIST)

    def get_page_title(self):
        return _("Edit watchlist rule") if self.rule else _("Add a watchlist rule")

    def get_page_subtitle(self):
        return self.rule.name if self.rule else ""

    def forms(self, data=None):
        instance = self.rule or WatchlistRule(created_by=self.request.user)
        form = WatchlistRuleForm(data, instance=instance, accounts=self.accounts)
        formset = condition_formset_class(extra=1 if self.rule else 3)(data, instance=instance, prefix="conditions")
        return form, formset

    def get(self, request, *args, **kwargs):
        if self.rule is None and not self.accounts.exists():
            messages.warning(request, _("There is no seller account whose watchlist you may manage."))
            return redirect(INDEX)
        form, formset = self.forms()
        return self.render_to_response(self.get_context_data(form=form, formset=formset))

    def post(self, request, *args, **kwargs):
        form, formset = self.forms(request.POST)
        # The formset needs the rule's account to validate (a new rule's comes from the form).
        if form.is_valid() and formset.is_valid():
            created = self.rule is None
            rule = self._save(form, formset)
            if rule is None:
                messages.validation_error(request, _("The rule could not be saved: correct the errors below."), form)
                return self.render_to_response(self.get_context_data(form=form, formset=formset))
            if created:
                messages.success(
                    request,
                    _("Watchlist rule “%(name)s” created. It runs on new orders and daily; “Run now” applies it now.")
                    % {"name": rule.name},
                )
            else:
                messages.success(request, _("Watchlist rule “%(name)s” saved.") % {"name": rule.name})
            return redirect(INDEX)
        messages.validation_error(request, _("The rule could not be saved: correct the errors below."), form)
        return self.render_to_response(self.get_context_data(form=form, formset=formset))

    def _save(self, form, formset):
        """Save the rule and its conditions and log it; None, with the form's name error, if the database refused the
        name: another request saved a rule of that name for the account since the form checked it (a double click
        on "Save", two people saving at once)."""
        created = self.rule is None
        try:
            # A savepoint of its own: on PostgreSQL the request's transaction stays usable after the refusal.
            with transaction.atomic():
                rule = form.save()
                formset.instance = rule
                formset.save()
                log_rule(rule, CREATE_ACTION if created else CHANGE_ACTION, self.request.user)
        except IntegrityError:
            if not form.name_taken():
                raise
            form.add_error("name", form.duplicate_name_error())
            if created:
                form.instance.pk = None
                form.instance._state.adding = True
            else:
                # The page's title keeps the name the rule has.
                self.rule.refresh_from_db(fields=["name"])
            return None
        return rule

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rule"] = self.rule
        context["action_url"] = (
            reverse("wagtail_customers_watchlist_rules:edit", args=(self.rule.pk,))
            if self.rule
            else reverse("wagtail_customers_watchlist_rules:add")
        )
        return context


class RuleDeleteView(RulesAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_customers/watchlist_rules/delete.html"
    page_title = gettext_lazy("Delete watchlist rule")
    http_method_names = ["get", "post"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.rule = self.get_rule()

    def get_page_subtitle(self):
        return self.rule.name

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rule"] = self.rule
        context["watched"] = self.rule.entries.count()
        return context

    def post(self, request, *args, **kwargs):
        rule = self.rule
        with transaction.atomic():
            # Logged before the rule (and its conditions) are gone; its entries stay, with their note.
            log_rule(rule, DELETE_ACTION, request.user)
            rule.delete()
        messages.success(request, _("Watchlist rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect(INDEX)


class RuleSetEnabledView(RulesAccessMixin, View):
    """POST ``enabled=1`` to enable the rule, anything else to disable it."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        rule = self.get_rule()
        enabled = request.POST.get("enabled") == "1"
        if rule.is_enabled != enabled:
            rule.is_enabled = enabled
            rule.save(update_fields=["is_enabled", "updated_at"])
            log_rule(rule, CHANGE_ACTION, request.user)
        if enabled:
            messages.success(request, _("Watchlist rule “%(name)s” enabled.") % {"name": rule.name})
        else:
            messages.success(request, _("Watchlist rule “%(name)s” disabled.") % {"name": rule.name})
        return redirect(INDEX)


class RuleRunView(RulesAccessMixin, View):
    """Apply the rule to all its account's customers (as the daily run does), on a Celery worker: a rule over a
    large account takes minutes, longer than a proxy waits for the answer. When tasks run eagerly, the answer says
    how many customers it added; with no task queue configured, the rule runs in the request, as before."""

    http_method_names = ["post"]

    @classmethod
    def as_view(cls, **initkwargs):
        # When the rule runs in the request (tasks run eagerly, or no task queue), each chunk of its customers
        # commits as it is added, not the whole run at the end of the request.
        return outside_request_transaction(super().as_view(**initkwargs))

    def post(self, request, *args, **kwargs):
        rule = self.get_rule()
        if not rule.is_enabled:
            messages.warning(request, _("Enable the rule “%(name)s” to run it.") % {"name": rule.name})
            return redirect(INDEX)
        if not task_queue_configured():
            self._ran(rule, apply_rule(rule))
            return redirect(INDEX)
        sent = []
        if not queued(lambda: sent.append(run_watchlist_rule_task.delay(rule.pk)), f"watchlist rule {rule.pk}"):
            messages.error(
                request,
                _("Watchlist rule “%(name)s” could not be run: the task queue is not reachable. Try again later.")
                % {"name": rule.name},
            )
        elif isinstance(sent[0], EagerResult):
            # Run at once, in this request (tasks run eagerly); ``get`` raises the task's error, as the run in the
            # request did. None: the rule was disabled meanwhile.
            self._ran(rule, sent[0].get() or 0)
        else:
            messages.success(
                request,
                _(
                    "Watchlist rule “%(name)s” is being applied to the customers of its seller account. The "
                    "watchlist updates when it is done."
                )
                % {"name": rule.name},
            )
        return redirect(INDEX)

    def _ran(self, rule, added):
        messages.success(
            self.request,
            ngettext(
                "Watchlist rule “%(name)s” ran: %(count)s customer added to the watchlist.",
                "Watchlist rule “%(name)s” ran: %(count)s customers added to the watchlist.",
                added,
            )
            % {"name": rule.name, "count": grouped(added)},
        )
