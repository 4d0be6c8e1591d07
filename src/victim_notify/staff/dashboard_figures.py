"""The dashboard's figures: counts for one agency over a period of days in its time zone,
for every division or one. Everything is counted by the database (grouped counts, never a
loop over messages): an agency writes about 27,000 messages a month.

Aggregates only: nothing here reads a name, a phone, an email address or a message's text,
so analysts may see all of it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from victim_notify.agencies.models import Agency, Division
from victim_notify.cases.clock import AT_RISK, DUE, LATE, standing
from victim_notify.cases.models import Obligation
from victim_notify.intake.models import IntakeWatch, QuarantinedRecord, QuarantineStatus
from victim_notify.logs import mask
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.rates import rates
from victim_notify.providers.health import routes
from victim_notify.providers.models import ProviderHealth
from victim_notify.rules.models import Channel, Decision
from victim_notify.rules.reasons import Reason

CHANNELS = (Channel.SMS, Channel.EMAIL)

# Every status, in the order a supervisor reads them, with what it means here.
STATUS_ROWS: tuple[tuple[str, Promise, Promise], ...] = (
    (Status.DELIVERED, _("Delivered"), _("the phone company confirmed the text arrived")),
    (
        Status.SENT,
        _("Sent, waiting for a receipt"),
        _("the provider took it; emails stay here, as mail servers never confirm delivery"),
    ),
    (Status.PENDING, _("Pending"), _("decided, waiting for its time (quiet hours, a delay)")),
    (Status.SENDING, _("Being sent"), _("a worker is handing it to the provider")),
    (
        Status.FAILED_PERMANENT,
        _("Failed (permanent)"),
        _("an invalid number, a landline, a mailbox that does not exist"),
    ),
    (Status.FAILED_TEMPORARY, _("Failed (temporary)"), _("the provider kept failing")),
    (Status.CANCELLED, _("Cancelled"), _("an opt-out, an amended report or a staff hold")),
    (Status.EXPIRED, _("Expired"), _("not handed over within the maximum message age")),
    (
        Status.OUTCOME_UNKNOWN,
        _("Outcome unknown"),
        _("a worker stopped mid-hand-off; a person must decide"),
    ),
)

# Short labels for reason codes (rules/reasons.py holds the full sentences, with details of
# one report that a count over many cannot show).
REASON_LABELS: dict[str, Promise] = {
    "eligible": _("Every rule allows it"),
    "assumed_adult": _("No age given, treated as an adult"),
    "guardian_of_minor": _("Written to as a minor's parent or guardian"),
    "report_not_approved": _("Report not in an approved status"),
    "do_not_notify": _("Officer marked the report do-not-notify"),
    "domestic_violence_flag": _("Report flagged as domestic violence"),
    "domestic_violence_relationship": _("Victim related to the suspect (domestic violence)"),
    "division_not_live": _("Division not live on the report date"),
    "unknown_offense": _("Offense not in the agency's offense table"),
    "suspect": _("The person is a suspect"),
    "role_not_notified": _("The person's role is not notified"),
    "reporting_parties_off": _("The agency does not notify reporting parties"),
    "guardian_of_no_minor": _("Parent or guardian, but no minor victim"),
    "business": _("The agency does not notify businesses"),
    "minor": _("A minor (the parent or guardian is told instead)"),
    "minor_without_guardian": _("A minor with no parent or guardian listed"),
    "minor_not_victim": _("A minor who is not the victim"),
    "shares_contact_with_suspect": _("Phone or email shared with the suspect"),
    "channel_off": _("The agency has this channel turned off"),
    "no_phone": _("No phone number"),
    "invalid_phone": _("Phone number not valid"),
    "landline": _("Phone number is a landline"),
    "no_email": _("No email address"),
    "invalid_email": _("Email address not valid"),
    "opted_out": _("The contact opted out"),
    "same_contact_as_other_party": _("Same contact already written to for another party"),
    "already_notified": _("Already told these facts"),
    "already_attempted": _("An earlier message with these facts already ended"),
    "template_failed": _("The template could not be rendered"),
    "contact_undeliverable": _("An earlier message to this contact failed for good"),
    "text_first": _("Emailed only when no text goes"),
    "fallback_after_failure": _("The other channel failed for good"),
    "superseded": _("A newer version of the report changed the message"),
    "contact_changed": _("Contact corrected in a newer version of the report"),
    "party_removed": _("The person is no longer on the report"),
    "quiet_hours": _("Held until quiet hours end"),
    "staff_do_not_contact": _("Staff marked the person do not contact"),
    "prefers_other_channel": _("The person asked for the other channel only"),
    "unit_sent": _("A unit was sent before the wait grew long"),
    "call_gone": _("The call is no longer known"),
    "texts_off": _("The agency does not text callers"),
    "do_not_text": _("CAD flagged the caller as not to be contacted"),
    "excluded_nature": _("A call type the agency never texts about"),
    "staff_hold": _("Held by a member of staff"),
    "staff_cancelled": _("Cancelled by a member of staff"),
    "staff_contact_corrected": _("Staff corrected the phone or email"),
    "control_group": _("Group B of an experiment (the agency's usual practice)"),
    "survey_not_eligible": _("No longer passes the safety rules"),
    "survey_ended": _("The survey ended"),
    "survey_answered": _("The survey was answered on the web form"),
    "expired": _("Not handed over within the maximum message age"),
    "retries_exhausted": _("The provider kept failing until retries ran out"),
    "excluded_offense_domestic_violence": _("Excluded offense: domestic violence"),
    "excluded_offense_sexual_offense": _("Excluded offense: a sexual offense"),
    "excluded_offense_child_abuse": _("Excluded offense: child abuse"),
    "excluded_offense_death": _("Excluded offense: a homicide or death investigation"),
    "excluded_offense_suicide": _("Excluded offense: a suicide"),
    "excluded_offense_human_trafficking": _("Excluded offense: human trafficking"),
    "excluded_offense_stalking": _("Excluded offense: stalking"),
}


def reason_label(code: str) -> str:
    """The short label; for a code added since, its sentence from rules/reasons.py when that
    needs no details of one report, else the code in words."""
    label = REASON_LABELS.get(code)
    if label is not None:
        return str(label)
    words = Reason(code).describe()
    if "{" in words:
        words = code.replace("_", " ")
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Period:
    """Whole days, `start` to `end` inclusive, in the agency's time zone."""

    start: dt.date
    end: dt.date
    zone: zoneinfo.ZoneInfo

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=self.zone)

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class ChannelCount:
    """Messages on one day or in one month, texts and emails."""

    when: dt.date
    sms: int
    email: int

    @property
    def total(self) -> int:
        return self.sms + self.email


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    meaning: str
    sms: int
    email: int

    @property
    def total(self) -> int:
        return self.sms + self.email


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    decisions: int


@dataclass(frozen=True)
class ProviderState:
    channel: str
    provider: str
    up: bool
    down_since: dt.datetime | None
    checked_at: dt.datetime | None
    last_error: str


@dataclass
class Figures:
    period: Period
    division: Division | None
    per_day: list[ChannelCount]
    per_month: list[ChannelCount]
    statuses: list[StatusCount]
    rates: dict[str, Any]
    not_sent: int
    reasons: list[ReasonCount]
    quarantine_waiting: int
    quarantine_oldest: dt.datetime | None
    providers: list[ProviderState] = field(default_factory=list)
    feeds: list[IntakeWatch] = field(default_factory=list)
    # Victims' notices by their standing on the compliance clock: late, at_risk, due.
    deadlines: dict[str, int] = field(default_factory=dict)

    @property
    def messages(self) -> ChannelCount:
        return ChannelCount(
            self.period.start, sum(d.sms for d in self.per_day), sum(d.email for d in self.per_day)
        )


def report_notices(
    agency: Agency, period: Period, division: Division | None
) -> QuerySet[Notification]:
    """The message each person gets about their report; answers to replies, staff alerts
    and survey messages are not what the dashboard counts."""
    notices = Notification.objects.filter(
        agency=agency,
        kind=MessageKind.REPORT_FILED,
        created_at__gte=period.since,
        created_at__lt=period.until,
    )
    return notices if division is None else notices.filter(report__division=division)


def per_day(notices: QuerySet[Notification], period: Period) -> list[ChannelCount]:
    """Every day of the period, days without messages as zeros, by the day each message was
    decided in the agency's time zone."""
    counted = (
        notices.annotate(day=TruncDate("created_at", tzinfo=period.zone))
        .values("day", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    found: dict[tuple[dt.date, str], int] = {(r["day"], r["channel"]): r["n"] for r in counted}
    return [
        ChannelCount(day, found.get((day, Channel.SMS), 0), found.get((day, Channel.EMAIL), 0))
        for day in period.days()
    ]


def per_month(days: list[ChannelCount]) -> list[ChannelCount]:
    """The daily counts added up by calendar month (each month named by its first day)."""
    months: dict[dt.date, list[int]] = {}
    for day in days:
        sums = months.setdefault(day.when.replace(day=1), [0, 0])
        sums[0] += day.sms
        sums[1] += day.email
    return [ChannelCount(month, sms, email) for month, (sms, email) in months.items()]


def status_counts(notices: QuerySet[Notification]) -> list[StatusCount]:
    counted = notices.values("status", "channel").annotate(n=Count("pk")).order_by()
    found = {(r["status"], r["channel"]): r["n"] for r in counted}
    return [
        StatusCount(
            status,
            str(label),
            str(meaning),
            found.get((status, Channel.SMS), 0),
            found.get((status, Channel.EMAIL), 0),
        )
        for status, label, meaning in STATUS_ROWS
    ]


def not_sent_reasons(
    agency: Agency, period: Period, division: Division | None
) -> tuple[int, list[ReasonCount]]:
    """How many decisions not to send were made in the period, and how many of them gave
    each reason, largest first. The database groups the decisions by their list of reason
    codes; the few distinct lists are split into codes here."""
    decisions = Decision.objects.filter(
        agency=agency, send=False, created_at__gte=period.since, created_at__lt=period.until
    )
    if division is not None:
        decisions = decisions.filter(report__division=division)
    by_code: dict[str, int] = {}
    total = 0
    for codes, n in decisions.values_list("reason_codes").annotate(n=Count("pk")).order_by():
        total += n
        for code in set(codes or []):
            by_code[code] = by_code.get(code, 0) + n
    reasons = [ReasonCount(code, reason_label(code), n) for code, n in by_code.items()]
    reasons.sort(key=lambda r: (-r.decisions, r.label))
    return total, reasons


def provider_states(agency: Agency) -> list[ProviderState]:
    """The providers the agency's messages go through, in the order they are tried; one that
    has never failed has no health row and is up."""
    wanted = [
        (channel, route.provider) for channel in CHANNELS for route in routes(agency.pk, channel)
    ]
    health = {
        h.provider: h
        for h in ProviderHealth.objects.filter(provider__in={name for _, name in wanted})
    }
    states = []
    for channel, name in wanted:
        row = health.get(name)
        states.append(
            ProviderState(
                channel=channel,
                provider=name,
                up=row.up if row else True,
                down_since=row.down_since if row else None,
                checked_at=row.checked_at if row else None,
                # A provider's error may quote a recipient; the dashboard shows none.
                last_error=mask(row.last_error) if row else "",
            )
        )
    return states


def collect(agency: Agency, period: Period, division: Division | None) -> Figures:
    notices = report_notices(agency, period, division)
    days = per_day(notices, period)
    not_sent, reasons = not_sent_reasons(agency, period, division)
    waiting = QuarantinedRecord.objects.filter(agency=agency, status=QuarantineStatus.HELD)
    oldest = waiting.order_by("received_at").values_list("received_at", flat=True).first()
    return Figures(
        period=period,
        division=division,
        per_day=days,
        per_month=per_month(days),
        statuses=status_counts(notices),
        rates=rates(agency, period.since, until=period.until, division=division),
        not_sent=not_sent,
        reasons=reasons,
        quarantine_waiting=waiting.count(),
        quarantine_oldest=oldest,
        providers=provider_states(agency),
        feeds=list(IntakeWatch.objects.filter(agency=agency).order_by("source")),
        deadlines=deadline_counts(agency),
    )


def deadline_counts(agency: Agency, now: dt.datetime | None = None) -> dict[str, int]:
    """How many victims' notices are late, at risk and due now (every division)."""
    now = now or timezone.now()
    window = dt.timedelta(hours=agency.deadline_warning_hours)
    counts = {LATE: 0, AT_RISK: 0, DUE: 0}
    open_ones = Obligation.objects.filter(event__agency=agency, met_at=None)
    for deadline in open_ones.values_list("deadline_at", flat=True):
        counts[standing(deadline, None, now, window)] += 1
    return counts
