"""Telling victims what happened to their case, and keeping the compliance clock.

A case event is told to exactly the people, on exactly the channels, the report's own rules
allow for its first notice, decided again now (an opt-out or an amendment since counts): a
case the policy excludes (domestic violence, a sexual offense...) gets no message on any
channel, so an arrest in such a case never goes by text; a minor is told through a guardian.
Each message is checked once more at hand-off, like every notice.

Every victim (a guardian for a minor) also gets an obligation when the event type carries a
legal deadline, whether or not a message can tell them: where none can, staff must, and the
compliance view shows it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from victim_notify.agencies.config import AgencyConfig, cached_config
from victim_notify.agencies.models import Agency
from victim_notify.cases.clock import working_deadline
from victim_notify.cases.models import CaseEvent, Holiday, MetHow, Obligation
from victim_notify.contacts.models import Contact, ContactKind, standing_of
from victim_notify.contacts.normalise import display_phone
from victim_notify.intake.models import Party, Report
from victim_notify.messages.models import (
    AFTER_FIRST_NOTICE,
    FIRST_NOTICE_KINDS,
    STAFF_HOLD,
    MessageKind,
    Notification,
    Status,
)
from victim_notify.messages.render import facts_for, format_when, new_details_key, render_answer
from victim_notify.messages.schedule import TemplateBook, snapshot
from victim_notify.rules.eligibility import Outcome, decide_report
from victim_notify.rules.facts import report_facts

log = logging.getLogger(__name__)

_TOLD = (Status.SENT, Status.DELIVERED)


def _decide(
    report: Report, parties: list[Party], config: AgencyConfig
) -> tuple[list[Outcome], dict[int, str]]:
    standing = standing_of(c for p in parties for c in (p.phone_id, p.email_id) if c)
    facts = report_facts(report, parties, config, standing.values)
    outcomes, _ = decide_report(
        facts, config.policy, standing.opted_out[config.id], standing.undeliverable
    )
    return outcomes, standing.values


def tell(
    report: Report,
    kind: str,
    facts_key: str,
    extra: Callable[[str], dict[str, str]],
    now: dt.datetime,
) -> int:
    """Queue the message of `kind` about `report` to everyone its rules allow; returns how
    many. A person already sent this (the same facts key) is not sent it again."""
    config = cached_config(report.agency_id)
    parties = list(Party.objects.filter(report=report))
    outcomes, values = _decide(report, parties, config)
    by_id = {p.party_id: p for p in parties}
    book = TemplateBook(config)
    contact_ids = {value: pk for pk, value in values.items()}
    already = set(
        Notification.objects.filter(report=report, facts_key=facts_key)
        .exclude(status=Status.CANCELLED)
        .values_list("contact_id", "channel")
    )
    # Never ahead of the report's own first notice (Group B's: the rights notice) while that
    # still waits (the wait after approval, quiet hours): "your case was closed" before "here
    # is your report" confuses. A minute behind it; hand-off holds it longer if the notice is
    # still not sent (messages.handoff). Not behind one staff are holding: that may wait for
    # good, and this one is checked at hand-off on its own.
    waiting = [
        not_before
        for not_before, codes in Notification.objects.filter(
            report=report, kind__in=FIRST_NOTICE_KINDS, status=Status.PENDING
        ).values_list("not_before", "status_reason_codes")
        if STAFF_HOLD not in (codes or [])
    ]
    # Nor within the wait after approval, which holds every message about a new report (it
    # may be returned or reclassified): Group B, or an agency's first notice that is off,
    # leaves no first notice to wait behind.
    settled = (
        report.approved_at + dt.timedelta(minutes=config.agency.post_approval_delay_minutes)
        if report.approved_at
        else now
    )
    start = max([now, settled, *(not_before + AFTER_FIRST_NOTICE for not_before in waiting)])
    queued = 0
    for outcome in outcomes:
        contact_id = contact_ids.get(outcome.contact or "")
        if not outcome.send or outcome.channel is None or contact_id is None:
            continue
        if (contact_id, outcome.channel) in already:
            continue
        party = by_id[outcome.party_id]
        language = config.language_for(party.language)
        context = case_context(
            config,
            report,
            language,
            recipient_name=party.first_name or party.business_name,
            is_guardian=outcome.on_behalf_of is not None,
            extra=extra(language),
        )
        template = book.get(kind, outcome.channel, language)
        rendered = render_answer(template, context, config, outcome.channel, language)
        Notification.objects.create(
            agency=config.agency,
            report=report,
            party=party,
            contact_id=contact_id,
            kind=kind,
            channel=outcome.channel,
            language=language,
            facts_key=facts_key,
            template=template,
            **rendered.content(),
            status=Status.PENDING,
            due_at=start,
            not_before=start,
            expires_at=start + dt.timedelta(hours=config.agency.max_message_age_hours),
        )
        queued += 1
    return queued


def case_context(
    config: AgencyConfig,
    report: Report,
    language: str,
    *,
    recipient_name: str,
    is_guardian: bool,
    extra: dict[str, str],
) -> dict[str, object]:
    """What a case-update template can show (templating.CASE_PLACEHOLDERS)."""
    agency = config.agency
    return {
        **vars(facts_for(snapshot(report, config), config, language)),
        "agency_name": agency.name,
        "agency_short_name": agency.short_name,
        "recipient_name": recipient_name,
        "is_guardian": is_guardian,
        "event_time": "",
        "detective_name": "",
        "detective_phone": "",
        "appearance_time": "",
        "court": "",
        **extra,
    }


def announce(event: CaseEvent, now: dt.datetime | None = None) -> int:
    """The event's obligations, and its messages when the agency tells victims of such
    events. Returns how many messages were queued."""
    now = now or timezone.now()
    config = cached_config(event.agency_id)
    _oblige(event, config)
    if event.kind not in config.agency.case_update_kinds:
        return 0
    offense = (
        config.offenses.get(event.report.offense_codes[0]) if event.report.offense_codes else None
    )
    fallback_phone = display_phone(offense.section_phone) if offense else ""

    def extra(language: str) -> dict[str, str]:
        return {
            "event_time": event_day(event.occurred_at, config, language),
            "detective_name": event.detective_name,
            "detective_phone": display_phone(event.detective_phone)
            if event.detective_phone
            else fallback_phone,
            "appearance_time": format_when(event.appearance_at, config, language)
            if event.appearance_at
            else "",
            "court": event.court,
        }

    try:
        with transaction.atomic():  # a savepoint: a failure keeps the event and its deadline
            return tell(event.report, event.kind, event.facts_key, extra, now)
    except Exception:  # a template that cannot render must not lose the event or its batch
        log.exception("case event message could not be made", extra={"event": event.pk})
        return 0


def event_day(moment: dt.datetime, config: AgencyConfig, language: str) -> str:
    """The day an event happened, in the person's language. Only the day: many RMS (NIBRS
    among them) record an arrest's date without its hour."""
    with translation.override(language):
        return formats.date_format(moment.astimezone(config.zone).date(), "DATE_FORMAT")


def _oblige(event: CaseEvent, config: AgencyConfig) -> None:
    agency = config.agency
    days = agency.notice_deadlines.get(event.kind)
    if not days:
        return
    holidays = set(Holiday.objects.filter(agency=agency).values_list("date", flat=True))
    enhanced = is_enhanced(event.report, config)
    working_days = days[1] if enhanced and len(days) > 1 else days[0]
    # Counted from the event, not from when the RMS told us: a late feed makes a late notice.
    deadline = working_deadline(event.occurred_at, working_days, config.zone, holidays)
    for party in Party.objects.filter(report=event.report, role="victim", removed=False):
        Obligation.objects.get_or_create(
            event=event, party=party, defaults={"deadline_at": deadline, "enhanced": enhanced}
        )


def is_enhanced(report: Report, config: AgencyConfig) -> bool:
    categories = set(config.agency.enhanced_rights_categories)
    if report.domestic_violence and "domestic_violence" in categories:
        return True
    return any(
        (info := config.offenses.get(code)) is not None and info.category in categories
        for code in report.offense_codes
    )


def settle_obligations(now: dt.datetime | None = None, chunk: int = 500) -> int:
    """Mark met the open obligations whose message was handed to the provider: to the victim,
    or, for a victim told through a parent or guardian, to the guardian. Returns how many.
    A few queries per `chunk` open obligations: many stay open for long (a case no message may
    tell of waits for staff), and this runs every few minutes."""
    now = now or timezone.now()
    met = 0
    open_ = Obligation.objects.filter(met_at=None).values_list(
        "pk", "party_id", "event_id", "event__report_id"
    )
    rows = list(open_.order_by("pk"))
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        told: dict[tuple[str, int], dt.datetime] = {}  # (facts key, party) -> first hand-over
        guardian_told: dict[str, dt.datetime] = {}  # facts key -> first to a guardian
        for key, party_id, role, handed_over in Notification.objects.filter(
            report_id__in={report_id for *_, report_id in part},
            facts_key__in={f"event:{event_id}" for _, _, event_id, _ in part},
            status__in=_TOLD,
        ).values_list("facts_key", "party_id", "party__role", "handed_over_at"):
            handed_over = handed_over or now
            if (key, party_id) not in told or handed_over < told[(key, party_id)]:
                told[(key, party_id)] = handed_over
            if role == "guardian" and (
                key not in guardian_told or handed_over < guardian_told[key]
            ):
                guardian_told[key] = handed_over
        for pk, party_id, event_id, _ in part:
            key = f"event:{event_id}"
            when = told.get((key, party_id)) or guardian_told.get(key)
            if when is not None:
                met += Obligation.objects.filter(pk=pk, met_at=None).update(
                    met_at=when, met_how=MetHow.NOTIFIED
                )
    return met


def warn_supervisors(now: dt.datetime | None = None) -> int:
    """Email each agency's supervisors and administrators about obligations about to be
    missed, once per obligation. Returns how many emails were queued."""
    from victim_notify.accounts.models import Role, StaffMember

    now = now or timezone.now()
    queued = 0
    for agency in Agency.objects.all():
        soon = now + dt.timedelta(hours=agency.deadline_warning_hours)
        at_risk = list(
            Obligation.objects.filter(
                event__agency=agency, met_at=None, alerted_at=None, deadline_at__lte=soon
            ).select_related("event__report", "party")
        )
        if not at_risk:
            continue
        emails = {
            m.user.email.lower()
            for m in StaffMember.objects.filter(
                agency=agency, role__in=[Role.SUPERVISOR, Role.AGENCY_ADMIN]
            ).select_related("user")
            if m.user.email and m.user.is_active
        }
        with transaction.atomic():
            for email in sorted(emails):
                _queue_warning(agency, email, at_risk, now)
                queued += 1
            Obligation.objects.filter(pk__in=[o.pk for o in at_risk]).update(alerted_at=now)
    return queued


def _queue_warning(agency: Agency, email: str, at_risk: list[Obligation], now: dt.datetime) -> None:
    config = cached_config(agency.pk)
    rows = [
        {
            "report": o.event.report.report_number,
            "event": o.event.get_kind_display(),
            "deadline": timezone.localtime(o.deadline_at, config.zone),
            "late": o.deadline_at < now,
        }
        for o in sorted(at_risk, key=lambda o: o.deadline_at)
    ]
    body = render_to_string(
        "cases/deadline_warning.txt",
        {"agency": agency, "rows": rows, "link": f"{settings.PUBLIC_URL}/staff/compliance/"},
    )
    Notification.objects.create(
        agency=agency,
        contact=Contact.objects.get_or_add(ContactKind.EMAIL, email),
        kind=MessageKind.STAFF_ALERT,
        channel="email",
        language="en",
        facts_key="",
        subject=f"{len(rows)} victim notice(s) due soon or late",
        body=body,
        details_key=new_details_key(),
        status=Status.PENDING,
        due_at=now,
        not_before=now,
        expires_at=now + dt.timedelta(hours=24),
    )


def still_open_updates(now: dt.datetime | None = None) -> int:
    """Tell victims of open cases that have had no news for the agency's chosen days that
    their case is still open. Returns how many messages were queued."""
    now = now or timezone.now()
    queued = 0
    closing = ("case_closed", "case_suspended")
    for agency in Agency.objects.exclude(still_open_days=0):
        quiet_since = now - dt.timedelta(days=agency.still_open_days)
        reports = (
            Report.objects.filter(agency=agency, purged_at=None, created_at__lt=quiet_since)
            .exclude(case_events__kind__in=closing)
            .exclude(notifications__created_at__gte=quiet_since)
            .filter(notifications__status__in=_TOLD)
            .distinct()
        )
        for report in reports.iterator():
            period = (now - report.created_at).days // agency.still_open_days
            with transaction.atomic():
                queued += tell(
                    report, MessageKind.STILL_OPEN, f"still_open:{period}", lambda _: {}, now
                )
    return queued
