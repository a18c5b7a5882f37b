from django import forms

from ...models import RetentionRule


class RetentionRuleForm(forms.ModelForm):
    class Meta:
        model = RetentionRule
        fields = ["is_enabled", "basis", "days"]
        widgets = {"basis": forms.RadioSelect}
