from django import forms
from django.utils.translation import gettext as _

from ...models import Channel, RetentionRule


class RetentionRuleForm(forms.ModelForm):
    class Meta:
        model = RetentionRule
        fields = ["is_enabled", "basis", "days"]
        widgets = {"basis": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Amazon's policy is named on an Amazon account's rule only (it was on every channel's).
        help_text = _(
            "A customer's personal data is erased once every one of their orders is more than this many days past "
            "its date."
        )
        if self.instance.account_id and self.instance.account.channel == Channel.AMAZON:
            amazon = _("Amazon’s data protection policy asks for 30 days after shipment.")
            help_text = f"{help_text} {amazon}"
        self.fields["days"].help_text = help_text
