"""When a text may go: quiet hours (including the days the clocks change), the quiet-hours wait
added to a message's expiry, and retry backoff with jitter."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from victim_notify.messages.timing import QuietHours, hold_for_quiet_hours, retry_delay

NEW_YORK = zoneinfo.ZoneInfo(
    "America/New_York"
)  # DST in 2026: Mar 8 02:00 → 03:00, Nov 1 02:00 → 01:00
PHOENIX = zoneinfo.ZoneInfo("America/Phoenix")  # MST all year
UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str, zone: zoneinfo.ZoneInfo = NEW_YORK, fold: int = 0) -> dt.datetime:
    """A wall-clock time in `zone`; `fold=1` is the second 01:30 on the day clocks go back."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold).astimezone(UTC)


def quiet(start: str, end: str, zone: zoneinfo.ZoneInfo = NEW_YORK) -> QuietHours:
    return QuietHours(dt.time.fromisoformat(start), dt.time.fromisoformat(end), zone)


OVERNIGHT = quiet("21:00", "08:00")  # wraps midnight
SMALL_HOURS = quiet("01:00", "05:00")  # does not
NONE = quiet("08:00", "08:00")  # start == end: no quiet hours


# ---------------------------------------------------------------------------------------------
# contains


@pytest.mark.parametrize(
    ("hours", "moment", "expected"),
    [
        pytest.param(OVERNIGHT, local("2026-07-01 20:59:59"), False, id="wrap-just-before-start"),
        pytest.param(OVERNIGHT, local("2026-07-01 21:00"), True, id="wrap-at-start"),
        pytest.param(OVERNIGHT, local("2026-07-01 23:59:59"), True, id="wrap-before-midnight"),
        pytest.param(OVERNIGHT, local("2026-07-02 00:00"), True, id="wrap-midnight"),
        pytest.param(OVERNIGHT, local("2026-07-02 07:59:59"), True, id="wrap-just-before-end"),
        pytest.param(OVERNIGHT, local("2026-07-02 08:00"), False, id="wrap-at-end"),
        pytest.param(OVERNIGHT, local("2026-07-02 12:00"), False, id="wrap-noon"),
        pytest.param(
            SMALL_HOURS, local("2026-07-02 00:59:59"), False, id="plain-just-before-start"
        ),
        pytest.param(SMALL_HOURS, local("2026-07-02 01:00"), True, id="plain-at-start"),
        pytest.param(SMALL_HOURS, local("2026-07-02 04:59:59"), True, id="plain-just-before-end"),
        pytest.param(SMALL_HOURS, local("2026-07-02 05:00"), False, id="plain-at-end"),
        pytest.param(SMALL_HOURS, local("2026-07-01 22:00"), False, id="plain-late-evening"),
        pytest.param(NONE, local("2026-07-02 08:00"), False, id="none-at-the-time"),
        pytest.param(NONE, local("2026-07-02 03:00"), False, id="none-at-night"),
        pytest.param(NONE, local("2026-07-02 21:00"), False, id="none-in-evening"),
        # The agency's clock, not UTC: 02:00 UTC is 22:00 in New York and 19:00 in Phoenix.
        pytest.param(OVERNIGHT, utc("2026-07-02 02:00"), True, id="new-york-clock"),
        pytest.param(
            quiet("21:00", "08:00", PHOENIX), utc("2026-07-02 02:00"), False, id="phoenix-clock"
        ),
        # Both passes through 01:30 on the day clocks go back are at night.
        pytest.param(OVERNIGHT, local("2026-11-01 01:30", fold=0), True, id="fall-back-first-0130"),
        pytest.param(
            OVERNIGHT, local("2026-11-01 01:30", fold=1), True, id="fall-back-second-0130"
        ),
        pytest.param(OVERNIGHT, utc("2026-03-08 07:00"), True, id="spring-forward-0300"),
    ],
)
def test_contains(hours: QuietHours, moment: dt.datetime, expected: bool) -> None:
    assert hours.contains(moment) is expected


# ---------------------------------------------------------------------------------------------
# next_allowed

PHOENIX_OVERNIGHT = quiet("21:00", "08:00", PHOENIX)
ENDS_0130 = quiet("00:00", "01:30")  # ends inside the hour repeated when New York falls back
STARTS_0230 = quiet("02:30", "06:00")  # starts inside the hour New York skips in spring

# Times are wall-clock in the quiet hours' zone, or UTC when they end in Z.
NEXT_ALLOWED = [
    # Outside quiet hours: the moment itself.
    pytest.param(OVERNIGHT, "2026-07-01 12:00", "2026-07-01 12:00", id="daytime"),
    pytest.param(OVERNIGHT, "2026-07-01 08:00", "2026-07-01 08:00", id="at-end"),
    pytest.param(NONE, "2026-07-01 03:00", "2026-07-01 03:00", id="no-quiet-hours"),
    # A window that wraps midnight: before midnight waits for tomorrow, after it for today.
    pytest.param(OVERNIGHT, "2026-07-01 21:00", "2026-07-02 08:00", id="at-start"),
    pytest.param(OVERNIGHT, "2026-07-01 22:00", "2026-07-02 08:00", id="before-midnight"),
    pytest.param(OVERNIGHT, "2026-07-02 00:00", "2026-07-02 08:00", id="at-midnight"),
    pytest.param(OVERNIGHT, "2026-07-02 03:00", "2026-07-02 08:00", id="after-midnight"),
    pytest.param(OVERNIGHT, "2026-07-02 07:59:59", "2026-07-02 08:00", id="last-second"),
    pytest.param(OVERNIGHT, "2026-12-31 23:00", "2027-01-01 08:00", id="new-year"),
    pytest.param(OVERNIGHT, "2026-01-15 23:00", "2026-01-16 13:00Z", id="winter-est"),
    pytest.param(OVERNIGHT, "2026-07-01 23:00", "2026-07-02 12:00Z", id="summer-edt"),
    # A window that does not wrap.
    pytest.param(SMALL_HOURS, "2026-07-02 01:00", "2026-07-02 05:00", id="plain-at-start"),
    pytest.param(SMALL_HOURS, "2026-07-02 02:00", "2026-07-02 05:00", id="plain-inside"),
    pytest.param(SMALL_HOURS, "2026-07-01 23:00", "2026-07-01 23:00", id="plain-evening"),
    # New York, spring forward (Mar 8 2026: 01:59:59 EST is followed by 03:00 EDT).
    pytest.param(OVERNIGHT, "2026-03-07 22:00", "2026-03-08 12:00Z", id="ny-spring-eve"),
    pytest.param(OVERNIGHT, "2026-03-08 06:30Z", "2026-03-08 12:00Z", id="ny-spring-0130-est"),
    pytest.param(OVERNIGHT, "2026-03-08 07:30Z", "2026-03-08 12:00Z", id="ny-spring-0330-edt"),
    pytest.param(OVERNIGHT, "2026-03-08 21:30", "2026-03-09 12:00Z", id="ny-spring-evening"),
    # New York, fall back (Nov 1 2026: 01:59:59 EDT is followed by 01:00 EST).
    pytest.param(OVERNIGHT, "2026-10-31 22:00", "2026-11-01 13:00Z", id="ny-fall-eve"),
    pytest.param(OVERNIGHT, "2026-11-01 05:30Z", "2026-11-01 13:00Z", id="ny-fall-first-0130"),
    pytest.param(OVERNIGHT, "2026-11-01 06:30Z", "2026-11-01 13:00Z", id="ny-fall-second-0130"),
    pytest.param(OVERNIGHT, "2026-11-01 21:30", "2026-11-02 13:00Z", id="ny-fall-evening"),
    # A window that ends inside the repeated hour ends the first time the clock reads its end
    # after the moment, on whichever pass through the hour that is.
    pytest.param(ENDS_0130, "2026-11-01 05:15Z", "2026-11-01 05:30Z", id="ny-fall-ends-0130-edt"),
    pytest.param(ENDS_0130, "2026-11-01 06:15Z", "2026-11-01 06:30Z", id="ny-fall-ends-0130-est"),
    pytest.param(ENDS_0130, "2026-11-01 05:45Z", "2026-11-01 05:45Z", id="ny-fall-between-passes"),
    # A window that starts inside the skipped hour.
    pytest.param(STARTS_0230, "2026-03-08 07:10Z", "2026-03-08 10:00Z", id="ny-spring-starts-0230"),
    pytest.param(STARTS_0230, "2026-03-08 06:59Z", "2026-03-08 06:59Z", id="ny-spring-before-gap"),
    # Phoenix keeps MST: the New York change days are ordinary days there.
    pytest.param(
        PHOENIX_OVERNIGHT, "2026-03-08 22:00", "2026-03-09 15:00Z", id="phoenix-spring-day"
    ),
    pytest.param(
        PHOENIX_OVERNIGHT, "2026-03-08 01:30", "2026-03-08 15:00Z", id="phoenix-spring-0130"
    ),
    pytest.param(
        PHOENIX_OVERNIGHT, "2026-11-01 01:30", "2026-11-01 15:00Z", id="phoenix-fall-0130"
    ),
    pytest.param(PHOENIX_OVERNIGHT, "2026-07-01 12:00", "2026-07-01 12:00", id="phoenix-daytime"),
]


def when(text: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return utc(text.removesuffix("Z")) if text.endswith("Z") else local(text, zone)


@pytest.mark.parametrize(("hours", "moment", "expected"), NEXT_ALLOWED)
def test_next_allowed(hours: QuietHours, moment: str, expected: str) -> None:
    allowed = hours.next_allowed(when(moment, hours.zone))
    assert allowed == when(expected, hours.zone)
    assert not hours.contains(allowed)
    if allowed != when(moment, hours.zone):
        assert allowed.tzinfo is UTC


def test_next_allowed_on_the_short_night_waits_the_real_hours() -> None:
    # 22:00 EST to 08:00 EDT reads 10 hours on the clock but is 9 real hours.
    start = local("2026-03-07 22:00")
    assert OVERNIGHT.next_allowed(start) - start == dt.timedelta(hours=9)
    start = local("2026-10-31 22:00")
    assert OVERNIGHT.next_allowed(start) - start == dt.timedelta(hours=11)


def test_window_ending_in_the_skipped_hour_never_ends_early() -> None:
    # 02:30 does not exist on Mar 8 in New York. The text may go at 03:00 EDT at the earliest;
    # waiting until 03:30 EDT is allowed (late, never early).
    hours = quiet("00:00", "02:30")
    moment = utc("2026-03-08 06:45")  # 01:45 EST
    allowed = hours.next_allowed(moment)
    assert utc("2026-03-08 07:00") <= allowed <= utc("2026-03-08 07:30")
    assert not hours.contains(allowed)


@given(
    moment=st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(UTC)),
    start=st.times().map(lambda t: t.replace(minute=t.minute // 15 * 15, second=0, microsecond=0)),
    end=st.times().map(lambda t: t.replace(minute=t.minute // 15 * 15, second=0, microsecond=0)),
    zone=st.sampled_from([NEW_YORK, PHOENIX]),
)
def test_next_allowed_is_the_first_moment_out_of_quiet_hours(
    moment: dt.datetime, start: dt.time, end: dt.time, zone: zoneinfo.ZoneInfo
) -> None:
    hours = QuietHours(start, end, zone)
    allowed = hours.next_allowed(moment)
    assert allowed >= moment
    assert not hours.contains(allowed)
    assert allowed - moment <= dt.timedelta(hours=25)
    if not hours.contains(moment):
        assert allowed == moment
    else:
        # Quiet right up to the end: the clock reads `end` then, and was quiet a second before
        # (unless `end` fell in the hour skipped when clocks go forward).
        wall = allowed.astimezone(zone)
        if wall.time() == end:
            assert hours.contains(allowed - dt.timedelta(seconds=1))
        else:
            day = wall.date()
            skipped = dt.datetime.combine(day, end, tzinfo=zone).astimezone(UTC).astimezone(zone)
            assert skipped.time() != end


# ---------------------------------------------------------------------------------------------
# hold_for_quiet_hours

HOLDS = [
    pytest.param(None, local("2026-07-01 23:00"), dt.timedelta(0), id="no-quiet-hours-configured"),
    pytest.param(OVERNIGHT, local("2026-07-01 12:00"), dt.timedelta(0), id="daytime"),
    pytest.param(NONE, local("2026-07-01 23:00"), dt.timedelta(0), id="start-equals-end"),
    pytest.param(OVERNIGHT, local("2026-07-01 22:00"), dt.timedelta(hours=10), id="overnight"),
    pytest.param(
        OVERNIGHT, local("2026-07-02 07:30"), dt.timedelta(minutes=30), id="early-morning"
    ),
    pytest.param(
        OVERNIGHT, local("2026-03-07 22:00"), dt.timedelta(hours=9), id="spring-forward-night"
    ),
    pytest.param(
        OVERNIGHT, local("2026-10-31 22:00"), dt.timedelta(hours=11), id="fall-back-night"
    ),
]


@pytest.mark.parametrize(("hours", "not_before", "wait"), HOLDS)
def test_hold_adds_the_wait_to_the_expiry(
    hours: QuietHours | None, not_before: dt.datetime, wait: dt.timedelta
) -> None:
    expires_at = not_before + dt.timedelta(hours=72)
    held_until, new_expiry = hold_for_quiet_hours(not_before, expires_at, hours)
    assert held_until - not_before == wait
    assert new_expiry - expires_at == wait
    assert new_expiry - held_until == dt.timedelta(hours=72)


@given(
    not_before=st.datetimes(
        dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    age=st.timedeltas(dt.timedelta(0), dt.timedelta(days=5)),
    zone=st.sampled_from([NEW_YORK, PHOENIX]),
)
def test_hold_never_shortens_a_messages_life(
    not_before: dt.datetime, age: dt.timedelta, zone: zoneinfo.ZoneInfo
) -> None:
    hours = quiet("21:00", "08:00", zone)
    held_until, new_expiry = hold_for_quiet_hours(not_before, not_before + age, hours)
    assert held_until >= not_before
    assert new_expiry - held_until == age
    assert not hours.contains(held_until)


# ---------------------------------------------------------------------------------------------
# retry_delay


class FixedRandom(random.Random):
    """A Random whose every draw is `value`, to pin the jitter at its ends."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


RETRIES = [
    pytest.param(1, 30.0, 3600.0, 30.0, id="first-retry-is-base"),
    pytest.param(2, 30.0, 3600.0, 60.0, id="second-doubles"),
    pytest.param(3, 30.0, 3600.0, 120.0, id="third"),
    pytest.param(7, 30.0, 3600.0, 1920.0, id="seventh"),
    pytest.param(8, 30.0, 3600.0, 3600.0, id="eighth-capped"),
    pytest.param(40, 30.0, 3600.0, 3600.0, id="fortieth-capped"),
    pytest.param(5000, 30.0, 3600.0, 3600.0, id="absurd-attempt-capped-not-overflowing"),
    pytest.param(0, 30.0, 3600.0, 30.0, id="attempt-zero-as-first"),
    pytest.param(-2, 30.0, 3600.0, 30.0, id="negative-attempt-as-first"),
    pytest.param(1, 30.0, 10.0, 10.0, id="ceiling-below-base"),
    pytest.param(4, 0.5, 60.0, 4.0, id="fractional-base"),
]


@pytest.mark.parametrize(("attempt", "base", "ceiling", "span"), RETRIES)
def test_retry_delay_bounds(attempt: int, base: float, ceiling: float, span: float) -> None:
    shortest = retry_delay(attempt, base, ceiling, FixedRandom(0.0))
    middle = retry_delay(attempt, base, ceiling, FixedRandom(0.5))
    longest = retry_delay(attempt, base, ceiling, FixedRandom(0.999999))
    assert shortest == dt.timedelta(seconds=span / 2)
    assert middle == dt.timedelta(seconds=span * 0.75)
    assert dt.timedelta(seconds=span * 0.999) < longest <= dt.timedelta(seconds=span)


def test_retry_delay_is_repeatable_with_a_seed() -> None:
    first = [retry_delay(n, 30, 3600, random.Random(7)) for n in range(1, 10)]
    again = [retry_delay(n, 30, 3600, random.Random(7)) for n in range(1, 10)]
    assert first == again


def test_retry_delay_jitters_between_messages() -> None:
    rng = random.Random(11)
    delays = {retry_delay(3, 30, 3600, rng) for _ in range(50)}
    assert len(delays) > 40


@given(
    attempt=st.integers(-5, 10_000),
    base=st.floats(0.1, 600),
    ceiling=st.floats(1, 86_400),
    seed=st.integers(0, 2**32),
)
def test_retry_delay_between_half_and_all_of_the_capped_span(
    attempt: int, base: float, ceiling: float, seed: int
) -> None:
    delay = retry_delay(attempt, base, ceiling, random.Random(seed)).total_seconds()
    span = ceiling if attempt > 200 else min(ceiling, base * 2 ** max(0, attempt - 1))
    assert span / 2 - 1e-6 <= delay <= span + 1e-6


@given(attempt=st.integers(1, 60))
def test_retry_delay_without_a_random_stays_in_bounds(attempt: int) -> None:
    delay = retry_delay(attempt, 30, 3600).total_seconds()
    span = min(3600, 30 * 2 ** (attempt - 1))
    assert span / 2 - 1e-6 <= delay <= span + 1e-6
