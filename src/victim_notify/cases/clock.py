"""The compliance clock: legal deadlines counted in the agency's working days."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection

DUE, AT_RISK, LATE, MET = "due", "at_risk", "late", "met"


def working_deadline(
    start: dt.datetime,
    working_days: int,
    zone: zoneinfo.ZoneInfo,
    holidays: Collection[dt.date],
) -> dt.datetime:
    """The end (23:59:59 local) of the `working_days`-th working day after the day of
    `start`, weekends and the agency's holidays not counted; 0 is the end of that same day."""
    day = start.astimezone(zone).date()
    counted = 0
    while counted < working_days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)
    return end.astimezone(dt.UTC)


def standing(
    deadline_at: dt.datetime, met_at: dt.datetime | None, now: dt.datetime, at_risk: dt.timedelta
) -> str:
    """Met, late (past the deadline and not met), at risk (within `at_risk` of it) or due."""
    if met_at is not None:
        return MET
    if now > deadline_at:
        return LATE
    if deadline_at - now <= at_risk:
        return AT_RISK
    return DUE
