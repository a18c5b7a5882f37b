"""Sharing access: grant, change and revoke ``AccessGrant``s, each recorded in Wagtail's history.

The rules (also enforced by the Share access screen's forms, and documented in docs/concepts/permissions.md):

* only superusers and users with the share action on an account may share that account;
* they may give only actions they hold themselves on that account;
* "View customers" comes with every other action (the others work on the customers one can see);
* a grant's actions the sharer does not hold are left as they are; revoking a whole grant needs all of them;
* nobody changes their own grants here;
* a deactivated user is given nothing more, but their grants can still be reduced and revoked (else the access
  would come back unasked when the account is reactivated).
"""

from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from ..models import AccessGrant
from ..permissions import GRANT_FLAGS, Action, actions_on


class AccessError(Exception):
    """A share, change or revocation the rules refuse; the message says why, for the user."""


def grant_actions(grant):
    """The actions a grant gives, in the screen's order."""
    return [action for action in Action if getattr(grant, GRANT_FLAGS[action])]


def shareable_actions(by, account):
    """The actions ``by`` may give on ``account``: none without the share action, else those they hold."""
    held = actions_on(by, account)
    return held if Action.SHARE in held else frozenset()


def with_view(actions):
    actions = {Action(action) for action in actions}
    if actions:
        actions.add(Action.VIEW)
    return actions


def _check_target(by, user, *, widening):
    if user.pk == by.pk:
        raise AccessError(_("You cannot change your own access."))
    if widening and not user.is_active:
        raise AccessError(_("This user account is deactivated: its access can only be reduced or revoked."))


def _log(grant, action, by, previous):
    log(
        instance=grant,
        action=action,
        user=by,
        data={
            "user_id": grant.user_id,
            "user": grant.user.get_username(),
            "account_id": grant.account_id,
            "account": grant.account.name,
            "actions": [str(a) for a in grant_actions(grant)],
            "previous_actions": [str(a) for a in previous],
        },
    )


def can_revoke(by, grant):
    """May ``by`` remove this grant altogether (they hold every action it gives)?"""
    if grant.user_id == by.pk:
        return False
    giveable = shareable_actions(by, grant.account_id)
    return bool(giveable) and set(grant_actions(grant)) <= giveable


def share_access(by, user, accounts, actions):
    """Give ``user`` ``actions`` on each of ``accounts`` (adding to any grant they already have).

    Returns the grants created or changed. All or nothing: one refused account refuses the lot.
    """
    _check_target(by, user, widening=True)
    wanted = with_view(actions)
    if not wanted:
        raise AccessError(_("Tick at least one action."))
    changed = []
    with transaction.atomic():
        for account in accounts:
            giveable = shareable_actions(by, account)
            refused = wanted - giveable
            if refused:
                raise AccessError(
                    _("You cannot give %(actions)s on %(account)s.")
                    % {"actions": ", ".join(str(a.label) for a in Action if a in refused), "account": account}
                )
            grant = AccessGrant.objects.select_for_update().filter(user=user, account=account).first()
            created = grant is None
            if created:
                grant = AccessGrant(user=user, account=account, created_by=by)
                for flag in GRANT_FLAGS.values():
                    setattr(grant, flag, False)
                previous = []
            else:
                previous = grant_actions(grant)
            for action in wanted:
                setattr(grant, GRANT_FLAGS[action], True)
            if not created and set(grant_actions(grant)) == set(previous):
                continue
            grant.save()
            _log(
                grant, "wagtail_customers.access.grant" if created else "wagtail_customers.access.change", by, previous
            )
            changed.append(grant)
    return changed


def change_access(by, grant, actions):
    """Set the actions ``by`` holds on a grant to exactly ``actions``; the others stay as they are.

    Returns the grant, or ``None`` when nothing is left and the grant was removed (logged as a revocation).
    """
    _check_target(by, grant.user, widening=False)
    giveable = shareable_actions(by, grant.account_id)
    if not giveable:
        raise AccessError(_("You cannot share this seller account."))
    wanted = {Action(action) for action in actions}
    refused = wanted - giveable
    if refused:
        raise AccessError(_("You can only give actions you hold yourself."))
    with transaction.atomic():
        grant = AccessGrant.objects.select_for_update().select_related("user", "account").get(pk=grant.pk)
        previous = grant_actions(grant)
        for action in giveable:
            setattr(grant, GRANT_FLAGS[action], action in wanted)
        if any(getattr(grant, GRANT_FLAGS[action]) for action in Action if action != Action.VIEW):
            grant.can_view = True  # every other action works on the customers one can see
        remaining = grant_actions(grant)
        _check_target(by, grant.user, widening=not set(remaining) <= set(previous))
        if not remaining:
            _log(grant, "wagtail_customers.access.revoke", by, previous)
            grant.delete()
            return None
        if set(remaining) != set(previous):
            grant.save()
            _log(grant, "wagtail_customers.access.change", by, previous)
        return grant


def revoke_access(by, grant):
    """Remove a grant altogether (``by`` must hold every action it gives)."""
    _check_target(by, grant.user, widening=False)
    if not can_revoke(by, grant):
        raise AccessError(_("This access includes actions you do not hold, so you cannot revoke all of it."))
    with transaction.atomic():
        previous = grant_actions(grant)
        for flag in GRANT_FLAGS.values():
            setattr(grant, flag, False)
        _log(grant, "wagtail_customers.access.revoke", by, previous)
        grant.delete()
