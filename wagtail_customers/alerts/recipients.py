"""Who is told about a watched customer of a seller account.

A user watches a seller account when they may view its customers (``Action.VIEW``: a grant, a group
permission or superuser status, as ``permissions.users_with_access`` says) and have not muted it in their
alert preferences. Without a preference row a user has the defaults: alerts in the admin, no e-mail.
"""

from dataclasses import dataclass

from ..models import AlertPreference, EmailFrequency
from ..permissions import Action, accounts_for, users_with_access


@dataclass(frozen=True)
class Recipient:
    user_id: int
    in_admin: bool
    email_frequency: str

    @property
    def wants_email(self):
        return self.email_frequency != EmailFrequency.NEVER


def preference_for(user):
    """The user's preference, unsaved with the defaults when they never saved one."""
    return AlertPreference.objects.filter(user=user).first() or AlertPreference(user=user)


def alerted_accounts(user):
    """The seller accounts whose alerts the user hears about now: those they may view and have not muted. Alerts
    recorded before a grant was taken away or an account muted are kept, but neither listed nor e-mailed."""
    muted = AlertPreference.muted_accounts.through.objects.filter(alertpreference__user_id=user.pk)
    return accounts_for(user).exclude(pk__in=muted.values("selleraccount_id"))


def recipients_for(account):
    """The users watching ``account`` who want its alerts somewhere (three queries)."""
    user_ids = list(users_with_access([Action.VIEW], account).values_list("pk", flat=True))
    preferences = {
        preference.user_id: preference for preference in AlertPreference.objects.filter(user_id__in=user_ids)
    }
    muted = set(
        AlertPreference.muted_accounts.through.objects.filter(
            alertpreference__user_id__in=user_ids, selleraccount_id=account.pk
        ).values_list("alertpreference__user_id", flat=True)
    )
    recipients = []
    for user_id in user_ids:
        if user_id in muted:
            continue
        preference = preferences.get(user_id) or AlertPreference()
        recipient = Recipient(user_id, preference.in_admin, preference.email_frequency)
        if recipient.in_admin or recipient.wants_email:
            recipients.append(recipient)
    return recipients
