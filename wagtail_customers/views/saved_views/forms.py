"""The saved views' forms: "Save current view" (name and visibility) and the owner's edit form (also sharing)."""

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ...models import SavedView, SavedViewVisibility
from ...models.saved_views import saved_view_name_key
from ...services.saved_views import shareable_groups, shareable_users


def duplicate_name_error(name):
    return ValidationError(
        _("You already have a view named “%(name)s”. Choose another name."),
        code="duplicate_name",
        params={"name": name},
    )


class NamedViewForm(forms.ModelForm):
    """A view's name: required, and not one its owner already has (trimmed, in any case): the listing's menu and
    the Saved views page list a user's views by name alone. The database holds to it too (a unique key per owner,
    ``SavedView.name_key``): ``name_taken`` tells the views a save refused for it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A name of spaces only is stripped to nothing.
        self.fields["name"].error_messages["required"] = _("A saved view needs a name.")

    def clean_name(self):
        name = self.cleaned_data["name"]
        key = saved_view_name_key(name)
        # A view that keeps its name (in any case) is not checked: sharing it, or renaming it "vip" from "VIP", is
        # no new clash.
        if self.instance.pk is not None and key == saved_view_name_key(self.instance.name):
            return name
        if self.name_taken(key):
            raise duplicate_name_error(name)
        return name

    def name_taken(self, key=None):
        """Whether another of the owner's views has the name's key (by default, the cleaned name's)."""
        if key is None:
            key = saved_view_name_key(self.cleaned_data.get("name", ""))
        others = SavedView.objects.filter(owner_id=self.instance.owner_id, name_key=key)
        return others.exclude(pk=self.instance.pk).exists() if self.instance.pk else others.exists()


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
        elif cleaned.get("visibility") == SavedViewVisibility.SHARED:
            for name in ("shared_with_users", "shared_with_groups"):
                if name in cleaned:
                    cleaned[name] = [*cleaned[name], *self.shares_not_offered(name)]
        return cleaned

    def shares_not_offered(self, name):
        """The view's current shares in the field ``name`` the form does not offer: people (or groups) who see only
        accounts its owner no longer sees. They stay as they were, not shown and not changed: a rename would
        otherwise take the view away from them unasked. (They see nothing more through it than their own access.)"""
        if self.instance.pk is None:
            return []
        offered = self.fields[name].queryset.values("pk")
        return list(getattr(self.instance, name).exclude(pk__in=offered))
