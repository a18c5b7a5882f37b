"""The watchlist rule form: its name and state, and its conditions as an inline formset (one to ``MAX_CONDITIONS``)."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from ...models import WatchlistMetric, WatchlistRule, WatchlistRuleCondition
from ...watchlist_rules.metrics import MAX_DAYS_SINCE_LAST_ORDER, METRICS_WITH_DAYS, WHOLE_NUMBER_METRICS

#: Conditions a rule may have.
MAX_CONDITIONS = 10


class WatchlistRuleForm(forms.ModelForm):
    """``accounts``: the seller accounts the user may choose (only when creating; a rule keeps its account)."""

    class Meta:
        model = WatchlistRule
        fields = ["account", "name", "is_enabled"]

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["account"]
        else:
            self.fields["account"].queryset = accounts
            self.fields["account"].empty_label = None if accounts.count() == 1 else _("Choose a seller account")

    def clean(self):
        cleaned = super().clean()
        if self.name_taken():
            self.add_error("name", self.duplicate_name_error())
        return cleaned

    def name_taken(self):
        """Whether another rule of the seller account has the name in ``cleaned_data`` (the database's, now)."""
        # On an existing rule the account is not a field, so the model's unique check skips (account, name).
        account = self.cleaned_data.get("account") if "account" in self.fields else self.instance.account
        name = self.cleaned_data.get("name")
        if account is None or not name:
            return False
        return WatchlistRule.objects.filter(account=account, name=name).exclude(pk=self.instance.pk).exists()

    @staticmethod
    def duplicate_name_error():
        return ValidationError(_("This seller account already has a rule of this name."), code="duplicate_name")


class WatchlistRuleConditionForm(forms.ModelForm):
    class Meta:
        model = WatchlistRuleCondition
        fields = ["metric", "operator", "value", "days"]
        widgets = {"value": forms.NumberInput(attrs={"step": "any", "min": "0"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Words in place of Django's "---------" for the choice not made yet.
        for name, prompt in (("metric", _("Choose a figure")), ("operator", _("Choose a comparison"))):
            field = self.fields[name]
            field.choices = [("", prompt), *[(value, label) for value, label in field.choices if value != ""]]

    def clean(self):
        cleaned = super().clean()
        metric, value, days = cleaned.get("metric"), cleaned.get("value"), cleaned.get("days")
        if metric in WHOLE_NUMBER_METRICS and value is not None and value != value.to_integral():
            self.add_error("value", ValidationError(_("Enter a whole number for this figure.")))
        if metric == WatchlistMetric.DAYS_SINCE_LAST_ORDER and value is not None and value > MAX_DAYS_SINCE_LAST_ORDER:
            self.add_error(
                "value",
                ValidationError(_("Enter at most %(days)s days.") % {"days": MAX_DAYS_SINCE_LAST_ORDER}),
            )
        if metric in METRICS_WITH_DAYS and not days:
            self.add_error("days", ValidationError(_("Enter the number of days this figure counts.")))
        if metric and metric not in METRICS_WITH_DAYS:
            cleaned["days"] = None
            self.instance.days = None
        return cleaned


class BaseConditionFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        # A row sent as a saved condition whose id is not one of this rule's (another rule's, one removed meanwhile,
        # a missing id): Django would make it a new object, then skip it on saving, and report nothing.
        if any(form.instance.pk is None for form in self.initial_forms):
            raise ValidationError(
                _(
                    "A condition sent with the form is not one of this rule's conditions, so nothing was saved. "
                    "Reload the page and make your changes again."
                ),
                code="unknown_condition",
            )
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) is not None
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        if not kept:
            raise ValidationError(_("A rule needs at least one condition."))


def condition_formset_class(extra):
    return inlineformset_factory(
        WatchlistRule,
        WatchlistRuleCondition,
        form=WatchlistRuleConditionForm,
        formset=BaseConditionFormSet,
        extra=extra,
        max_num=MAX_CONDITIONS,
        validate_max=True,
        can_delete=True,
        # A row not saved yet has nothing to remove: leaving it empty is enough.
        can_delete_extra=False,
    )
