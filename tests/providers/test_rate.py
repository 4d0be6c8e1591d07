"""The per-second allowance for a sending account, on a clock the test moves: a second is
granted only while most of it is still ahead, a full second sends the asker to a later one, and
the asker is let go at the start of the second it was granted."""

from __future__ import annotations

import pytest

from victim_notify.providers import rate
from victim_notify.providers.models import RateWindow

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(rate, "time", clock)
    return clock


def used() -> dict[int, int]:
    return dict(RateWindow.objects.filter(provider="twilio:AC1").values_list("second", "used"))


def test_early_in_a_second_the_allowance_is_for_that_second(clock):
    clock.now += 0.1
    assert rate.wait_for_allowance("twilio:AC1", 10, 4) == 4
    assert used() == {1_800_000_000: 4}
    assert clock.now == pytest.approx(1_800_000_000.1)  # nothing waited for


def test_late_in_a_second_the_allowance_is_for_the_next_and_the_asker_waits_for_it(clock):
    clock.now += 0.9
    assert rate.wait_for_allowance("twilio:AC1", 3, 4) == 3
    assert used() == {1_800_000_001: 3}
    assert clock.now == pytest.approx(1_800_000_001.0)


def test_a_full_second_sends_the_asker_to_the_next_with_room(clock):
    rate.take("twilio:AC1", 4, 4, 1_800_000_000)
    rate.take("twilio:AC1", 3, 4, 1_800_000_001)
    assert rate.wait_for_allowance("twilio:AC1", 4, 4) == 1
    assert used() == {1_800_000_000: 4, 1_800_000_001: 4}
    assert clock.now == pytest.approx(1_800_000_001.0)


def test_when_every_second_ahead_is_booked_the_asker_waits_and_asks_again(clock):
    for second in range(1_800_000_000, 1_800_000_000 + rate.LOOK_AHEAD):
        rate.take("twilio:AC1", 4, 4, second)
    assert rate.wait_for_allowance("twilio:AC1", 2, 4) == 2
    assert used()[1_800_000_000 + rate.LOOK_AHEAD] == 2
    assert clock.now == pytest.approx(1_800_000_000 + rate.LOOK_AHEAD)


def test_no_limit_grants_everything_at_once(clock):
    assert rate.wait_for_allowance("twilio:AC1", 500, 0) == 500
    assert used() == {}
    assert clock.slept == []
