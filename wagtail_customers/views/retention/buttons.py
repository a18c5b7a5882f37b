from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets.button import Button


class RetentionRuleButtonMixin:
    """The seller account's edit page: "Retention rule" in its header's "More" menu (only managers reach it)."""

    @cached_property
    def header_more_buttons(self):
        url = reverse("wagtail_customers_retention:rule", args=(self.object.pk,))
        return [*super().header_more_buttons, Button(_("Retention rule"), url=url, icon_name="history", priority=30)]
