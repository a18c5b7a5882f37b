"""The saved views' forms: "Save current view" (name and visibility) and the owner's edit form (also sharing)."""

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ...models import SavedView, SavedViewVisibility
from ...services.saved_views import shareable_groups, shareable_users


class NamedViewForm(forms.ModelForm):
    """A view's name: required, and not one its owner already has (trimmed, in any case): the listing's menu and
    the Saved views page list a user's views by name alone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A name of spaces only is stripped to nothing.
        self.fields["name"].error_messages["required"] = _("A saved view needs a name.")

    def clean_name(self):
        name = self.cleaned_data["name"]
        # Compared in Python: SQLite's case-insensitive match knows only ASCII letters.
        others = SavedView.objects.filter(owner_id=self.instance.owner_id).exclude(pk=self.instance.pk)
        if any(other.strip().casefold() == name.casefold() for other in others.values_list("name", flat=True)):
            raise ValidationError(
                _("You already have a view named “%(name)s”. Choose another name."),
                code="duplicate_name",
                params={"name": name},
            )
        return name


class SaveViewForm(NamedViewForm):
    """The listing's "Save current view": the listing's state comes with it in hidden fields."""

    class Meta:
        model = SavedView
        fields = ["name", "visibility"]
        widgets = {"visibility": forms.RadioSelect}


class UserChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        login = user.get_username()
        return f"{name} ({login})" if name else login


class EditViewForm(NamedViewForm):
    """Rename and (re-)share a view. Only people who may see at least one of its seller accounts are offered,
    and only they are accepted: any other posted id is an invalid choice."""

    shared_with_users = UserChoiceField(
        label=_("Share with these users"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only people who may see at least one of this view's seller accounts are listed."),
    )
    shared_with_groups = forms.ModelMultipleChoiceField(
        label=_("Share with these groups"),
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members who may see none of this view's seller accounts see nothing more through it."),
    )

    class Meta:
        model = SavedView
        fields = ["name", "visibility", "shared_with_users", "shared_with_groups"]
        widgets = {"visibility": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shared_with_users"].queryset = shareable_users(self.instance)
        self.fields["shared_with_groups"].queryset = shareable_groups(self.instance)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("visibility") == SavedViewVisibility.PRIVATE:
            # Private: nobody else keeps it.
            cleaned["shared_with_users"] = []
            cleaned["shared_with_groups"] = []
        return cleaned
