"""The SMTP server misbehaves mid-batch, as real ones do: nothing listening (and the open
connections cut), 4xx answers, 5xx answers, an answer that never comes before the client's
timeout. Each email reaches the server once, or is recorded as failed or of unknown outcome
for a person; none is lost, none sent twice.

A real aiosmtpd server (tests/fakes/smtp_server.py), the real SMTP provider, the send path
as the worker runs it.
"""

from __future__ import annotations

import time

import pytest

from tests.fakes.smtp_server import SmtpServer
from tests.faults.conftest import (
    assert_nothing_lost_or_duplicated,
    django_rows,
    take_in,
    tally,
    wait_until,
)
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.providers import registry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

BATCH = 30
TIMEOUT = 3.0  # seconds: a loaded 2-core machine can stall a healthy exchange past 1


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_URL = server.url
        settings.PROVIDER_TIMEOUT_SECONDS = TIMEOUT
        settings.RETRY_BASE_SECONDS = 0
        registry.reset()
        yield server
        registry.reset()


def drain(timeout: float = 20) -> None:
    """Run send rounds, as the worker does, until nothing is pending or sending."""
    deadline = time.monotonic() + timeout
    unfinished = Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING])
    while unfinished.exists():
        sender.send_due("w", limit=10)
        assert time.monotonic() < deadline, "the batch never finished"


def copies_in(server: SmtpServer):  # type: ignore[no-untyped-def]
    ids = server.message_ids()
    return lambda key: sum(i.startswith(key) for i in ids)


def test_server_down_mid_batch_then_back(agency, smtp):
    take_in(agency, BATCH, channel="email")
    assert sender.send_due("w", limit=10) == 10  # the first ten go; connections stay open
    assert len(smtp.received) == 10
    smtp.stop()  # nothing listening, and the open connections are cut
    assert sender.send_due("w", limit=10) == 10
    refused = Notification.objects.filter(status=Status.PENDING, attempts=1)
    assert refused.count() == 10
    assert {n.provider_error_code for n in refused} <= {"connect", "connection"}
    smtp.start()  # back on the same port
    drain()

    result = tally("SMTP refusing connections", BATCH, django_rows(), copies_in(smtp))
    assert_nothing_lost_or_duplicated(result)
    assert result.delivered == BATCH


def test_server_answers_4xx_then_recovers(agency, smtp):
    take_in(agency, BATCH, channel="email")
    smtp.behaviour.data_reply = "451 4.3.0 Mail server temporarily rejected message"
    smtp.behaviour.times = 12
    drain()

    result = tally("SMTP answering 4xx", BATCH, django_rows(), copies_in(smtp))
    assert_nothing_lost_or_duplicated(result)
    assert result.delivered == BATCH
    assert Notification.objects.filter(attempts__gt=1).count() == 12  # each tried again


def test_server_answers_5xx_for_some_mailboxes(agency, smtp):
    take_in(agency, BATCH, channel="email")
    gone = {f"victim{i}@example.com" for i in range(0, BATCH, 5)}
    smtp.behaviour.reject_recipients = gone
    drain()

    result = tally("SMTP answering 5xx", BATCH, django_rows(), copies_in(smtp))
    assert_nothing_lost_or_duplicated(result)
    failed = Notification.objects.filter(status=Status.FAILED_PERMANENT)
    assert {n.contact.value for n in failed} == gone
    assert {n.provider_error_code for n in failed} == {"5.1.1"}
    assert all(n.attempts == 1 for n in failed)  # never tried again
    assert result.delivered == BATCH - len(gone)


def test_server_hanging_past_the_client_timeout(agency, smtp):
    take_in(agency, BATCH, channel="email")
    # The server takes the whole message, then answers only after the client gave up: the
    # three have arrived, and must not be sent again.
    smtp.behaviour.hang_seconds = TIMEOUT * 2
    smtp.behaviour.times = 3
    drain()
    wait_until(lambda: len(smtp.received) == BATCH, 10, "the server to finish the hung ones")

    result = tally("SMTP hanging past the timeout", BATCH, django_rows(), copies_in(smtp))
    assert_nothing_lost_or_duplicated(result)
    unknown = Notification.objects.filter(status=Status.OUTCOME_UNKNOWN)
    assert unknown.count() == 3  # for a person: SMTP cannot be asked, never sent on a guess
    assert all(n.last_error and n.attempts == 1 for n in unknown)
