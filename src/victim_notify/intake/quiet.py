"""The alarm for a feed that has gone quiet.

A silently stopped RMS export is the most common real failure: nothing errors, victims are
simply not told. Every source an agency sends from (the API, dropped files, the simulated
feed) is watched: when it has sent nothing for longer than its usual gap at this time of day,
the agency's administrators are emailed once, and again when reports arrive again.

The usual gap is learned from the last 28 days: twice the 95th percentile of the gaps whose
middle fell in the same part of the day (07:00–21:00 or 21:00–07:00, the agency's time), never less
than the agency's minimum (4 hours by day and 10 at night unless it set others; 0 turns the
alarm off). A busy city's alarm therefore rings after the minimum, and a small town with a few
reports a day is not woken by its ordinary quiet afternoons.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from victim_notify.accounts.mail import email_staff
from victim_notify.accounts.models import Role
from victim_notify.agencies.models import Agency
from victim_notify.intake.models import IntakeWatch, QuarantinedRecord, ReportVersion, Source

log = logging.getLogger(__name__)

DAY_STARTS, NIGHT_STARTS = dt.time(7), dt.time(21)
LEARN_FROM = dt.timedelta(days=28)
RELEARN_EVERY = dt.timedelta(days=1)
FEWEST_GAPS = 20  # with fewer, the agency's minimum alone decides
WATCHED = frozenset({Source.API, Source.FILE, Source.SIMULATOR})  # replays are staff, not feeds


def heard(agency: Agency, source: str, at: dt.datetime | None = None) -> None:
    """Note that a source sent something (good or quarantined)."""
    if source not in WATCHED:
        return
    at = at or timezone.now()
    watch = IntakeWatch.objects.filter(agency=agency, source=source)
    if watch.filter(last_heard_at__lt=at).update(last_heard_at=at) or watch.exists():
        return
    try:
        with transaction.atomic():
            IntakeWatch.objects.create(agency=agency, source=source, last_heard_at=at)
    except IntegrityError:  # another process created it first
        watch.filter(last_heard_at__lt=at).update(last_heard_at=at)


def is_daytime(agency: Agency, at: dt.datetime) -> bool:
    return DAY_STARTS <= at.astimezone(agency.zone).time() < NIGHT_STARTS


def usual_gaps(
    agency: Agency, arrivals: Iterable[dt.datetime]
) -> tuple[dt.timedelta | None, dt.timedelta | None]:
    """The 95th percentile of the gaps between arrivals by day, and by night; a gap belongs to
    the part of the day its middle falls in (an evening-to-morning gap is a night's)."""
    ordered = sorted(arrivals)
    day: list[dt.timedelta] = []
    night: list[dt.timedelta] = []
    for earlier, later in itertools.pairwise(ordered):
        middle = earlier + (later - earlier) / 2
        (day if is_daytime(agency, middle) else night).append(later - earlier)
    return _p95(day), _p95(night)


def _p95(gaps: list[dt.timedelta]) -> dt.timedelta | None:
    if len(gaps) < FEWEST_GAPS:
        return None
    return sorted(gaps)[int(0.95 * (len(gaps) - 1))]


def _arrivals(watch: IntakeWatch, since: dt.datetime) -> list[dt.datetime]:
    versions = ReportVersion.objects.filter(
        report__agency_id=watch.agency_id, source=watch.source, received_at__gte=since
    ).values_list("received_at", flat=True)
    held = QuarantinedRecord.objects.filter(
        agency_id=watch.agency_id, source=watch.source, received_at__gte=since
    ).values_list("received_at", flat=True)
    return [*versions, *held]


def allowed_quiet(watch: IntakeWatch, now: dt.datetime) -> dt.timedelta | None:
    """How long this source may stay quiet now; None when the agency turned the alarm off."""
    agency = watch.agency
    if is_daytime(agency, now):
        minimum, usual = agency.intake_quiet_day_hours, watch.usual_gap_day
    else:
        minimum, usual = agency.intake_quiet_night_hours, watch.usual_gap_night
    if not minimum:
        return None
    return max(dt.timedelta(hours=minimum), 2 * usual if usual else dt.timedelta(0))


def check_quiet_sources(now: dt.datetime | None = None) -> dict[str, int]:
    """Raise or clear each watched source's alarm. Safe to run in several workers at once:
    each change is a guarded update, so each email goes once."""
    now = now or timezone.now()
    counts = {"raised": 0, "cleared": 0}
    for watch in IntakeWatch.objects.select_related("agency"):
        if watch.learned_at is None or now - watch.learned_at > RELEARN_EVERY:
            watch.usual_gap_day, watch.usual_gap_night = usual_gaps(
                watch.agency, _arrivals(watch, now - LEARN_FROM)
            )
            watch.learned_at = now
            IntakeWatch.objects.filter(pk=watch.pk).update(
                usual_gap_day=watch.usual_gap_day,
                usual_gap_night=watch.usual_gap_night,
                learned_at=now,
            )
        limit = allowed_quiet(watch, now)
        if watch.alarm_raised_at is None:
            if limit is not None and now - watch.last_heard_at > limit:
                raised = IntakeWatch.objects.filter(
                    pk=watch.pk, alarm_raised_at__isnull=True, last_heard_at=watch.last_heard_at
                ).update(alarm_raised_at=now, quiet_since=F("last_heard_at"))
                if raised:
                    counts["raised"] += 1
                    _tell(watch, now, limit, raised=True)
        elif watch.quiet_since is not None and watch.last_heard_at > watch.quiet_since:
            cleared = IntakeWatch.objects.filter(
                pk=watch.pk, alarm_raised_at=watch.alarm_raised_at
            ).update(alarm_raised_at=None, quiet_since=None)
            if cleared:
                counts["cleared"] += 1
                _tell(watch, now, limit, raised=False)
    return counts


def _duration(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _tell(watch: IntakeWatch, now: dt.datetime, limit: dt.timedelta | None, raised: bool) -> None:
    agency = watch.agency
    source = Source(watch.source).label
    quiet_since = (watch.quiet_since or watch.last_heard_at).astimezone(agency.zone)
    since = quiet_since.strftime("%Y-%m-%d %H:%M %Z")
    if raised:
        subject = f"Victim Notify: no reports from {source} since {since}"
        body = (
            f"{agency.name}: nothing has arrived from {source} since {since}, "
            f"{_duration(now - watch.last_heard_at)} ago. At this time of day this source is "
            f"not usually quiet for more than {_duration(limit or dt.timedelta(0))}.\n\n"
            "Victims are not being told about new reports while this lasts. Check that the "
            "records system's export or connection is running; reports sent late are still "
            "taken in and notified.\n\n"
            "You will get another email when reports arrive again.\n\n"
            f"Dashboard: {settings.PUBLIC_URL}/staff/\n"
        )
        log.warning("intake source quiet", extra={"agency": agency.slug, "source": watch.source})
    else:
        arrived = watch.last_heard_at.astimezone(agency.zone).strftime("%Y-%m-%d %H:%M %Z")
        subject = f"Victim Notify: reports from {source} are arriving again"
        body = (
            f"{agency.name}: {source} sent reports again at {arrived}, after being quiet since "
            f"{since} ({_duration(watch.last_heard_at - (watch.quiet_since or now))}).\n\n"
            f"Dashboard: {settings.PUBLIC_URL}/staff/\n"
        )
        log.info("intake source heard again", extra={"agency": agency.slug, "source": watch.source})
    email_staff(agency, [Role.AGENCY_ADMIN], subject, body)
