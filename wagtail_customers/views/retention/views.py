"""One seller account's retention rule: set it, preview how many customers it would erase now, see its last runs.

Only users who may change seller accounts open it (``may_change_accounts``, as the account's own edit page): others
get 403 before the account is looked up, so account ids cannot be probed. The rule is applied by the daily task or
the command (services/retention.py), never by this page; "Preview" counts and saves nothing. A save that would
erase more than the saved rule (enabling it, fewer days, another basis) first shows how many customers it erases at
the next run and saves only when the seller confirms those same values.
"""

import copy

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.log_actions import log

from ...ids import parse_id
from ...models import RetentionRule, SellerAccount
from ...services.retention import RULE_ACTION, erases_more, next_run, preview
from ..listing.accounts import may_change_accounts
from .forms import RetentionRuleForm

#: Runs listed on the page, newest first.
RUNS_SHOWN = 10


def confirmation_key(rule):
    """The values a confirmation is for, as the confirm button sends them back."""
    return f"{int(rule.is_enabled)}:{rule.basis}:{rule.days}"


class RetentionRuleView(WagtailAdminTemplateMixin, FormView):
    form_class = RetentionRuleForm
    template_name = "wagtail_customers/retention/rule.html"
    page_title = gettext_lazy("Retention rule")
    header_icon = "history"
    http_method_names = ["get", "post"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if not may_change_accounts(request.user):
            raise PermissionDenied
        pk = parse_id(kwargs["account_id"])
        if pk is None:
            raise Http404
        self.account = get_object_or_404(SellerAccount, pk=pk)
        self.rule = RetentionRule.objects.filter(account=self.account).first()
        self.preview_count = None

    def get_page_subtitle(self):
        return self.account.name

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": reverse("wagtail_customers_accounts:index"), "label": _("Seller accounts")},
            {"url": reverse("wagtail_customers_accounts:edit", args=(self.account.pk,)), "label": self.account.name},
            {"url": "", "label": self.page_title},
        ]

    def get_form_kwargs(self):
        # A copy: validating the form writes its values into the instance, and the page shows the saved rule too.
        # A new rule starts disabled: one click on Save must not start daily erasure nobody has previewed.
        instance = copy.copy(self.rule) if self.rule else RetentionRule(account=self.account, days=30, is_enabled=False)
        return {**super().get_form_kwargs(), "instance": instance}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.preview_count is None and self.rule is not None:
            self.preview_count = preview(self.rule)
        context.update(
            account=self.account,
            rule=self.rule,
            preview_count=self.preview_count,
            runs=self.account.retention_runs.all()[:RUNS_SHOWN],
            action_url=reverse("wagtail_customers_retention:rule", args=(self.account.pk,)),
        )
        return context

    def form_valid(self, form):
        rule = form.save(commit=False)
        if "preview" in self.request.POST:
            # The rule as entered, counted now and not saved.
            self.preview_count = preview(rule)
            context = self.get_context_data(form=form)
            context["previewed_rule"] = rule
            return self.render_to_response(context)
        if erases_more(self.rule, rule) and self.request.POST.get("confirm") != confirmation_key(rule):
            # Asked again when the values confirmed are not the ones posted: only what was counted is saved.
            context = self.get_context_data(form=form)
            context.update(to_confirm=rule, confirm_count=preview(rule), confirm_key=confirmation_key(rule))
            context["next_run"] = next_run()
            return self.render_to_response(context)
        created = rule.pk is None
        rule.save()
        log(
            self.account,
            RULE_ACTION,
            user=self.request.user,
            data={"basis": rule.basis, "days": rule.days, "enabled": rule.is_enabled},
        )
        if created:
            messages.success(self.request, _("Retention rule set: %(rule)s.") % {"rule": rule.describe()})
        else:
            messages.success(self.request, _("Retention rule saved: %(rule)s.") % {"rule": rule.describe()})
        return redirect("wagtail_customers_retention:rule", self.account.pk)
