import re
import socket
import socketserver
import threading
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from tests.customer_page_support import staff_user
from tests.factories import order_data
from tests.parallel_support import in_thread, run_while_held
from wagtail_customers.models import Channel, Customer, EventKind, OrderEvent, SellerAccount
from wagtail_customers.services.contact import contact_url, send_customer_email
from wagtail_customers.services.deletion import delete_customers
from wagtail_customers.services.ingestion import record_order

pytestmark = pytest.mark.django_db

AMAZON_TEMPLATE = "https://sellercentral.amazon.de/messaging/contact?orderID={order_id}&marketplaceID={marketplace}"


def email_url(customer_id, query=""):
    return reverse("wagtail_customers_customer:email", args=[customer_id]) + query


@pytest.fixture
def order(account):
    return record_order(account, order_data("1001"))


@pytest.fixture
def mailer(client, account):
    client.force_login(staff_user("mailer", {account: {"can_view": True, "can_email": True}}))
    return client


def test_form_sends_records_and_logs(mailer, order, settings):
    settings.WAGTAIL_CUSTOMERS = {"FROM_EMAIL": "Shop A <care@shop-a.example>"}
    customer = order.customer
    response = mailer.get(email_url(customer.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("reason", "subject", "message", "order"):
        assert f'name="{field}"' in html
    # The reasons of Amazon's "Contact buyer" form, one of them required.
    for label in ("Order information", "Shipping", "Return or refund", "Feedback request", "Other"):
        assert f">{label}</option>" in html
    assert "ada@example.com" in html and "care@shop-a.example" in html

    response = mailer.post(
        email_url(customer.pk),
        {"reason": "shipping", "subject": "Your parcel", "message": "Hello <Ada>,\nit left today.", "order": "1001"},
    )
    detail = reverse("wagtail_customers_customer:detail", args=[customer.pk])
    assert response.status_code == 302 and response["Location"] == detail

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ada@example.com"]
    assert sent.from_email == "Shop A <care@shop-a.example>"
    assert sent.subject == "Shipping: Your parcel"
    assert sent.body == "Hello <Ada>,\nit left today."
    assert sent.content_subtype == "plain" and not getattr(sent, "alternatives", [])

    event = OrderEvent.objects.get(customer=customer, kind=EventKind.EMAIL)
    assert event.order == order and event.user.username == "mailer"
    assert event.message == "Shipping: Your parcel\n\nHello <Ada>,\nit left today."
    entry = ModelLogEntry.objects.get(action="wagtail_customers.email.sent")
    assert entry.object_id == str(customer.pk) and entry.user.username == "mailer"
    assert entry.data["subject"] == "Shipping: Your parcel" and entry.data["order"] == "1001"
    assert entry.data["reason"] == "shipping"

    # On the timeline, escaped, under its order.
    page = mailer.get(detail).content.decode()
    assert "E-mail sent" in page and "Shipping: Your parcel" in page
    assert "Hello &lt;Ada&gt;,<br>it left today." in page
    assert "Hello <Ada>" not in page


def test_sender_defaults_to_default_from_email(mailer, order, settings):
    settings.DEFAULT_FROM_EMAIL = "noreply@example.org"
    settings.WAGTAIL_CUSTOMERS = {}
    mailer.post(email_url(order.customer_id), {"reason": "other", "subject": "Hi", "message": "Text"})
    assert mail.outbox[0].from_email == "noreply@example.org"
    assert OrderEvent.objects.get(kind=EventKind.EMAIL).order is None


def test_order_query_parameter_prefills_and_is_scoped(mailer, order, account, other_account):
    other_customers_order = record_order(account, order_data("2002", email="grace@example.com"))
    other_accounts_order = record_order(other_account, order_data("3003"))
    html = mailer.get(email_url(order.customer_id, f"?order={order.pk}")).content.decode()
    assert re.search(r'name="order"[^>]*value="1001"', html)
    for value in (other_customers_order.pk, other_accounts_order.pk, "abc", "99999999999999999999999", "-1"):
        assert mailer.get(email_url(order.customer_id, f"?order={value}")).status_code == 404, value


def test_invalid_form_sends_nothing(mailer, order):
    url = email_url(order.customer_id)
    cases = [
        ({"reason": "other", "subject": "", "message": "x"}, "This field is required"),
        ({"subject": "Hi", "message": "x"}, "This field is required"),
        ({"reason": "spam", "subject": "Hi", "message": "x"}, "Select a valid choice."),
        (
            {"reason": "other", "subject": "Hi\r\nBcc: all@example.com", "message": "x"},
            "The subject must be on one line.",
        ),
        (
            {"reason": "other", "subject": "Hi", "message": "x", "order": "9999"},
            "This customer has no order with this id.",
        ),
    ]
    for data, error in cases:
        response = mailer.post(url, data)
        assert response.status_code == 200
        assert error in response.content.decode(), error
    assert mail.outbox == []
    assert not OrderEvent.objects.filter(kind=EventKind.EMAIL).exists()


@pytest.mark.parametrize("line_break", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_subject_with_any_line_break_is_refused_by_the_form(mailer, order, line_break):
    # Every character str.splitlines() breaks on, which Python's e-mail package refuses in a header: the form
    # says so, instead of a failed send blaming the site's e-mail settings.
    response = mailer.post(
        email_url(order.customer_id),
        {"reason": "other", "subject": f"Your parcel{line_break}Bcc: all@example.com", "message": "x"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The subject must be on one line." in html
    assert "could not be sent" not in html
    assert mail.outbox == []
    assert not OrderEvent.objects.filter(kind=EventKind.EMAIL).exists()


def test_customer_without_email_gets_a_message_not_a_form(mailer, account):
    customer = record_order(account, order_data("5005", email="", buyer_id="")).customer
    html = mailer.get(email_url(customer.pk)).content.decode()
    assert "This customer has no e-mail address" in html
    assert 'name="subject"' not in html
    assert mailer.post(email_url(customer.pk), {"subject": "Hi", "message": "x"}).status_code == 400
    assert mail.outbox == []


def test_contact_url_template_sends_users_to_the_channel(mailer, account, client):
    account.contact_url_template = AMAZON_TEMPLATE
    account.marketplace = "A1PA6795UKMFR9 de"
    account.save()
    order = record_order(account, order_data("302-123 4567/8"))
    customer = order.customer
    expected = "https://sellercentral.amazon.de/messaging/contact?orderID=302-123%204567%2F8&amp;marketplaceID=A1PA6795UKMFR9%20de"

    html = mailer.get(email_url(customer.pk, f"?order={order.pk}")).content.decode()
    assert f'href="{expected}" target="_blank" rel="noopener noreferrer"' in html
    assert 'name="subject"' not in html
    assert mailer.post(email_url(customer.pk), {"subject": "Hi", "message": "x"}).status_code == 400
    assert mail.outbox == []

    # The header button, its copy in the header's Actions menu for a phone, and each order's menu open the channel's
    # page in a new tab.
    page = mailer.get(reverse("wagtail_customers_customer:detail", args=[customer.pk])).content.decode()
    links = re.findall(rf'<a href="{re.escape(expected)}"[^>]*>', page)
    assert len(links) == 3
    assert all('target="_blank"' in link and 'rel="noopener noreferrer"' in link for link in links)


@pytest.mark.parametrize(
    "template",
    [
        "https://example.com/{order_id.__class__}",
        "https://example.com/{0}",
        "https://example.com/{order_id!r}",
        "https://example.com/{order_id:>40}",
        "https://example.com/{buyer}",
        "https://example.com/{order_id",
        "javascript:alert({order_id})",
        "ftp://example.com/{order_id}",
        "//example.com/{order_id}",
        "{marketplace}",
    ],
)
def test_contact_url_refuses_unsafe_templates(account, template):
    account.contact_url_template = template
    account.marketplace = "https://evil.example"
    order = record_order(account, order_data("1"))
    assert contact_url(account, order) is None


def test_contact_url_needs_an_order_for_order_placeholders(account):
    account.contact_url_template = "https://example.com/contact?o={order_id}"
    assert contact_url(account) is None
    account.contact_url_template = "https://example.com/contact/{marketplace}"
    account.marketplace = "amazon.de"
    assert contact_url(account) == "https://example.com/contact/amazon.de"


def test_unsafe_template_falls_back_to_the_form(mailer, account, order):
    SellerAccount.objects.filter(pk=account.pk).update(contact_url_template="javascript:alert(1)")
    html = mailer.get(email_url(order.customer_id)).content.decode()
    assert 'name="subject"' in html and "javascript:" not in html


def test_failed_delivery_records_nothing(mailer, order, settings):
    # A real SMTP connection to a port nobody listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    response = mailer.post(email_url(order.customer_id), {"reason": "other", "subject": "Hi", "message": "x"})
    assert response.status_code == 502
    assert "The e-mail could not be sent" in response.content.decode()
    assert not OrderEvent.objects.filter(kind=EventKind.EMAIL).exists()
    assert not ModelLogEntry.objects.filter(action="wagtail_customers.email.sent").exists()


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend; refuses every recipient when the server says so."""

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 127.0.0.1 test SMTP")
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 127.0.0.1")
            elif command.startswith("RCPT") and self.server.refuse_recipients:
                self.reply("550 5.1.1 <ada@example.com>: mailbox unavailable")
            elif command == "DATA":
                self.reply("354 go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                with self.server.count_lock:
                    self.server.delivered += 1
                    first = self.server.delivered == 1
                if first and self.server.hold_first is not None:
                    # A slow mail server: the first e-mail is on its way until the test lets it through.
                    self.server.first_arrived.set()
                    self.server.hold_first.wait(30)
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1, used by Django's SMTP backend."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.daemon_threads, server.refuse_recipients = True, False
    server.delivered, server.count_lock, server.hold_first, server.first_arrived = 0, threading.Lock(), None, None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.server_address[1], 5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def masked_mailer(client, account):
    """May e-mail the customers, may not see their personal data."""
    grants = {account: {"can_view": True, "can_email": True, "can_see_personal_data": False}}
    client.force_login(staff_user("maskedmailer", grants))
    return client


def test_an_address_django_refuses_is_not_shown_to_a_user_without_personal_data(
    masked_mailer, order, smtp_server, caplog
):
    order.customer.__class__.objects.filter(pk=order.customer_id).update(email="a@x.com, b@y.com")
    response = masked_mailer.post(email_url(order.customer_id), {"reason": "other", "subject": "Hi", "message": "x"})
    assert response.status_code == 502
    html = response.content.decode()
    assert "the customer&#x27;s stored e-mail address is not a valid single address" in html
    assert "a@x.com" not in html and "b@y.com" not in html
    assert not OrderEvent.objects.filter(kind=EventKind.EMAIL).exists()
    # The details are for the site's administrators, in the log.
    assert "a@x.com, b@y.com" in caplog.text


def test_a_recipient_the_mail_server_refuses_is_not_shown_to_a_user_without_personal_data(
    masked_mailer, order, smtp_server
):
    smtp_server.refuse_recipients = True
    response = masked_mailer.post(email_url(order.customer_id), {"reason": "other", "subject": "Hi", "message": "x"})
    assert response.status_code == 502
    html = response.content.decode()
    assert "the mail server refused the customer&#x27;s e-mail address" in html
    assert "ada@example.com" not in html
    assert not OrderEvent.objects.filter(kind=EventKind.EMAIL).exists()


def test_the_test_smtp_server_delivers(mailer, order, smtp_server):
    response = mailer.post(email_url(order.customer_id), {"reason": "other", "subject": "Hi", "message": "x"})
    assert response.status_code == 302
    assert OrderEvent.objects.filter(kind=EventKind.EMAIL).count() == 1


def test_the_send_button_shows_progress_and_is_disabled_while_sending(mailer, order):
    html = mailer.get(email_url(order.customer_id)).content.decode()
    button = re.search(r'<button type="submit"[^>]*>', html)[0]
    assert "button-longrunning" in button
    assert 'data-controller="w-progress"' in button and 'data-action="w-progress#activate"' in button
    assert 'data-w-progress-active-value="Sending…"' in button


def test_the_same_email_sent_twice_goes_once(mailer, order):
    """A double click on Send e-mail: one e-mail, one timeline entry, one history entry; the second click lands on
    the customer's page with a message, never a 500."""
    url = email_url(order.customer_id)
    data = {"reason": "shipping", "subject": "Your parcel", "message": "Hello", "order": ""}
    detail = reverse("wagtail_customers_customer:detail", args=[order.customer_id])
    first = mailer.post(url, data)
    assert first.status_code == 302 and first["Location"] == detail
    second = mailer.post(url, data, follow=True)
    assert second.redirect_chain == [(detail, 302)]
    assert "This e-mail was sent to the customer a moment ago; it was not sent again." in second.content.decode()
    assert len(mail.outbox) == 1
    assert OrderEvent.objects.filter(kind=EventKind.EMAIL).count() == 1
    assert ModelLogEntry.objects.filter(action="wagtail_customers.email.sent").count() == 1

    # Another subject or message, or the same one a minute later, is a new e-mail.
    assert mailer.post(url, {**data, "message": "Hello again"}).status_code == 302
    assert mailer.post(url, {**data, "subject": "Your other parcel"}).status_code == 302
    assert len(mail.outbox) == 3
    OrderEvent.objects.update(occurred_at=timezone.now() - timedelta(seconds=61))
    assert mailer.post(url, data).status_code == 302
    assert len(mail.outbox) == 4
    assert OrderEvent.objects.filter(kind=EventKind.EMAIL).count() == 4


def test_the_same_email_from_another_user_is_sent(mailer, order, account):
    data = {"reason": "shipping", "subject": "Your parcel", "message": "Hello"}
    assert mailer.post(email_url(order.customer_id), data).status_code == 302
    colleague = Client()
    colleague.force_login(staff_user("colleague", {account: {"can_view": True, "can_email": True}}))
    assert colleague.post(email_url(order.customer_id), data).status_code == 302
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_a_second_click_while_the_first_email_is_on_its_way_sends_nothing_and_nothing_waits(account, smtp_server):
    """The e-mail is recorded, and committed, before it is sent: a second request while the first is at the mail
    server finds the record at once and is refused, and the customer's orders are recorded meanwhile (no lock of the
    customer's row is held across the send: every ingestion batch of the customer would wait for the mail server)."""
    if db_connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite's test database holds one writer)")
    order = record_order(account, order_data("1001"))
    user = staff_user("mailer", {account: {"can_view": True, "can_email": True}})
    smtp_server.hold_first, smtp_server.first_arrived = threading.Event(), threading.Event()
    data = {"reason": "shipping", "subject": "Your parcel", "message": "Hello"}
    responses, errors = [], []

    def click():
        browser = Client()
        browser.force_login(user)
        response = browser.post(email_url(order.customer_id), data)
        responses.append((response.status_code, [str(m).strip() for m in get_messages(response.wsgi_request)]))

    first = in_thread(click, errors)
    try:
        assert smtp_server.first_arrived.wait(30)
        second = in_thread(click, errors)
        second.join(30)
        recorded = in_thread(lambda: record_order(account, order_data("1002")), errors)
        recorded.join(30)
        assert not second.is_alive() and not recorded.is_alive(), "waited for the send"
        assert responses == [(302, ["This e-mail was sent to the customer a moment ago; it was not sent again."])]
    finally:
        smtp_server.hold_first.set()
    first.join(30)
    assert not errors, errors
    assert responses[1] == (302, ["E-mail sent to ada@example.com."])
    assert smtp_server.delivered == 1
    assert OrderEvent.objects.filter(kind=EventKind.EMAIL).count() == 1
    assert ModelLogEntry.objects.filter(action="wagtail_customers.email.sent").count() == 1


def test_permissions(client, account, other_account, order):
    url = email_url(order.customer_id)
    # May see the customer but not e-mail them: a real 403 page.
    client.force_login(staff_user("viewer", {account: {"can_view": True}}))
    for response in (client.get(url), client.post(url, {"subject": "Hi", "message": "x"})):
        assert response.status_code == 403
        assert "permission" in response.content.decode()
    # E-mail grant on another account only: this customer is not even visible.
    client.force_login(staff_user("elsewhere", {other_account: {"can_view": True, "can_email": True}}))
    assert client.get(url).status_code == 404
    assert client.post(url, {"subject": "Hi", "message": "x"}).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    assert mail.outbox == []


def test_post_needs_csrf(account, order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user("mailer", {account: {"can_view": True, "can_email": True}}))
    assert client.post(email_url(order.customer_id), {"subject": "Hi", "message": "x"}).status_code == 403
    assert mail.outbox == []


def test_other_channel_account_has_no_template_by_default(db):
    account = SellerAccount.objects.create(name="Web", channel=Channel.WEBSITE)
    assert contact_url(account) is None


def test_a_customer_gone_before_the_lock_gets_no_email_and_no_record(order):
    """A deletion (or a merge) that committed while the e-mail waited for the customer's lock, or since the page read
    the customer: nothing is sent or recorded. Before, the e-mail's timeline event was made for a customer no longer
    there and failed the foreign key at commit (a 500)."""
    customer = order.customer
    Customer.objects.filter(pk=customer.pk).delete()  # the instance is the one the view read before
    with pytest.raises(Customer.DoesNotExist):
        send_customer_email(customer, subject="Your parcel", message="Hello", user=None)
    assert mail.outbox == []
    assert not OrderEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_email_to_a_customer_being_deleted_answers_as_for_one_gone(account):
    """The seller deletes the customer while someone sends them an e-mail: the request read the customer, then waits
    for the deletion's lock, and answers as for a customer already gone."""
    if db_connection.vendor != "postgresql":
        pytest.skip("threads writing at once: PostgreSQL (SQLite's test database holds one writer)")
    order = record_order(account, order_data("1001"))
    user = staff_user("mailer", {account: {"can_view": True, "can_email": True}})
    responses = []

    def send():
        browser = Client()
        browser.force_login(user)
        responses.append(
            browser.post(email_url(order.customer_id), {"reason": "shipping", "subject": "Hi", "message": "x"})
        )

    errors, waited = run_while_held(
        lambda: delete_customers(Customer.objects.filter(pk=order.customer_id), user=None), send
    )

    assert not errors, errors
    assert waited
    assert [response.status_code for response in responses] == [404]
    assert mail.outbox == []
    assert not Customer.objects.exists() and not OrderEvent.objects.exists()
