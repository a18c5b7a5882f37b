"""The seller account listing's "Retention" column: the rule and its last run, linked to the rule's page for
users who may change accounts. ``with_retention`` adds what it reads to the listing's queryset (a join and three
subqueries, no query per row)."""

from django.db.models import JSONField, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from ...models import RetentionRule, RetentionRun


def with_retention(queryset):
    latest = RetentionRun.objects.filter(account=OuterRef("pk")).order_by("-ran_at", "-pk")
    return queryset.select_related("retention_rule").annotate(
        retention_last_run_at=Subquery(latest.values("ran_at")[:1]),
        retention_last_erased=Subquery(latest.values("customers_erased")[:1]),
        retention_last_errors=Subquery(latest.values("errors")[:1], output_field=JSONField()),
    )


class RetentionColumn(Column):
    cell_template_name = "wagtail_customers/retention/_account_cell.html"

    def __init__(self, name="retention", **kwargs):
        kwargs.setdefault("label", _("Retention"))
        super().__init__(name, **kwargs)

    def get_cell_context_data(self, instance, parent_context):
        from ..listing.accounts import may_change_accounts

        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        try:
            context["rule"] = instance.retention_rule
        except RetentionRule.DoesNotExist:
            context["rule"] = None
        context["last_run_at"] = getattr(instance, "retention_last_run_at", None)
        context["last_run_erased"] = getattr(instance, "retention_last_erased", None) or 0
        context["last_run_errors"] = bool(getattr(instance, "retention_last_errors", None))
        context["url"] = (
            reverse("wagtail_customers_retention:rule", args=[instance.pk])
            if request is not None and may_change_accounts(request.user)
            else None
        )
        return context
