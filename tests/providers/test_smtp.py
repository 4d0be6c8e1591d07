"""The SMTP provider against a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest

from tests.fakes.smtp_server import SmtpServer
from victim_notify.providers.base import OutgoingMessage, PermanentFailure, TransientFailure
from victim_notify.providers.smtp import OutcomeUnknown, SmtpProvider, SmtpSettings


def message(**changes: str) -> OutgoingMessage:
    values = {
        "notification_id": uuid.uuid4(),
        "channel": "email",
        "to": "ana.ruiz@example.com",
        "sender": "notify@testville.example",
        "sender_name": "Testville Police Department",
        "reply_to": "victims@testville.example",
        "subject": "Your police report T-000001",
        "body": "Report number: T-000001\nZoë O'Brien",
        "html": "<p>Report number: <strong>T-000001</strong></p>",
    }
    values.update(changes)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


def provider_for(server: SmtpServer, timeout: float = 5.0) -> SmtpProvider:
    return SmtpProvider(SmtpSettings.from_url(server.url, timeout), concurrency=2)


def test_email_arrives_multipart_with_the_notification_id_as_message_id(server):
    provider = provider_for(server)
    outgoing = message()
    accepted = provider.send(outgoing)
    provider.close()

    assert accepted.provider_message_id == str(outgoing.notification_id)
    [received] = server.received
    email = received.message
    assert email["Message-ID"] == f"<{outgoing.notification_id}@testville.example>"
    assert email["From"] == "Testville Police Department <notify@testville.example>"
    assert email["Reply-To"] == "victims@testville.example"
    assert email["Auto-Submitted"] == "auto-generated"
    text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.strip() == "Report number: T-000001\nZoë O'Brien"
    assert "<strong>T-000001</strong>" in email.get_body(("html",)).get_content()
    assert received.rcpt_tos == ["ana.ruiz@example.com"]


def test_many_emails_share_connections_and_each_arrives_once(server):
    provider = provider_for(server)
    outgoing = [message(subject=f"Report {i}") for i in range(40)]
    results = list(provider.send_many(outgoing))
    provider.close()
    assert all(not isinstance(result, Exception) for _, result in results)
    assert sorted(server.message_ids()) == sorted(
        f"<{m.notification_id}@testville.example>" for m in outgoing
    )


def test_with_admit_no_more_are_admitted_than_can_be_in_flight(server):
    """A sliding window: each email is admitted (its row marked handed over) only once one of
    the `concurrency` connections is free for it, so a crash leaves no more unknown."""
    provider = provider_for(server)  # two connections
    lock = threading.Lock()
    outstanding = most = 0

    def admit(group: list[OutgoingMessage]) -> list[OutgoingMessage]:
        nonlocal outstanding, most
        with lock:
            outstanding += len(group)
            most = max(most, outstanding)
        return group

    send = provider.send

    def counted(one: OutgoingMessage):  # type: ignore[no-untyped-def]
        nonlocal outstanding
        try:
            return send(one)
        finally:
            with lock:
                outstanding -= 1

    provider.send = counted  # type: ignore[method-assign]
    outgoing = [message(subject=f"Report {i}") for i in range(30)]
    try:
        results = list(provider.send_many(outgoing, admit=admit))
    finally:
        provider.close()
    assert most == 2
    assert all(not isinstance(result, Exception) for _, result in results)
    assert sorted(server.message_ids()) == sorted(
        f"<{m.notification_id}@testville.example>" for m in outgoing
    )


def test_unknown_mailbox_is_a_permanent_failure(server):
    server.behaviour.reject_recipients.add("gone@example.com")
    provider = provider_for(server)
    with pytest.raises(PermanentFailure) as failure:
        provider.send(message(to="gone@example.com"))
    assert failure.value.code == "5.1.1"  # the enhanced status the server gave
    # The connection is still usable for the next message.
    provider.send(message())
    provider.close()
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("rcpt", "data", "expected"),
    [
        ("450 4.2.1 Mailbox busy", None, TransientFailure),
        (None, "451 4.3.0 Try again later", TransientFailure),
        (None, "554 5.7.1 Rejected by policy", PermanentFailure),
    ],
    ids=["rcpt-4xx", "data-4xx", "data-5xx"],
)
def test_server_answers_are_classified(server, rcpt, data, expected):
    server.behaviour.rcpt_reply = rcpt
    server.behaviour.data_reply = data
    provider = provider_for(server)
    with pytest.raises(expected):
        provider.send(message())
    provider.close()
    assert server.received == []


def test_refused_connection_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    provider = SmtpProvider(SmtpSettings.from_url(f"smtp://127.0.0.1:{port}", 2), concurrency=1)
    with pytest.raises(TransientFailure) as failure:
        provider.send(message())
    assert failure.value.code == "connect"


def test_server_hanging_after_the_body_makes_the_outcome_unknown(server):
    server.behaviour.hang_seconds = 6
    provider = provider_for(server, timeout=2)  # room for the steps before the body
    with pytest.raises(OutcomeUnknown):
        provider.send(message())
    provider.close()


def test_line_dropped_after_the_body_makes_the_outcome_unknown(server):
    server.behaviour.drop_after_data = True
    provider = provider_for(server)
    with pytest.raises(OutcomeUnknown):
        provider.send(message())
    provider.close()
    assert len(server.received) == 1  # it did arrive: exactly why we must not resend blindly


def test_reconnects_when_the_server_closed_an_idle_connection(server):
    provider = provider_for(server)
    provider.send(message())
    provider._local.conn.sock.close()  # as a server timing out an idle client would
    provider.send(message())
    provider.close()
    assert len(server.received) == 2


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://mail.example:2525", "none", 2525),
        ("smtp+starttls://user:p%40ss@mail.example", "starttls", 587),
        ("smtps://mail.example", "tls", 465),
    ],
)
def test_email_url_is_read(url, security, port):
    settings = SmtpSettings.from_url(url, 5)
    assert (settings.security, settings.port, settings.host) == (security, port, "mail.example")
    if "user" in url:
        assert (settings.username, settings.password) == ("user", "p@ss")


def test_bad_email_url_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        SmtpSettings.from_url("http://mail.example", 5)
