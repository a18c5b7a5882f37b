"""Alert preferences in the user's Wagtail account settings (Notifications tab): alerts in the admin on or off,
e-mail digests never / immediately / daily / weekly, and seller accounts to hear nothing about.

Wagtail's ``BaseSettingsPanel`` is the same in Wagtail 7.0 and 8 (``register_account_settings_panel`` hook,
``get_form`` and the form's ``save`` called by the account view), so no branch in ``compat.py`` is needed.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.account import BaseSettingsPanel, notifications_tab

from ..models import AlertNotification, AlertPreference, EmailFrequency
from ..permissions import Action, accounts_for, can
from .recipients import preference_for


class AlertPreferenceForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["in_admin", "email_frequency", "muted_accounts"]
        labels = {
            "in_admin": _("Show alerts in the admin"),
            "email_frequency": _("E-mail me about alerts"),
            "muted_accounts": _("No alerts about these seller accounts"),
        }
        help_texts = {
            "in_admin": _("Listed under Customers > Alerts, with the number of unread ones in the menu."),
            "email_frequency": _(
                "Immediately: one e-mail soon after each batch of orders. Digests: once a day or week."
            ),
            "muted_accounts": _("You are alerted about the watched customers of every seller account you may view."),
        }
        widgets = {
            "email_frequency": forms.RadioSelect,
            "muted_accounts": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible_accounts = accounts_for(user, Action.VIEW).order_by("name", "pk")
        self.fields["muted_accounts"].queryset = self.visible_accounts

    def save(self, commit=True):
        preference = super().save(commit=False)
        preference.save()
        # Accounts the user may not view (no longer, or not yet) stay as they were: not shown, not changed.
        hidden = preference.muted_accounts.exclude(pk__in=self.visible_accounts.values("pk")) if preference.pk else []
        preference.muted_accounts.set([*self.cleaned_data["muted_accounts"], *hidden])
        if preference.email_frequency == EmailFrequency.NEVER:
            # Nothing waits for an e-mail the user no longer wants (switching back starts from new alerts).
            AlertNotification.objects.filter(user=preference.user, email_due=True).update(email_due=False)
        return preference


class AlertSettingsPanel(BaseSettingsPanel):
    name = "wagtail_customers_alerts"
    title = _("Customer alerts")
    tab = notifications_tab
    order = 300
    form_class = AlertPreferenceForm

    def is_active(self):
        return can(self.user, Action.VIEW)

    def get_form(self):
        kwargs = {"instance": preference_for(self.user), "prefix": self.name, "user": self.user}
        # Bound only when the page sent this panel's fields (as Wagtail's password panel): a post of the account
        # page made without them (another panel's test, an older form) leaves the preferences alone.
        if self.request.method == "POST" and f"{self.name}-email_frequency" in self.request.POST:
            return self.form_class(self.request.POST, **kwargs)
        return self.form_class(**kwargs)
