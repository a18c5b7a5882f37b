"""The Connection page of a seller account: ``/admin/customers/connections/<account id>/``.

Credentials (secrets write-only), "Test connection", "Connect and import history" with the backfill's
progress, the state and health, the last runs, counts per day, "Sync now", "Pause" and "Resume". Only
users who may change seller accounts open it (as the seller account's own edit view): anyone else is
refused before the account is looked up, so ids cannot be probed. Every change is a POST.
"""

import logging
import traceback
from datetime import datetime, time, timedelta

from celery.result import EagerResult
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...channels.base import ChannelError
from ...channels.registry import get_adapter_class
from ...credentials import encryption_available
from ...ids import parse_id
from ...local_time import local_datetime
from ...models import ChannelConnection, ConnectionState, SellerAccount, SyncOutcome
from ...services import channel_sync
from ...task_queue import queued, task_queue_configured
from ..listing.accounts import may_change_accounts
from .forms import ConnectForm, CredentialsForm

logger = logging.getLogger("wagtail_customers.channels")

#: Runs listed on the page, and days of the counts per day.
RECENT_RUNS = 10
COUNT_DAYS = 14


def account_or_404(request, account_id):
    if not may_change_accounts(request.user):
        raise PermissionDenied
    pk = parse_id(str(account_id))
    if pk is None:
        raise Http404
    return get_object_or_404(SellerAccount, pk=pk)


def connection_for(account):
    connection = ChannelConnection.objects.filter(account=account).first()
    return connection or ChannelConnection(account=account)


def queue_sync(connection, request=None, queued_message=None):
    """Queue a sync of the connection after the request's transaction; False without a task queue.

    Once it is sent, ``queued_message`` (if any) is shown, unless the sync has already failed by then (a task
    queue that runs tasks at once, or a fast worker): the connection's error is shown instead; or, tasks run at
    once, it found another sync running: that is said instead. If the task queue
    cannot be reached, an error says so instead of the page answering 500: what the request saved stays saved,
    and the scheduler syncs the connection when it is due and the queue answers again."""
    if not task_queue_configured():
        return False
    from ...channels.tasks import sync_connection_task

    def send():
        sent_at = timezone.now()
        sent = []
        if not queued(
            lambda: sent.append(sync_connection_task.delay(connection.pk)), f"a sync of connection {connection.pk}"
        ):
            if request is not None:
                messages.error(
                    request,
                    _(
                        "No sync could be queued now: the task queue is not reachable. The scheduler syncs the "
                        "connection once the queue answers again."
                    ),
                )
        elif request is not None and queued_message:
            if _ran_busy(sent):
                # Run at once (eager mode) and found another sync holding the connection: nothing was queued.
                messages.info(request, _("A sync is already running; its results will show here."))
            elif not _failed_since(request, connection, sent_at):
                messages.success(request, queued_message)

    transaction.on_commit(send)
    return True


def _ran_busy(sent):
    """Whether the sync ran at once (tasks run eagerly) and did nothing, another sync holding its connection. (A
    task sent to a worker has no result to read here.)"""
    return bool(sent) and isinstance(sent[0], EagerResult) and sent[0].result == "busy"


def _failed_since(request, connection, since):
    """Show the connection's error if a sync failed since ``since`` (it ran before the page comes back); True then."""
    current = ChannelConnection.objects.filter(pk=connection.pk).values("state", "last_error", "last_error_at").first()
    if not current or not current["last_error_at"] or current["last_error_at"] < since:
        return False
    if current["state"] == ConnectionState.FAILING:
        messages.error(
            request,
            # Translators: %(error)s is the sync's error, one or more whole sentences with their own full stop.
            _("The sync failed and the connection is failing: %(error)s") % {"error": current["last_error"]},
        )
    else:
        messages.warning(
            request,
            # Translators: %(error)s is the sync's error, one or more whole sentences with their own full stop.
            _("The sync failed; it is tried again later: %(error)s") % {"error": current["last_error"]},
        )
    return True


def _page(account):
    return reverse("wagtail_customers_connections:connection", args=[account.pk])


class ConnectionView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_customers/connections/connection.html"
    header_icon = "site"
    _show_breadcrumbs = True

    def dispatch(self, request, *args, **kwargs):
        self._load(account_or_404(request, kwargs["account_id"]))
        return super().dispatch(request, *args, **kwargs)

    def _load(self, account):
        self.account = account
        self.connection = connection_for(account)
        self.adapter_class = get_adapter_class(account.channel)

    @classmethod
    def render_with(cls, request, account_id, **forms):
        """The page of the account ``account_id`` with bound forms (their errors by their fields), from another
        URL's view: refused as the page itself is (``account_or_404``) to a user who may not change accounts."""
        view = cls()
        view.setup(request, account_id=account_id)
        view._load(account_or_404(request, account_id))
        return view.render_to_response(view.get_context_data(**forms))

    def get_page_title(self):
        return _("Connection of %(account)s") % {"account": self.account}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("wagtail_customers_accounts:index"), "label": _("Seller accounts")},
            {"url": reverse("wagtail_customers_accounts:edit", args=[self.account.pk]), "label": str(self.account)},
            {"url": "", "label": self.get_page_title()},
        ]

    def credentials_form(self, data=None):
        stored = {}
        if self.connection.has_credentials and encryption_available():
            try:
                stored = self.connection.get_credentials()
            except Exception:  # noqa: BLE001 - unreadable: the form starts empty
                stored = {}
        return CredentialsForm(
            data, credential_fields=getattr(self.adapter_class, "credential_fields", ()), stored=stored
        )

    def post(self, request, *args, **kwargs):
        """Save the credentials (the form's only POST here; the actions have their own URLs)."""
        if self.adapter_class is None or not encryption_available():
            raise Http404
        form = self.credentials_form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(credentials_form=form))
        connection = self.connection
        connection.set_credentials(form.credentials())
        if connection.pk:
            # Only the credentials: a sync committing pages meanwhile keeps its cursor, counts, state and lease
            # (a full save would write back what this request read).
            update_fields = ["encrypted_credentials"]
            if form.address_changed():
                # The warning about a delivery from another address was about the old store URL (or shop domain).
                connection.ignored_webhook_source = connection.ignored_webhook_at = None
                update_fields += ["ignored_webhook_source", "ignored_webhook_at"]
            connection.save(update_fields=update_fields)
        else:
            connection.save()
        if connection.state in (ConnectionState.FAILING, ConnectionState.BACKFILLING, ConnectionState.LIVE):
            # New credentials: try again now, as a fresh episode.
            channel_sync.resume(connection)
            queue_sync(connection, request)
        messages.success(request, _("The credentials were saved (encrypted)."))
        return redirect(_page(self.account))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        connection = self.connection
        runs = list(connection.runs.all()[:RECENT_RUNS]) if connection.pk else []
        context.update(
            account=self.account,
            connection=connection,
            # Not the class itself: a template would call it.
            connectable=self.adapter_class is not None,
            encryption_available=encryption_available(),
            task_queue=task_queue_configured(),
            credentials_form=kwargs.get("credentials_form") or self.credentials_form(),
            connect_form=kwargs.get("connect_form") or ConnectForm(initial={"backfill_from": connection.backfill_from}),
            runs=runs,
            days=counts_per_day(connection) if connection.pk else [],
            webhook_url=self.webhook_url(),
            ignored_webhook=self.ignored_webhook(),
            states=ConnectionState,
        )
        return context

    def ignored_webhook(self):
        """The last delivery ignored for naming another shop, for the page's warning: when, which shop it named
        ("" if the adapter did not say), this connection's (as the adapter compares it; "" if unknown) and the
        channel's advice (``ChannelAdapter.ignored_webhook_advice``)."""
        connection = self.connection
        if not (connection.pk and connection.ignored_webhook_at and connection.has_credentials):
            return None
        if not encryption_available():  # the page says only that credentials cannot be stored
            return None
        try:
            own = channel_sync.build_adapter(connection).webhook_own_shop()
        except (ChannelError, ImproperlyConfigured, ValueError, TypeError):
            # Credentials this site cannot read or the adapter refuses: the warning names only the sender.
            own = ""
        at = connection.ignored_webhook_at
        at = local_datetime(at)
        return {
            "at": at,
            # A <time> element, so the date is read by machines too (its text is the site's date format).
            "when": format_html('<time datetime="{}">{}</time>', at.isoformat(), date_format(at, "DATETIME_FORMAT")),
            "source": connection.ignored_webhook_source or "",
            "own": own,
            "advice": getattr(self.adapter_class, "ignored_webhook_advice", ""),
        }

    def webhook_url(self):
        """The address to register with the channel, "" when the site's urls.py does not include the webhook URLs
        (optional: a site may only pull), None when the channel or the connection takes no webhooks."""
        if not (self.connection.pk and getattr(self.adapter_class, "webhook_topics", ())):
            return None
        try:
            path = reverse("wagtail_customers_webhooks:receive", args=[self.connection.webhook_token])
        except NoReverseMatch:
            return ""
        return self.request.build_absolute_uri(path)


def counts_per_day(connection, days=COUNT_DAYS):
    """The runs of the last ``days`` days, today included, one row per day with runs, newest first.

    Whole days in the current time zone (the user's, in the admin), the zone ``TruncDate`` groups by: a window of
    ``now - days`` to the minute made its oldest row a part of its day only, with fewer runs than it had.
    """
    first_day = local_datetime(timezone.now()).date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min)
    if settings.USE_TZ:  # a site without time zones stores naive datetimes (in its zone, as TruncDate reads them)
        since = timezone.make_aware(since)
    return list(
        connection.runs.filter(started_at__gte=since)
        .annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(
            runs=Count("pk"),
            failed=Count("pk", filter=Q(outcome=SyncOutcome.FAILED)),
            created=Sum("orders_created"),
            updated=Sum("orders_updated"),
        )
        .order_by("-day")
    )


def _stored_connection(request, account_id):
    account = account_or_404(request, account_id)
    connection = ChannelConnection.objects.filter(account=account).first()
    return account, connection


@require_POST
def test_connection(request, account_id):
    account, connection = _stored_connection(request, account_id)
    if connection is None or not connection.has_credentials:
        messages.error(request, _("Enter and save the credentials first."))
        return redirect(_page(account))
    try:
        description = channel_sync.build_adapter(connection).check()
    except ChannelError as error:
        messages.error(request, _("The connection does not work: %(error)s") % {"error": error.message})
    except Exception as error:  # noqa: BLE001 - a message rather than a 500; never the exception's text
        # Its text may carry a request URL with credentials in it: only its type and traceback are logged.
        logger.error(
            "Testing connection %s failed with %s:\n%s",
            connection.pk,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        messages.error(
            request,
            _(
                "Something unexpected went wrong while testing the connection; the site's administrators can find "
                "the details in the server log."
            ),
        )
    else:
        connection.shop_description = str(description or "")[:255]
        connection.save(update_fields=["shop_description"])
        messages.success(
            request, _("The connection works: %(shop)s.") % {"shop": connection.shop_description or account}
        )
    return redirect(_page(account))


@require_POST
def connect(request, account_id):
    """Start importing the history from the chosen date; the connection goes live when it is done."""
    account, connection = _stored_connection(request, account_id)
    if connection is None or not connection.has_credentials:
        messages.error(request, _("Enter and save the credentials first."))
        return redirect(_page(account))
    form = ConnectForm(request.POST)
    if not form.is_valid():
        # The page again, with the error by the field and the date as typed, and said at the top as Wagtail does.
        messages.validation_error(request, _("The history could not be imported: check the date below."), form)
        return ConnectionView.render_with(request, account.pk, connect_form=form)
    if not task_queue_configured():
        messages.error(request, _("Importing the history needs the site's Celery task queue, which is not set up."))
        return redirect(_page(account))
    channel_sync.start_backfill(connection, form.cleaned_data["backfill_from"])
    queue_sync(
        connection,
        request,
        queued_message=_("Importing the history in the background; this page shows its progress."),
    )
    return redirect(_page(account))


@require_POST
def sync_now(request, account_id):
    account, connection = _stored_connection(request, account_id)
    if connection is None or connection.state in (ConnectionState.NEVER_CONNECTED, ConnectionState.PAUSED):
        messages.error(request, _("Connect the account (or resume it) first."))
        return redirect(_page(account))
    if not queue_sync(connection, request, queued_message=_("A sync was queued.")):
        messages.error(request, _("Syncing needs the site's Celery task queue, which is not set up."))
    return redirect(_page(account))


@require_POST
def pause(request, account_id):
    account, connection = _stored_connection(request, account_id)
    if connection is not None and connection.state != ConnectionState.NEVER_CONNECTED:
        channel_sync.pause(connection)
        messages.success(request, _("The connection is paused: no sync runs and webhooks are ignored."))
    return redirect(_page(account))


@require_POST
def resume(request, account_id):
    account, connection = _stored_connection(request, account_id)
    if connection is not None and connection.state == ConnectionState.PAUSED:
        channel_sync.resume(connection)
        messages.success(request, _("The connection is resumed."))
        queue_sync(connection, request)
    return redirect(_page(account))
