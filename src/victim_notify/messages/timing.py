"""When a message may go: the post-approval delay, quiet hours, retries and the maximum age."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass


@dataclass(frozen=True)
class QuietHours:
    start: dt.time  # local time texts stop, e.g. 21:00
    end: dt.time  # local time texts may start again, e.g. 08:00
    zone: zoneinfo.ZoneInfo

    def contains(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:  # e.g. 01:00–05:00
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # wraps midnight, e.g. 21:00–08:00

    def next_allowed(self, moment: dt.datetime) -> dt.datetime:
        """`moment` itself when texts are allowed then, else the end of this quiet period."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        # combine() with a zone gives the wall-clock time; across a DST change the end of the
        # quiet period is still the first minute it reads `end` on the clock. On the day clocks
        # go back it may read `end` twice (fold 0, then 1): take the first one after `moment`,
        # comparing instants, since aware datetimes in one zone compare by wall clock alone.
        for day in (local.date(), local.date() + dt.timedelta(days=1)):
            end = dt.datetime.combine(day, self.end, tzinfo=self.zone)
            for fold in (0, 1):
                candidate = end.replace(fold=fold).astimezone(dt.UTC)
                if candidate > moment:
                    return candidate
        raise AssertionError("quiet hours end within a day")  # pragma: no cover


def hold_for_quiet_hours(
    not_before: dt.datetime, expires_at: dt.datetime, quiet: QuietHours | None
) -> tuple[dt.datetime, dt.datetime]:
    """Move a text out of quiet hours. The wait is added to its expiry, since the agency's
    maximum message age counts only time the message could have been sent."""
    if quiet is None:
        return not_before, expires_at
    allowed = quiet.next_allowed(not_before)
    return allowed, expires_at + (allowed - not_before)


def retry_delay(
    attempt: int, base: float, ceiling: float, rng: random.Random | None = None
) -> dt.timedelta:
    """Exponential backoff with jitter: between half and all of base·2^(attempt-1) seconds,
    capped at `ceiling`. Jitter spreads retries so a provider that comes back is not hit by
    every waiting message at once."""
    rng = rng or random.Random()
    # Past 64 doublings the ceiling was reached long ago, and 2**1024 would overflow a float.
    span = min(ceiling, base * (2 ** min(64, max(0, attempt - 1))))
    return dt.timedelta(seconds=span * (0.5 + rng.random() / 2))
