"""Live connections of seller accounts to their channels (docs/howto/connect-a-store.md).

A ``ChannelConnection`` holds the encrypted credentials, the state, the cursor the next pull starts
from and the connection's health; ``services/channel_sync.py`` is the only writer of the sync fields.
``SyncRun`` is one pull, backfill or webhook delivery, for the counts per day and the last errors;
``WebhookDelivery`` remembers the delivery ids already recorded, so a redelivery is a no-op.
"""

import secrets as random_tokens

from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import SellerAccount

#: The stream the order pull's cursor is kept under in ``ChannelConnection.cursors``.
ORDERS_STREAM = "orders"


def new_webhook_token():
    return random_tokens.token_urlsafe(24)


class ConnectionState(models.TextChoices):
    NEVER_CONNECTED = "never_connected", _("Never connected")
    BACKFILLING = "backfilling", _("Importing history")
    LIVE = "live", _("Live")
    PAUSED = "paused", _("Paused")
    FAILING = "failing", _("Failing")


class ChannelConnection(models.Model):
    """One seller account's connection to its channel (``SellerAccount.channel`` names the adapter)."""

    account = models.OneToOneField(
        SellerAccount, on_delete=models.CASCADE, related_name="connection", verbose_name=_("seller account")
    )
    #: The credentials as a Fernet token (``wagtail_customers.credentials``); never shown, never logged.
    encrypted_credentials = models.TextField(_("credentials (encrypted)"), blank=True, editable=False)
    #: The random part of the public webhook URL (/customers-webhooks/<token>/); not a secret the
    #: signature depends on, only an address that does not reveal the account's id.
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token, editable=False)
    state = models.CharField(
        _("state"), max_length=20, choices=ConnectionState.choices, default=ConnectionState.NEVER_CONNECTED
    )
    #: Where each stream's next pull starts, as the adapter handed it back (stored with the page's orders).
    cursors = models.JSONField(_("cursors"), default=dict, blank=True)
    #: What the channel said its shop is called when the connection was last tested.
    shop_description = models.CharField(_("shop"), max_length=255, blank=True)
    #: The date chosen under "Import history from", as the user who chose it read it (shown on the page).
    backfill_from = models.DateField(_("import history from"), null=True, blank=True)
    #: Where the history import starts: midnight at the start of ``backfill_from`` in the time zone of the user who
    #: chose it (``services/channel_sync.py``, ``start_backfill``); the ``since`` every adapter is given. Connections
    #: whose import started before it was kept start at midnight UTC of their date, as they did (migration 0036).
    backfill_since = models.DateTimeField(_("import history from (moment)"), null=True, blank=True)
    backfill_orders = models.PositiveIntegerField(_("orders imported by the backfill"), default=0)
    #: The latest order date the backfill has reached (its progress through the history).
    backfill_reached = models.DateTimeField(_("backfill reached"), null=True, blank=True)
    backfill_started_at = models.DateTimeField(_("backfill started"), null=True, blank=True)
    backfill_finished_at = models.DateTimeField(_("backfill finished"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful sync"), null=True, blank=True)
    #: The channel's own message (adapters keep secrets out of it).
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    #: When the scheduler may sync next (back-off after errors); None: not scheduled (paused, or the
    #: credentials were refused and need the seller).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    #: When the admins were told the connection is failing (once per failing episode).
    failure_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: The last verified webhook delivery that named another shop than this connection's and was ignored: the
    #: shop domain or address it named (as the adapter gives it for showing, never the unsigned header as sent; cut
    #: to 255 characters; "" when the adapter gave none) and when it came. Shown on the connection page until a
    #: delivery from the connection's own shop comes or a credential field that is not a secret is saved changed
    #: (None then). Written by one best-effort conditional UPDATE (``services.channel_sync``).
    ignored_webhook_source = models.CharField(
        _("ignored webhook from"), max_length=255, null=True, blank=True, editable=False
    )
    ignored_webhook_at = models.DateTimeField(_("ignored webhook at"), null=True, blank=True, editable=False)
    # The lease that keeps two syncs of one connection apart: taken by a conditional UPDATE, renewed by
    # each page, and simply expired when a worker is killed.
    lock_token = models.CharField(max_length=32, blank=True, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel connection")
        verbose_name_plural = _("channel connections")

    def __str__(self):
        return str(self.account)

    @property
    def has_credentials(self):
        return bool(self.encrypted_credentials)

    def get_credentials(self):
        from ..credentials import decrypt_credentials

        return decrypt_credentials(self.encrypted_credentials) if self.encrypted_credentials else {}

    def set_credentials(self, credentials):
        from ..credentials import encrypt_credentials

        self.encrypted_credentials = encrypt_credentials(credentials)


class SyncKind(models.TextChoices):
    PULL = "pull", _("Pull")
    BACKFILL = "backfill", _("Backfill")
    WEBHOOK = "webhook", _("Webhook")


class SyncOutcome(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    #: Stopped early on purpose (rate limit longer than the wait cap, paused, lease lost); resumes later.
    INTERRUPTED = "interrupted", _("Interrupted")


class SyncRun(models.Model):
    """One pull, backfill run or webhook delivery of a connection."""

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(_("kind"), max_length=10, choices=SyncKind.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=SyncOutcome.choices, default=SyncOutcome.RUNNING)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    orders_created = models.PositiveIntegerField(_("orders created"), default=0)
    orders_updated = models.PositiveIntegerField(_("orders updated"), default=0)
    orders_unchanged = models.PositiveIntegerField(_("orders unchanged"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["connection", "-started_at"], name="wc_syncrun_conn_started")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"


class WebhookDelivery(models.Model):
    """A webhook delivery already recorded; kept ``WEBHOOK_DELIVERY_RETENTION_DAYS`` days."""

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=255)
    topic = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "delivery_id"], name="wc_webhook_delivery_unique"),
        ]

    def __str__(self):
        return self.delivery_id
