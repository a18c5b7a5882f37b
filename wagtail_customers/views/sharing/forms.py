from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ...ids import IdModelMultipleChoiceField
from ...permissions import Action, accounts_for, actions_by_account
from ...services.access import grant_actions, shareable_actions, with_view
from ...services.admin_access import admin_access_group, may_let_sign_in

ACTION_HELP = _("“View customers” comes with every other action.")


#: The user search answers a name or user name prefix of at least this many characters (or a whole e-mail
#: address), so that it cannot list every user letter by letter.
MIN_SEARCH_LENGTH = 3


def is_email(query):
    try:
        validate_email(query)
    except ValidationError:
        return False
    return True


def find_users(query, exclude=None, limit=10):
    """Active users for the share form's user field.

    A whole e-mail address finds the users with exactly that address; anything else, of at least
    ``MIN_SEARCH_LENGTH`` characters, finds users whose user name, first name or last name starts with
    each word (case-insensitive). Never a search inside e-mail addresses (that would list them).
    """
    query = (query or "").strip()
    User = get_user_model()
    users = User.objects.filter(is_active=True)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    if "\x00" in query:
        # No name or address holds a NUL, and PostgreSQL refuses one in a query (a 500).
        return User.objects.none()
    if is_email(query):
        users = users.filter(email__iexact=query)
    elif len(query) < MIN_SEARCH_LENGTH:
        return User.objects.none()
    else:
        for word in query.split()[:4]:
            users = users.filter(
                Q(**{f"{User.USERNAME_FIELD}__istartswith": word})
                | Q(first_name__istartswith=word)
                | Q(last_name__istartswith=word)
            )
    return users.order_by(User.USERNAME_FIELD)[:limit]


def describe_user(user, query=""):
    """What the share form needs of a found user: the user name it submits and a name to recognise them by.
    The e-mail address only when the query was that address (the searcher knew it already)."""
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    described = {"username": user.get_username(), "name": full_name}
    if query and is_email(query) and user.email.lower() == query.lower():
        described["email"] = user.email
    return described


def _action_choices(actions):
    return [(action.value, action.label) for action in Action if action in actions]


class ShareAccessForm(forms.Form):
    """Find a user, tick seller accounts and actions."""

    user = forms.CharField(
        label=_("User"),
        max_length=254,
        help_text=_(
            "Type the start of their name or user name (three letters or more), or their whole e-mail address, "
            "and pick them from the list."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    accounts = IdModelMultipleChoiceField(
        label=_("Seller accounts"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    actions = forms.MultipleChoiceField(label=_("Actions"), widget=forms.CheckboxSelectMultiple, help_text=ACTION_HELP)

    def __init__(self, *args, sharer, **kwargs):
        super().__init__(*args, **kwargs)
        self.sharer = sharer
        self.fields["accounts"].queryset = accounts_for(sharer, Action.SHARE).order_by("name")
        held = set()
        for actions in actions_by_account(sharer, self.fields["accounts"].queryset).values():
            if Action.SHARE in actions:
                held |= actions
        self.fields["actions"].choices = _action_choices(held)
        self.fields["actions"].initial = [Action.VIEW.value]
        if may_let_sign_in(sharer):
            self.fields["admin_access"] = forms.BooleanField(
                label=_("Also let them sign in to the Wagtail admin"),
                required=False,
                help_text=_(
                    "Without it, people who cannot sign in yet get nothing from this access. "
                    "Adds them to the group “%(group)s”."
                )
                % {"group": admin_access_group().name},
            )

    def clean_user(self):
        value = self.cleaned_data["user"].strip()
        User = get_user_model()
        users = User.objects.filter(is_active=True)
        by_name = users.filter(**{f"{User.USERNAME_FIELD}__iexact": value})
        matches = list(by_name[:2]) or list(users.filter(email__iexact=value)[:2])
        if not matches:
            raise forms.ValidationError(_("No active user has this user name or e-mail address."))
        if len(matches) > 1:
            raise forms.ValidationError(_("Several users have this e-mail address: type the user name instead."))
        if matches[0].pk == self.sharer.pk:
            raise forms.ValidationError(_("You cannot change your own access."))
        return matches[0]

    def clean(self):
        cleaned = super().clean()
        accounts, actions = cleaned.get("accounts"), cleaned.get("actions")
        if accounts and actions:
            wanted = with_view(actions)
            for account in accounts:
                refused = wanted - shareable_actions(self.sharer, account)
                if refused:
                    labels = ", ".join(str(action.label) for action in Action if action in refused)
                    self.add_error(
                        "actions",
                        _("You cannot give %(actions)s on %(account)s.") % {"actions": labels, "account": account},
                    )
        return cleaned


class ChangeAccessForm(forms.Form):
    """The actions of one grant that the person changing it holds themselves."""

    actions = forms.MultipleChoiceField(
        label=_("Actions"), required=False, widget=forms.CheckboxSelectMultiple, help_text=ACTION_HELP
    )

    def __init__(self, *args, sharer, grant, **kwargs):
        super().__init__(*args, **kwargs)
        self.giveable = shareable_actions(sharer, grant.account_id)
        #: A deactivated user is given nothing more: only the actions they have are offered, to untick.
        self.deactivated = not grant.user.is_active
        offered = self.giveable & set(grant_actions(grant)) if self.deactivated else self.giveable
        self.fields["actions"].choices = _action_choices(offered)
        self.kept = [action for action in grant_actions(grant) if action not in self.giveable]
        self.fields["actions"].initial = [action.value for action in grant_actions(grant) if action in self.giveable]
