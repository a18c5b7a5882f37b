"""The plugin's actions in Wagtail's history (site history and each object's history view)."""

import uuid

from django.utils.translation import gettext_lazy as _

#: (action name, label, past-tense message); log with ``wagtail.log_actions.log(instance, action, user=...)``.
LOG_ACTIONS = [
    ("wagtail_customers.watchlist.add", _("Add to watchlist"), _("Added to the watchlist")),
    ("wagtail_customers.watchlist.remove", _("Remove from watchlist"), _("Removed from the watchlist")),
    ("wagtail_customers.email.sent", _("E-mail customer"), _("E-mail sent to the customer")),
    ("wagtail_customers.access.grant", _("Share access"), _("Access shared")),
    ("wagtail_customers.access.change", _("Change access"), _("Access changed")),
    ("wagtail_customers.access.revoke", _("Revoke access"), _("Access revoked")),
    ("wagtail_customers.access.admin_sign_in", _("Let sign in to the admin"), _("Added to the admin access group")),
    ("wagtail_customers.export.start", _("Start export"), _("Export started")),
    (
        "wagtail_customers.export.access_request",
        _("Download personal data"),
        _("Personal data downloaded (access request)"),
    ),
    ("wagtail_customers.import.apply", _("Import orders"), _("Orders imported")),
    ("wagtail_customers.customer.erase", _("Erase personal data"), _("Personal data erased")),
    ("wagtail_customers.customer.merge", _("Merge customers"), _("Another customer merged into this one")),
    ("wagtail_customers.customer.unmerge", _("Undo merge"), _("Merge undone: the merged customer restored")),
    ("wagtail_customers.retention.rule", _("Change retention rule"), _("Retention rule changed")),
    ("wagtail_customers.retention.apply", _("Apply retention rule"), _("Retention rule applied")),
    ("wagtail_customers.watchlist_rule.create", _("Create watchlist rule"), _("Watchlist rule created")),
    ("wagtail_customers.watchlist_rule.change", _("Change watchlist rule"), _("Watchlist rule changed")),
    ("wagtail_customers.watchlist_rule.delete", _("Delete watchlist rule"), _("Watchlist rule deleted")),
    ("wagtail_customers.saved_view.create", _("Save view"), _("Saved view created")),
    ("wagtail_customers.saved_view.change", _("Change saved view"), _("Saved view changed")),
    ("wagtail_customers.saved_view.delete", _("Delete saved view"), _("Saved view deleted")),
]


def register_customer_log_actions(actions):
    for action, label, message in LOG_ACTIONS:
        actions.register_action(action, label, message)


def log_each(instances, action, **kwargs):
    """Log ``action`` for each of ``instances``, each entry with an id of its own.

    Within an admin request Wagtail gives every entry the request's uuid, and Wagtail 8's history views keep only
    the latest entry of each uuid and action, whichever object it is about: an export of three seller accounts
    showed in the history of the last one only, a bulk watchlist change in the last customer's."""
    from wagtail.log_actions import log

    for instance in instances:
        log(instance, action, uuid=uuid.uuid4(), **kwargs)
