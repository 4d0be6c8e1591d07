"""The SMPP link drops mid-window: the SMSC takes a window's worth of submit_sm, answers none,
closes the TCP connection, and refuses binds for a moment before it comes back.

The texts whose submit_sm were written may have been taken; SMPP has no way to ask, so they
end `outcome_unknown` for a person, never submitted again on a guess. Every other text goes
once, on the new link. The SMSC simulator (tests/fakes/smsc.py) over real TCP.
"""

from __future__ import annotations

import time

import pytest

from tests.fakes.smsc import Smsc
from tests.faults.conftest import (
    assert_nothing_lost_or_duplicated,
    django_rows,
    take_in,
    tally,
)
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.messages.sms import cost
from victim_notify.providers import registry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

BATCH = 30
TEXTS_IN_WINDOW = 4


@pytest.fixture
def smsc():
    with Smsc(system_id="vn-faults", password="s3cret") as running:
        yield running


def test_link_dropped_mid_window_then_back(agency, smsc, settings):
    take_in(agency, BATCH)
    [parts] = {cost(n.body).segments for n in Notification.objects.filter(channel="sms")}
    window = TEXTS_IN_WINDOW * parts
    settings.SMS_PROVIDERS = ["smpp"]
    settings.SMPP_URL = (
        f"{smsc.url}?window={window}&reconnect_base=0.05&reconnect_max=0.3&throttle_pause=0.05"
    )
    settings.PROVIDER_TIMEOUT_SECONDS = 3
    settings.RETRY_BASE_SECONDS = 0
    registry.reset()
    try:
        assert sender.send_due("w", limit=10) == 10  # the first ten go on the first link
        smsc.drop_after(window)  # the next window's worth are taken, never answered
        smsc.refuse_binds(seconds=1.0)  # and the SMSC is away for a moment
        deadline = time.monotonic() + 25
        while Notification.objects.filter(status=Status.PENDING).exists():
            sender.send_due("w", limit=10)
            assert time.monotonic() < deadline, "the batch never finished"
    finally:
        registry.reset()

    texts = [m.text for m in smsc.messages]
    result = tally(
        "SMPP link dropped mid-window",
        BATCH,
        django_rows(),
        lambda key: sum(key in text for text in texts),
    )
    assert_nothing_lost_or_duplicated(result)
    assert not smsc.duplicate_parts
    unknown = Notification.objects.filter(status=Status.OUTCOME_UNKNOWN)
    assert unknown.count() == TEXTS_IN_WINDOW
    assert {n.provider_error_code for n in unknown} == {"no_answer"}
    assert Notification.objects.filter(status=Status.SENT).count() == BATCH - TEXTS_IN_WINDOW
    assert len(smsc.bind_attempts) >= 2  # it bound again after the drop
