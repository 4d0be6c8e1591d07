"""The mailbox: bounces and replies arrive over real SMTP (an aiosmtpd server running the
mailbox handler) after a real email went out through the worker to another SMTP server; the
effects are checked in the database.

The DSN fixtures follow what Postfix, Exchange Online and Gmail actually send (field order,
folding, comments, what they return of the original message)."""

from __future__ import annotations

import smtplib
import textwrap
import uuid
from email.utils import format_datetime

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_record
from tests.fakes.smtp_server import SmtpServer, _free_port
from victim_notify.contacts.models import Contact, OptOut
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import DeliveryEvent, MessageKind, Notification, Status
from victim_notify.providers import registry
from victim_notify.replies import dsn
from victim_notify.replies.email_text import strip_quoted
from victim_notify.replies.mailbox import start_mailbox
from victim_notify.replies.models import InboundMessage
from victim_notify.rules.models import Decision

transactional = pytest.mark.django_db(transaction=True)  # the mailbox works on its own threads
REPLY_TO = "victims@testville.example"
VICTIM = "ana.ruiz@example.com"


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def relay(settings):
    """The agency's outgoing relay."""
    with SmtpServer() as server:
        settings.EMAIL_URL = server.url
        registry.reset()
        yield server


@pytest.fixture
def mailbox():
    controller = start_mailbox("127.0.0.1", _free_port("127.0.0.1"))
    yield controller
    controller.stop()


def deliver(mailbox, raw: bytes | str, *, mail_from: str = "", to: str = REPLY_TO) -> None:
    """Hand a message to the mailbox as the agency's MX would."""
    if isinstance(raw, str):
        raw = raw.replace("\n", "\r\n").encode()
    with smtplib.SMTP(mailbox.hostname, mailbox.port, timeout=10) as client:
        client.sendmail(mail_from, [to], raw)


def send_report(agency, relay, email: str = VICTIM, **victim) -> tuple[Notification, bytes]:
    """One report whose email goes out through the worker; returns it and the bytes sent."""
    record = make_record(victim={"phone": "", "email": email, **victim})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    while sender.send_due("w1"):
        pass
    note = Notification.objects.filter(channel="email").latest("created_at")
    assert note.status == Status.SENT
    return note, relay.received[-1].raw


def _date() -> str:
    return format_datetime(timezone.now())


def postfix_dsn(
    original: bytes,
    recipient: str,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    # Folded as Postfix folds it; indented past the template's own indent, which dedent strips.
    diagnostic: str = "smtp; 550 5.1.1 <{r}>: Recipient address rejected: User unknown in\n"
    "            virtual mailbox table",
    to: str = "notify@testville.example",
    headers_only: bool = False,
) -> bytes:
    boundary = "8F4B31C0A1.1764598500/mail.testville.example"
    subject = (
        "Undelivered Mail Returned to Sender"
        if action == "failed"
        else "Delayed Mail (still being retried)"
    )
    returned = original.split(b"\r\n\r\n", 1)[0] + b"\r\n" if headers_only else original
    returned_type = "text/rfc822-headers" if headers_only else "message/rfc822"
    head = textwrap.dedent(
        f"""\
        Return-Path: <>
        Received: by mail.testville.example (Postfix) id 8F4B31C0A1; {_date()}
        Date: {_date()}
        From: MAILER-DAEMON@mail.testville.example (Mail Delivery System)
        Subject: {subject}
        To: {to}
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="{boundary}"
        Content-Transfer-Encoding: 8bit
        Message-Id: <20261201141500.8F4B31C0A1@mail.testville.example>

        This is a MIME-encapsulated message.

        --{boundary}
        Content-Description: Notification
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        This is the mail system at host mail.testville.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

        For further assistance, please send mail to postmaster.

                           The mail system

        <{recipient}>: host mx.example.com[192.0.2.25] said: 550 5.1.1
            <{recipient}>: Recipient address rejected (in reply to RCPT TO command)

        --{boundary}
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.testville.example
        X-Postfix-Queue-ID: 8F4B31C0A1
        X-Postfix-Sender: rfc822; notify@testville.example
        Arrival-Date: {_date()}

        Final-Recipient: rfc822; {recipient}
        Original-Recipient: rfc822;{recipient}
        Action: {action}
        Status: {status}
        Remote-MTA: dns; mx.example.com
        Diagnostic-Code: {diagnostic.format(r=recipient)}

        --{boundary}
        Content-Description: Undelivered Message
        Content-Type: {returned_type}
        Content-Transfer-Encoding: 8bit

        """
    )
    tail = f"\n--{boundary}--\n"
    return head.replace("\n", "\r\n").encode() + returned + tail.replace("\n", "\r\n").encode()


def exchange_ndr(original: bytes, recipient: str) -> bytes:
    """Exchange Online: an HTML-and-text notice, the report (Status 5.1.10, "not found by SMTP
    address lookup"), and the original message's headers only."""
    headers = original.split(b"\r\n\r\n", 1)[0].decode()
    text = textwrap.dedent(
        f"""\
        From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>
        To: <notify@testville.example>
        Date: {_date()}
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="b8a2f3c1-ndr"
        MIME-Version: 1.0
        Message-ID: <0c2a9b5e-7c1f-4d35-9bb4-ndr@BN8PR12MB3265.namprd12.prod.outlook.com>
        Subject: Undeliverable: Your police report
        Auto-Submitted: auto-replied
        X-MS-Exchange-Message-Is-Ndr:
        X-MS-PublicTrafficType: Email

        --b8a2f3c1-ndr
        Content-Type: multipart/alternative; differences=Content-Type;
        \tboundary="b8a2f3c1-alt"

        --b8a2f3c1-alt
        Content-Type: text/plain; charset="us-ascii"
        Content-Transfer-Encoding: quoted-printable

        Your message to {recipient} couldn't be delivered.
        {recipient.split("@")[0]} wasn't found at {recipient.split("@")[1]}.

        --b8a2f3c1-alt
        Content-Type: text/html; charset="us-ascii"
        Content-Transfer-Encoding: quoted-printable

        <html><body><p>Your message to {recipient} couldn't be delivered.</p></body></html>
        --b8a2f3c1-alt--

        --b8a2f3c1-ndr
        Content-Type: message/delivery-status

        Reporting-MTA: dns;BN8PR12MB3265.namprd12.prod.outlook.com
        Received-From-MTA: dns;mail.testville.example
        Arrival-Date: {_date()}

        Final-Recipient: rfc822;{recipient}
        Action: failed
        Status: 5.1.10
        Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient
         {recipient} not found by SMTP address lookup

        --b8a2f3c1-ndr
        Content-Type: text/rfc822-headers

        """
    )
    return (
        (text + headers + "\n\n--b8a2f3c1-ndr--\n")
        .replace("\r\n", "\n")
        .replace("\n", "\r\n")
        .encode()
    )


def gmail_dsn(message_id: str, recipient: str) -> bytes:
    """Gmail: the original named in X-Original-Message-ID, In-Reply-To and References, the
    diagnostic folded over four lines, and no returned message in this one."""
    # Gmail's lines run past this file's line length; kept whole, as Gmail sends them.
    content_type = (
        'multipart/report; boundary="000000000000c4d5e0062c5a1b2e"; report-type=delivery-status'
    )
    notice = (
        f"Your message wasn't delivered to {recipient} because the address couldn't be found,"
        " or is unable to receive mail."
    )
    diagnostic = (
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try"
    )
    text = textwrap.dedent(
        f"""\
        Delivered-To: notify@testville.example
        Return-Path: <>
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: notify@testville.example
        Auto-Submitted: auto-replied
        Subject: Delivery Status Notification (Failure)
        References: {message_id}
        In-Reply-To: {message_id}
        X-Failed-Recipients: {recipient}
        Message-ID: <6744c3f1.050a0220.3b1c5.0001.GMR@mx.google.com>
        Date: {_date()}
        MIME-Version: 1.0
        Content-Type: {content_type}

        --000000000000c4d5e0062c5a1b2e
        Content-Type: text/plain; charset="UTF-8"

        ** Address not found **

        {notice}

        --000000000000c4d5e0062c5a1b2e
        Content-Type: message/delivery-status

        Reporting-MTA: dns; googlemail.com
        Received-From-MTA: dns; mail.testville.example
        Arrival-Date: {_date()}
        X-Original-Message-ID: {message_id}

        Final-Recipient: rfc822; {recipient}
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; gmail-smtp-in.l.google.com. (2607:f8b0:4004:c06::1a, the server
         for the domain example.com.)
        Diagnostic-Code: {diagnostic}
         550-5.1.1 double-checking the recipient's email address for typos or
         550-5.1.1 unnecessary spaces. For more information, go to
         550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp
        Last-Attempt-Date: {_date()}

        --000000000000c4d5e0062c5a1b2e--
        """
    )
    return text.replace("\n", "\r\n").encode()


def reply(
    body: str,
    *,
    subject: str = "Re: Your police report",
    sender_address: str = VICTIM,
    extra: str = "",
    in_reply_to: str = "",
    content_type: str = 'text/plain; charset="UTF-8"',
) -> str:
    references = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}\n" if in_reply_to else ""
    return (
        f"From: Ana Ruiz <{sender_address}>\n"
        f"To: Testville Police Department <{REPLY_TO}>\n"
        f"Subject: {subject}\n"
        f"Date: {_date()}\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.example.com>\n"
        f"{references}{extra}"
        f"MIME-Version: 1.0\n"
        f"Content-Type: {content_type}\n"
        f"\n{body}"
    )


# ---- bounces -------------------------------------------------------------------------------


@transactional
def test_mailbox_does_not_exist_fails_the_message_and_marks_the_contact(agency, relay, mailbox):
    note, sent = send_report(agency, relay, "gone@example.com")
    deliver(mailbox, postfix_dsn(sent, "gone@example.com"), to="notify@testville.example")

    note.refresh_from_db()
    assert note.status == Status.FAILED_PERMANENT
    assert note.provider_error_code == "5.1.1"
    assert "User unknown" in note.last_error
    event = DeliveryEvent.objects.get(notification=note)
    assert (event.source, event.provider_status, event.error_code) == ("dsn", "bounced", "5.1.1")
    contact = Contact.objects.get(value__matches="gone@example.com")
    assert contact.undeliverable_at is not None and contact.undeliverable_code == "5.1.1"

    # The next report does not try that address again, and says why.
    ingest(
        agency,
        [
            IncomingRecord.from_object(
                0, make_record(victim={"phone": "", "email": "gone@example.com"})
            )
        ],
        source="api",
    )
    decision = Decision.objects.filter(channel="email").latest("created_at")
    assert not decision.send and "contact_undeliverable" in decision.reason_codes
    assert len(relay.received) == 1


@transactional
def test_exchange_report_with_headers_only_is_matched_by_message_id(agency, relay, mailbox):
    note, sent = send_report(agency, relay, "nobody@contoso.example")
    deliver(mailbox, exchange_ndr(sent, "nobody@contoso.example"), to="notify@testville.example")
    note.refresh_from_db()
    assert note.status == Status.FAILED_PERMANENT and note.provider_error_code == "5.1.10"
    assert "RecipientNotFound" in note.last_error
    assert Contact.objects.get(value__matches="nobody@contoso.example").undeliverable_at is not None


@transactional
def test_gmail_report_names_the_message_in_its_own_fields(agency, relay, mailbox):
    note, _ = send_report(agency, relay, "gone@example.com")
    deliver(
        mailbox,
        gmail_dsn(f"<{note.pk}@testville.example>", "gone@example.com"),
        to="notify@testville.example",
    )
    note.refresh_from_db()
    assert note.status == Status.FAILED_PERMANENT and note.provider_error_code == "5.1.1"
    assert "The email account that you tried to reach does not exist" in note.last_error


@transactional
def test_mailbox_full_is_retried_not_final(agency, relay, mailbox):
    note, sent = send_report(agency, relay)
    full = "smtp; 452 4.2.2 <{r}>: Mailbox full"
    deliver(
        mailbox,
        postfix_dsn(
            sent, VICTIM, action="delayed", status="4.2.2", diagnostic=full, headers_only=True
        ),
        to="notify@testville.example",
    )
    note.refresh_from_db()
    assert note.status == Status.SENT  # a delay is news, not a failure
    assert DeliveryEvent.objects.get(notification=note).provider_status == "delayed"

    # The relay gives up on it after its queue lifetime, still with a temporary code.
    deliver(
        mailbox,
        postfix_dsn(sent, VICTIM, action="failed", status="4.2.2", diagnostic=full),
        to="notify@testville.example",
    )
    note.refresh_from_db()
    assert note.status == Status.PENDING and note.provider_error_code == "4.2.2"
    assert note.not_before > timezone.now()
    assert Contact.objects.get(value__matches=VICTIM).undeliverable_at is None


@transactional
def test_a_success_report_changes_nothing(agency, relay, mailbox):
    note, sent = send_report(agency, relay)
    deliver(
        mailbox,
        postfix_dsn(sent, VICTIM, action="delivered", status="2.0.0", diagnostic="smtp; 250 ok"),
        to="notify@testville.example",
    )
    note.refresh_from_db()
    assert note.status == Status.SENT and not DeliveryEvent.objects.exists()


@transactional
def test_verp_envelope_sender_names_the_notification_and_matches_its_bounce(
    agency, relay, mailbox, settings
):
    settings.BOUNCE_ADDRESS = "bounces@notify.testville.example"
    registry.reset()
    note, _ = send_report(agency, relay, "gone@example.com")
    received = relay.received[-1]
    assert received.mail_from == f"bounces+{note.pk}@notify.testville.example"
    assert received.message["From"] == "Testville Police Department <notify@testville.example>"
    assert received.message["Return-Path"] is None  # set by the final server, not by us

    # A bounce that returns nothing of the message is still matched by where it came to.
    bare = postfix_dsn(b"", "gone@example.com", to=received.mail_from).replace(
        b"Content-Type: message/rfc822", b"Content-Type: text/plain"
    )
    deliver(mailbox, bare, to=received.mail_from)
    note.refresh_from_db()
    assert note.status == Status.FAILED_PERMANENT and note.provider_error_code == "5.1.1"


@transactional
def test_old_style_bounce_to_the_verp_address_is_read_for_its_code(
    agency, relay, mailbox, settings
):
    settings.BOUNCE_ADDRESS = "bounces@notify.testville.example"
    registry.reset()
    note, _ = send_report(agency, relay, "gone@example.com")
    plain = textwrap.dedent(
        """\
        From: postmaster@old.example.com
        To: bounces@notify.testville.example
        Subject: failure notice

        Hi. This is the qmail-send program at old.example.com.
        I'm afraid I wasn't able to deliver your message to the following addresses.

        <gone@example.com>:
        Remote host said: 550 5.1.1 mailbox unavailable
        """
    )
    deliver(mailbox, plain, to=f"bounces+{note.pk}@notify.testville.example")
    note.refresh_from_db()
    assert note.status == Status.FAILED_PERMANENT and note.provider_error_code == "5.1.1"


@transactional
def test_out_of_office_to_the_verp_address_is_ignored(agency, relay, mailbox, settings):
    settings.BOUNCE_ADDRESS = "bounces@notify.testville.example"
    registry.reset()
    note, _ = send_report(agency, relay)
    deliver(
        mailbox,
        reply(
            "I am away until Monday.",
            subject="Automatic reply: Your police report",
            extra="Auto-Submitted: auto-replied\n",
        ),
        mail_from=VICTIM,
        to=f"bounces+{note.pk}@notify.testville.example",
    )
    note.refresh_from_db()
    assert note.status == Status.SENT and not DeliveryEvent.objects.exists()


@transactional
def test_mail_for_addresses_that_are_not_ours_is_refused(agency, mailbox):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(mailbox, reply("hello"), mail_from=VICTIM, to="someone@elsewhere.example")
    assert not InboundMessage.objects.exists()


# ---- replies -------------------------------------------------------------------------------


@transactional
def test_stop_by_email_opts_out_and_queues_one_confirmation(agency, relay, mailbox):
    note, _ = send_report(agency, relay)
    deliver(
        mailbox,
        reply("STOP\n\nSent from my iPhone", in_reply_to=f"<{note.pk}@testville.example>"),
        mail_from=VICTIM,
    )
    inbound = InboundMessage.objects.get()
    assert inbound.channel == "email" and inbound.provider == "smtp"
    assert inbound.intent == "opt_out" and inbound.body == "STOP"
    assert inbound.in_answer_to_id == note.pk and inbound.to_address == REPLY_TO
    assert OptOut.objects.filter(agency=agency, contact=note.contact, revoked_at=None).exists()
    [confirmation] = Notification.objects.filter(kind=MessageKind.OPT_OUT_CONFIRMATION)
    assert confirmation.channel == "email" and confirmation.status == Status.PENDING
    assert confirmation.contact_id == note.contact_id


@transactional
def test_the_same_reply_delivered_twice_is_stored_once(agency, relay, mailbox):
    send_report(agency, relay)
    message = reply("STOP")
    deliver(mailbox, message, mail_from=VICTIM)
    deliver(mailbox, message, mail_from=VICTIM)
    assert InboundMessage.objects.count() == 1
    assert Notification.objects.filter(kind=MessageKind.OPT_OUT_CONFIRMATION).count() == 1


@transactional
def test_stop_in_the_quoted_original_is_not_an_opt_out(agency, relay, mailbox):
    send_report(agency, relay)
    body = (
        "thanks\n\n"
        "On Tue, Dec 1, 2026 at 10:15 AM Testville Police Department <\n"
        "notify@testville.example> wrote:\n\n"
        "> Your police report T-000001 has been filed.\n"
        "> Reply STOP to get no more messages.\n"
    )
    deliver(mailbox, reply(body), mail_from=VICTIM)
    inbound = InboundMessage.objects.get()
    assert inbound.body == "thanks" and inbound.intent == "message"
    assert not OptOut.objects.exists()
    assert not Notification.objects.filter(kind=MessageKind.OPT_OUT_CONFIRMATION).exists()


@transactional
def test_html_only_reply_is_read_without_its_quote(agency, relay, mailbox):
    send_report(agency, relay)
    html = (
        '<div dir="ltr">Gracias, <b>recibido</b>.</div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">El mar, 1 dic 2026 a las 10:15, '
        "Testville Police escribió:</div><blockquote>Responda STOP para no recibir más"
        "</blockquote></div>"
    )
    deliver(mailbox, reply(html, content_type='text/html; charset="UTF-8"'), mail_from=VICTIM)
    inbound = InboundMessage.objects.get()
    assert inbound.body == "Gracias, recibido." and inbound.intent == "message"
    assert not OptOut.objects.exists()


@transactional
def test_out_of_office_reply_is_ignored(agency, relay, mailbox):
    send_report(agency, relay)
    deliver(
        mailbox,
        reply(
            "I am out of the office until December 8. STOP by my desk after that.",
            subject="Automatic reply: Your police report",
            extra="Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n",
        ),
        mail_from=VICTIM,
    )
    deliver(
        mailbox,
        reply("Away this week.", subject="Out of Office", extra="Precedence: auto_reply\n"),
        mail_from=VICTIM,
    )
    assert not InboundMessage.objects.exists()
    assert not OptOut.objects.exists()
    assert Notification.objects.count() == 1  # no answer to a robot


@transactional
def test_mail_from_our_own_address_is_ignored(agency, relay, mailbox):
    send_report(agency, relay)
    deliver(mailbox, reply("STOP", sender_address="notify@testville.example"), mail_from="x@y.z")
    assert not InboundMessage.objects.exists()


@transactional
def test_mailto_unsubscribe_is_an_opt_out(agency, relay, mailbox):
    note, _ = send_report(agency, relay)
    deliver(
        mailbox,
        reply("This message was automatically generated by Gmail.", subject="unsubscribe"),
        mail_from=VICTIM,
    )
    assert InboundMessage.objects.get().intent == "opt_out"
    assert OptOut.objects.filter(contact=note.contact).exists()


# ---- the parts, directly -------------------------------------------------------------------


def test_postfix_report_fields_are_read():
    original = b"Message-ID: <6f1c8a3e-2b7d-4c4e-9f0a-1d2e3f4a5b6c@testville.example>\r\n\r\nhi\r\n"
    import email
    from email.policy import default

    report = dsn.parse(
        email.message_from_bytes(postfix_dsn(original, "gone@example.com"), policy=default)
    )
    assert report is not None and report.reporting_mta == "mail.testville.example"
    [recipient] = report.recipients
    assert recipient.recipient == "gone@example.com" and recipient.action == "failed"
    assert recipient.status == "5.1.1"
    assert recipient.diagnostic.startswith("smtp; 550 5.1.1 <gone@example.com>")
    assert "virtual mailbox table" in recipient.diagnostic
    assert dsn.notification_id(report.original_message_id) == uuid.UUID(
        "6f1c8a3e-2b7d-4c4e-9f0a-1d2e3f4a5b6c"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP\n> old\n", "STOP"),
        ("Yes please call me.\n\n-----Original Message-----\nFrom: x\nSTOP", "Yes please call me."),
        (
            "Thank you\n\n________________________________\nFrom: Testville Police\n"
            "Sent: Tuesday, December 1, 2026 10:15 AM\nTo: Ana\nSubject: report\n\nReply STOP",
            "Thank you",
        ),
        (
            "Gracias\n\nEl mar, 1 dic 2026 a las 10:15, Testville Police (<\n"
            "notify@testville.example>) escribió:\n> Responda ALTO",
            "Gracias",
        ),
        ("On my way to the station on Monday.\nWill bring receipts.", None),
        ("On Monday at 5 he wrote:\nI know where you live", None),
        ("ok\n\nOn 12/1/26 10:15 AM, Testville Police wrote:\n\n> Reply STOP", "ok"),
        ("He came back.\n-- \nAna Ruiz\n555-0134", "He came back."),
        ("ok\n\nEnviado desde mi iPhone", "ok"),
    ],
)
def test_only_the_new_words_of_a_reply_are_kept(text, expected):
    assert strip_quoted(text) == (text if expected is None else expected)


@given(st.text())
def test_reading_a_reply_never_fails_and_never_invents_words(text):
    kept = strip_quoted(text)
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    for line in kept.split("\n"):
        assert line in normalised


@given(st.binary(max_size=2000), st.sampled_from(["message/delivery-status", "text/plain"]))
def test_reading_a_report_never_fails_on_garbage(payload, part_type):
    import email
    from email.policy import default

    raw = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: " + part_type.encode() + b"\r\n\r\n" + payload + b"\r\n--XX--\r\n"
    )
    report = dsn.parse(email.message_from_bytes(raw, policy=default))
    assert report is None or isinstance(report.recipients, tuple)
