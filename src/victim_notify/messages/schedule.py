"""From stored reports to decisions and outbox rows, in the caller's transaction.

The order is fixed: validated report → eligibility rules → decision → notification. Messages
already sent with the same facts are never repeated; pending ones that an amendment made wrong
are cancelled with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext

from victim_notify.agencies.config import AgencyConfig
from victim_notify.contacts.models import Contact, OptOut
from victim_notify.intake.models import Party, Report
from victim_notify.messages.models import (
    MessageKind,
    MessageTemplate,
    Notification,
    Status,
    TemplateRevision,
)
from victim_notify.messages.render import (
    RenderOptions,
    ReportSnapshot,
    facts_for,
    facts_key,
    render_email,
    render_fixed,
    render_sms,
)
from victim_notify.messages.timing import QuietHours, hold_for_quiet_hours
from victim_notify.rules.eligibility import Outcome, ReportFacts, decide_report
from victim_notify.rules.facts import report_facts
from victim_notify.rules.models import Decision
from victim_notify.rules.reasons import Reason, stored_sentence
from victim_notify.surveys.assignment import Enrolment
from victim_notify.surveys.models import Assignment, Experiment, Group

# Statuses in which the contact has (or may have) received the message.
_REACHED = frozenset({Status.SENDING, Status.SENT, Status.DELIVERED, Status.OUTCOME_UNKNOWN})


log = logging.getLogger(__name__)


class TemplateBook:
    """The current revision of each of an agency's templates, read once."""

    def __init__(self, config: AgencyConfig) -> None:
        self.default_language = config.agency.default_language
        self.revisions: dict[tuple[str, str, str], TemplateRevision] = {}
        templates = MessageTemplate.objects.filter(agency=config.agency)
        current = {t.pk: t for t in templates}
        for revision in TemplateRevision.objects.filter(template__in=templates):
            template = current[revision.template_id]
            if revision.version == template.version:
                self.revisions[(template.kind, template.channel, template.language)] = revision

    def get(self, kind: str, channel: str, language: str) -> TemplateRevision:
        found = self.revisions.get((kind, channel, language)) or self.revisions.get(
            (kind, channel, self.default_language)
        )
        if found is None:
            raise LookupError(f"The agency has no {kind} template for {channel}.")
        return found


def quiet_hours(config: AgencyConfig) -> QuietHours | None:
    agency = config.agency
    if agency.quiet_hours_start is None or agency.quiet_hours_end is None:
        return None
    return QuietHours(agency.quiet_hours_start, agency.quiet_hours_end, config.zone)


def snapshot(report: Report, config: AgencyConfig) -> ReportSnapshot:
    division = config.division_by_id[report.division_id]
    return ReportSnapshot(
        report_number=report.report_number,
        offense_code=report.offense_codes[0],
        officer_name=report.officer_name,
        officer_badge=report.officer_badge,
        reported_at=report.reported_at,
        division_code=division.code,
    )


@dataclass
class Schedule:
    """Decisions and messages worked out for a batch, not yet written."""

    pairs: list[tuple[Decision, Notification | None]] = field(default_factory=list)
    to_cancel: dict[str, list[str]] = field(default_factory=dict)
    enrolment: Enrolment | None = None
    rights_notices: list[Notification] = field(default_factory=list)

    @property
    def notifications(self) -> list[Notification]:
        return [note for _, note in self.pairs if note is not None] + self.rights_notices

    def cancel_superseded(self, now: dt.datetime) -> int:
        """Cancel the waiting messages this schedule replaces, in the caller's transaction
        (the decisions and notifications themselves are inserted by the caller)."""
        return _cancel(self.to_cancel, now)


def plan(
    config: AgencyConfig,
    book: TemplateBook,
    reports: list[tuple[Report, list[Party]]],
    contact_values: dict[int, str],
    now: dt.datetime,
) -> Schedule:
    """Decide every party of every report and render the messages. Reads only: the caller
    writes the result, so this work happens outside the database's write lock. A report
    whose safety rules held a message is marked for a victim advocate."""
    contact_ids = {value: cid for cid, value in contact_values.items()}
    opted_out = {
        contact_values[cid]
        for cid in OptOut.objects.filter(
            agency=config.agency, revoked_at=None, contact_id__in=list(contact_values)
        ).values_list("contact_id", flat=True)
    }
    undeliverable = {
        contact_values[cid]
        for cid in Contact.objects.filter(
            pk__in=list(contact_values), undeliverable_at__isnull=False
        ).values_list("pk", flat=True)
    }
    existing: dict[int | None, list[Notification]] = defaultdict(list)
    for earlier_note in (
        Notification.objects.filter(report_id__in=[r.pk for r, _ in reports if r.pk])
        .exclude(status=Status.CANCELLED)
        .only("id", "report_id", "party_id", "contact_id", "channel", "facts_key", "status", "kind")
    ):
        existing[earlier_note.report_id].append(earlier_note)

    enrolment = Enrolment.load(config, set(contact_values))
    result = Schedule(enrolment=enrolment)
    pairs, to_cancel = result.pairs, result.to_cancel
    for report, parties in reports:
        facts = report_facts(report, parties, config, contact_values)
        outcomes, flag = decide_report(facts, config.policy, opted_out, undeliverable)
        if flag:
            report.needs_advocate_review = True
        by_party = {p.party_id: p for p in parties}
        key = facts_key(MessageKind.REPORT_FILED, snapshot(report, config), config)
        earlier = existing.get(report.pk, []) if report.pk else []
        told: dict[tuple[int, str | None, str], str] = {
            (n.contact_id, n.channel, n.facts_key): n.status for n in earlier
        }
        experiment = enrolment.experiment_for(report) if enrolment.experiments else None
        if experiment is not None:
            outcomes, withheld = _assign(
                enrolment,
                experiment,
                report,
                facts,
                by_party,
                outcomes,
                contact_ids,
                opted_out,
                undeliverable,
                now,
            )
            for outcome in withheld:
                rights_contact_id = contact_ids[outcome.contact or ""]
                if (rights_contact_id, outcome.channel, RIGHTS_KEY) not in told:
                    notice = _rights_notice(
                        config, report, by_party[outcome.party_id], outcome, rights_contact_id, now
                    )
                    if notice is not None:
                        result.rights_notices.append(notice)
        told_contacts = {(n.contact_id, n.channel) for n in earlier if n.status in _REACHED}
        wanted: set[tuple[int, int, str, str]] = set()
        for outcome in outcomes:
            party = by_party[outcome.party_id]
            contact_id = contact_ids.get(outcome.contact) if outcome.contact else None
            if (
                outcome.send
                and contact_id is not None
                and (contact_id, outcome.channel, key) in told
            ):
                wanted.add((party.pk, contact_id, outcome.channel or "", key))
                status = told[(contact_id, outcome.channel, key)]
                why = (
                    "already_notified"
                    if status in _REACHED | {Status.PENDING}
                    else "already_attempted"
                )
                outcome = Outcome(
                    outcome.party_id,
                    outcome.channel,
                    False,
                    (Reason(why, status=status),),
                    outcome.contact,
                )
            decision = Decision(
                agency=config.agency,
                report=report,
                report_version=report.version,
                party=party,
                channel=outcome.channel or "",
                send=outcome.send,
                reason_codes=outcome.reason_codes,
                reason_params=[r.params for r in outcome.reasons],
                sentence=stored_sentence(outcome.send, outcome.channel, outcome.reasons),
            )
            note = None
            if outcome.send and contact_id is not None:
                wanted.add((party.pk, contact_id, outcome.channel or "", key))
                try:
                    note = _notification(
                        config,
                        book,
                        report,
                        party,
                        by_party,
                        outcome,
                        contact_id,
                        key,
                        is_update=(contact_id, outcome.channel) in told_contacts,
                        now=now,
                    )
                except Exception:  # a template that cannot render must not lose the batch
                    log.exception(
                        "message could not be rendered",
                        extra={"report": report.report_number, "channel": outcome.channel},
                    )
                    failed = (Reason("template_failed", channel=outcome.channel or ""),)
                    decision.send = False
                    decision.reason_codes = [r.code for r in failed]
                    decision.reason_params = [r.params for r in failed]
                    decision.sentence = stored_sentence(False, outcome.channel, failed)
            if note is not None:
                note.decision = decision
            pairs.append((decision, note))
        for note in earlier:
            # Only the report's own notices are replaced by a new version; a case event's
            # message or a rights notice still waiting is the hand-off check's to judge.
            if (
                note.status == Status.PENDING
                and note.kind == MessageKind.REPORT_FILED
                and (note.party_id, note.contact_id, note.channel, note.facts_key) not in wanted
            ):
                to_cancel[str(note.pk)] = _why_cancelled(note, key, outcomes, by_party)
    return result


RIGHTS_KEY = "rights"


def notice_times(
    config: AgencyConfig, report: Report, channel: str, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """When a notice about a report becomes due (after the agency's post-approval delay),
    when it may first go (a text waits for quiet hours to end), and when it expires."""
    agency = config.agency
    approved_at = report.approved_at or now
    due = max(now, approved_at + dt.timedelta(minutes=agency.post_approval_delay_minutes))
    expires = due + dt.timedelta(hours=agency.max_message_age_hours)
    not_before = due
    if channel == "sms":
        not_before, expires = hold_for_quiet_hours(due, expires, quiet_hours(config))
    return due, not_before, expires


def _assign(
    enrolment: Enrolment,
    experiment: Experiment,
    report: Report,
    facts: ReportFacts,
    by_party: dict[str, Party],
    outcomes: list[Outcome],
    contact_ids: dict[str, int],
    opted_out: set[str],
    undeliverable: set[str],
    now: dt.datetime,
) -> tuple[list[Outcome], list[Outcome]]:
    """Put each person who passed every rule into the experiment, then withhold the
    experimental message from Group B, saying why. Returns the outcomes and those withheld.

    Someone held back only because their division is not live yet is recorded too, as the
    phased rollout's comparison group, but never randomized: the safety rules were checked
    for them as if the division were live, and any other reason keeps them out."""
    config = enrolment.config
    sendable: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.send:
            sendable[outcome.party_id].append(outcome)
    live = {party_id: True for party_id in sendable}
    waiting_for_go_live = {
        o.party_id
        for o in outcomes
        if o.channel is None and o.reason_codes == ["division_not_live"]
    }
    if waiting_for_go_live:
        as_if_live, _ = decide_report(
            facts, config.policy, opted_out, undeliverable, as_if_live=True
        )
        for outcome in as_if_live:
            if outcome.send and outcome.party_id in waiting_for_go_live:
                sendable[outcome.party_id].append(outcome)
                live[outcome.party_id] = False
    control: set[str] = set()
    for party_id, party_outcomes in sendable.items():
        contacts: dict[str, tuple[int, str] | None] = {
            ("phone" if o.channel == "sms" else "email"): (contact_ids[o.contact], o.contact)
            for o in party_outcomes
            if o.contact in contact_ids
        }
        participant = enrolment.enrol(
            experiment, report, by_party[party_id], contacts, live=live[party_id], now=now
        )
        if (
            participant is not None
            and participant.group == Group.B
            and participant.assignment == Assignment.RANDOM
            and MessageKind.REPORT_FILED in experiment.experimental_kinds
        ):
            control.add(party_id)
    if not control:
        return outcomes, []
    why = (Reason("control_group", experiment=experiment.name),)
    result: list[Outcome] = []
    withheld: list[Outcome] = []
    for outcome in outcomes:
        if outcome.send and outcome.party_id in control:
            withheld.append(outcome)
            outcome = Outcome(
                outcome.party_id,
                outcome.channel,
                False,
                why,
                outcome.contact,
                outcome.on_behalf_of,
            )
        result.append(outcome)
    return result, withheld


def _rights_notice(
    config: AgencyConfig,
    report: Report,
    party: Party,
    outcome: Outcome,
    contact_id: int,
    now: dt.datetime,
) -> Notification | None:
    """What Group B still gets: the notice of victims' rights that the law requires, with the
    report number it concerns, and nothing of the experimental message."""
    language = config.language_for(party.language)
    notice = config.statutory_notices.get(language)
    if not notice:
        return None
    agency = config.agency
    with translation.override(language):
        subject = gettext("Your rights as a crime victim (report %(number)s)") % {
            "number": report.report_number
        }
        text = gettext("%(agency)s, report %(number)s.") % {
            "agency": agency.name,
            "number": report.report_number,
        }
    rendered = render_fixed(outcome.channel or "", subject, f"{text}\n{notice}", config, language)
    due, not_before, expires = notice_times(config, report, outcome.channel or "", now)
    return Notification(
        agency=agency,
        report=report,
        party=party,
        contact_id=contact_id,
        kind=MessageKind.RIGHTS_NOTICE,
        channel=outcome.channel or "",
        language=language,
        facts_key=RIGHTS_KEY,
        **rendered.content(),
        status=Status.PENDING,
        due_at=due,
        not_before=not_before,
        expires_at=expires,
    )


def _why_cancelled(
    note: Notification, key: str, outcomes: list[Outcome], by_party: dict[str, Party]
) -> list[str]:
    if note.facts_key != key:
        return ["superseded"]
    party = next((p for p in by_party.values() if p.pk == note.party_id), None)
    if party is None or party.removed:
        return ["party_removed"]
    for outcome in outcomes:
        if (
            outcome.party_id == party.party_id
            and outcome.channel in (note.channel, None)
            and not outcome.send
        ):
            return outcome.reason_codes
    return ["contact_changed"]


def _cancel(reasons_by_id: dict[str, list[str]], now: dt.datetime) -> int:
    cancelled = 0
    by_reasons: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for note_id, reasons in reasons_by_id.items():
        by_reasons[tuple(reasons)].append(note_id)
    for codes, ids in by_reasons.items():
        cancelled += Notification.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.CANCELLED, status_reason_codes=list(codes), finished_at=now
        )
    return cancelled


def _notification(
    config: AgencyConfig,
    book: TemplateBook,
    report: Report,
    party: Party,
    by_party: dict[str, Party],
    outcome: Outcome,
    contact_id: int,
    key: str,
    *,
    is_update: bool,
    now: dt.datetime,
) -> Notification:
    agency = config.agency
    language = config.language_for(party.language)
    template = book.get(MessageKind.REPORT_FILED, outcome.channel or "", language)
    facts = facts_for(snapshot(report, config), config, language)
    greeting = party.business_name if party.kind == "business" else party.first_name
    options: RenderOptions = {
        "recipient_name": greeting,
        "is_guardian": outcome.on_behalf_of is not None,
        "is_update": is_update,
    }
    if outcome.channel == "sms":
        rendered = render_sms(template, facts, config, **options)
    else:
        rendered = render_email(template, facts, config, language, **options)

    due, not_before, expires = notice_times(config, report, outcome.channel or "", now)
    return Notification(
        agency=agency,
        report=report,
        party=party,
        contact_id=contact_id,
        kind=MessageKind.REPORT_FILED,
        channel=outcome.channel or "",
        language=language,
        facts_key=key,
        is_update=is_update,
        template=template,
        **rendered.content(),
        status=Status.PENDING,
        due_at=due,
        not_before=not_before,
        expires_at=expires,
    )
