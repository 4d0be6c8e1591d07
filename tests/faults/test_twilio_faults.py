"""Twilio misbehaves mid-batch: 429 Too Many Requests, 500 Internal Server Error (both in
Twilio's own error JSON, through the official SDK), and requests that get no answer before the
client's timeout although Twilio took them. Every text reaches Twilio once; none is lost.

A timed-out request may have been taken, so it is never simply sent again: the row stays
claimed and, a minute later, the lease sweep asks Twilio whether it has the message.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from tests.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.fakes.twilio_api import FakeTwilio
from tests.faults.conftest import (
    assert_nothing_lost_or_duplicated,
    django_rows,
    take_in,
    tally,
)
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.providers import registry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

BATCH = 30
TIMEOUT = 3.0  # seconds: a loaded 2-core machine can stall a healthy exchange past 1


@pytest.fixture
def twilio(settings):
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        settings.SMS_PROVIDERS = ["twilio"]
        settings.TWILIO_ACCOUNT_SID = TWILIO_SID
        settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
        settings.TWILIO_API_URL = fake.base_url
        settings.PROVIDER_TIMEOUT_SECONDS = TIMEOUT
        settings.RETRY_BASE_SECONDS = 0
        registry.reset()
        yield fake
        registry.reset()


def drain(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while Notification.objects.filter(status=Status.PENDING).exists():
        sender.send_due("w", limit=10)
        assert time.monotonic() < deadline, "the batch never finished"


def copies_in(fake: FakeTwilio):  # type: ignore[no-untyped-def]
    bodies = [m.body for m in fake.messages]
    return lambda key: sum(key in body for body in bodies)


@pytest.mark.parametrize("status", [429, 500])
def test_twilio_refusing_requests_for_a_while(agency, twilio, status):
    take_in(agency, BATCH)
    twilio.fail_next(8, status=status)
    drain()

    result = tally(f"Twilio answering {status}", BATCH, django_rows(), copies_in(twilio))
    assert_nothing_lost_or_duplicated(result)
    assert result.delivered == BATCH
    assert Notification.objects.filter(attempts=2).count() == 8  # each tried once more
    refused = [r for r in twilio.requests if r.status == status]
    assert len(refused) == 8


def test_twilio_timing_out_after_taking_the_message(agency, twilio):
    take_in(agency, BATCH)
    twilio.hang_next(3, seconds=TIMEOUT * 2)  # answered only after the client gave up
    drain()
    unanswered = Notification.objects.filter(status=Status.SENDING)
    assert unanswered.count() == 3
    assert {n.provider_error_code for n in unanswered} == {"no_answer"}
    assert twilio.wait_for_messages(BATCH, timeout=10)  # Twilio did take them

    # The lease sweep, a minute later, asks Twilio before anything is sent again.
    later = timezone.now() + sender.ASK_AGAIN_AFTER + dt.timedelta(seconds=1)
    assert sender.recover_stale_leases(now=later)["found_sent"] == 3
    drain()

    result = tally("Twilio timing out", BATCH, django_rows(), copies_in(twilio))
    assert_nothing_lost_or_duplicated(result)
    assert Notification.objects.filter(status=Status.SENT).count() == BATCH
