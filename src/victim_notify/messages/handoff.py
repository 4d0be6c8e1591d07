"""The last look before a message leaves: every rule is checked again against the report,
the people on it, the opt-outs and the agency's configuration as they are now. An amendment,
an opt-out or a staff hold that arrived after the decision wins."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from victim_notify.agencies.config import cached_config
from victim_notify.contacts.models import OptOut, standing_of
from victim_notify.intake.models import Party, Report
from victim_notify.messages.models import (
    AFTER_FIRST_NOTICE,
    CALL_KINDS,
    CASE_KINDS,
    FIRST_NOTICE_KINDS,
    REPLY_KINDS,
    STAFF_HOLD,
    SURVEY_KINDS,
    MessageKind,
    Notification,
    Status,
)
from victim_notify.messages.render import facts_key
from victim_notify.messages.schedule import quiet_hours, snapshot
from victim_notify.messages.timing import hold_for_quiet_hours
from victim_notify.rules.eligibility import decide_report
from victim_notify.rules.facts import report_facts


@dataclass(frozen=True)
class Verdict:
    action: str  # "send", "cancel", "expire" or "hold"
    reasons: tuple[str, ...] = ()
    not_before: dt.datetime | None = None
    expires_at: dt.datetime | None = None


SEND = Verdict("send")
ANSWER_KINDS = REPLY_KINDS | {MessageKind.STAFF_ALERT}
_STOPPED_BY_OPT_OUT = {MessageKind.AUTO_REPLY, MessageKind.OPT_IN_CONFIRMATION}

# What the rules and the facts key read: loading only these keeps the check cheap.
_REPORT_FACTS = (
    "id",
    "report_number",
    "status",
    "reported_at",
    "division_id",
    "offense_codes",
    "domestic_violence",
    "do_not_notify",
    "officer_name",
    "officer_badge",
    "approved_at",
)
_PARTY_FACTS = (
    "id",
    "report_id",
    "party_id",
    "role",
    "kind",
    "phone_id",
    "phone_invalid",
    "phone_is_landline",
    "email_id",
    "email_invalid",
    "date_of_birth",
    "juvenile",
    "relationships",
    "removed",
    "do_not_contact",
    "preferred_channel",
)


def recheck(notes: list[Notification], now: dt.datetime) -> dict[object, Verdict]:
    if not notes:
        return {}
    verdicts: dict[object, Verdict] = {}
    answers = [n for n in notes if n.kind in ANSWER_KINDS]
    if answers:
        verdicts.update(_recheck_answers(answers, now))
    surveys = [n for n in notes if n.kind in SURVEY_KINDS]
    if surveys:
        verdicts.update(_recheck_surveys(surveys, now))
    calls = [n for n in notes if n.kind in CALL_KINDS]
    if calls:
        verdicts.update(_recheck_calls(calls, now))
    notes = [n for n in notes if n.kind not in ANSWER_KINDS | SURVEY_KINDS | CALL_KINDS]
    if not notes:
        return verdicts
    report_ids = {n.report_id for n in notes if n.report_id is not None}
    reports = Report.objects.only(*_REPORT_FACTS).in_bulk(report_ids)
    parties: dict[int, list[Party]] = defaultdict(list)
    for party in Party.objects.filter(report_id__in=report_ids).only(*_PARTY_FACTS):
        parties[party.report_id].append(party)
    contact_ids = {
        cid for ps in parties.values() for p in ps for cid in (p.phone_id, p.email_id) if cid
    }
    contact_ids |= {n.contact_id for n in notes}
    standing = standing_of(contact_ids)
    values = standing.values
    waiting = _first_notices_waiting([n for n in notes if n.kind in CASE_KINDS])

    decided: dict[int, dict[tuple[str, str | None], object]] = {}
    for note in notes:
        config = cached_config(note.agency_id)
        report = reports[note.report_id]
        if report.pk not in decided:
            facts = report_facts(report, parties[report.pk], config, values)
            outcomes, _ = decide_report(
                facts, config.policy, standing.opted_out[note.agency_id], standing.undeliverable
            )
            decided[report.pk] = {(o.party_id, o.channel): o for o in outcomes}
        verdict = _verdict(
            note, report, parties[report.pk], decided[report.pk], values, config, now
        )
        if (
            verdict.action == "send"
            and note.kind in CASE_KINDS
            and (note.report_id, note.party_id) in waiting
        ):
            verdict = Verdict(
                "hold", ("after_first_notice",), now + AFTER_FIRST_NOTICE, note.expires_at
            )
        verdicts[note.pk] = verdict
    return verdicts


def _first_notices_waiting(notes: list[Notification]) -> set[tuple[int, int]]:
    """(report, party) of each first notice still to be handed over: a case message to that
    person waits for it (a retry, a busy worker), so the report is heard of first. Not for one
    staff are holding: that may wait for good."""
    if not notes:
        return set()
    return {
        (report_id, party_id)
        for report_id, party_id, codes in Notification.objects.filter(
            report_id__in={n.report_id for n in notes},
            kind__in=FIRST_NOTICE_KINDS,
            status__in=(Status.PENDING, Status.SENDING),
        ).values_list("report_id", "party_id", "status_reason_codes")
        if STAFF_HOLD not in (codes or [])
    }


def _recheck_answers(notes: list[Notification], now: dt.datetime) -> dict[object, Verdict]:
    """Answers were asked for: they skip the report's rules and quiet hours. Only the
    automatic answer and the opt-in confirmation respect an opt-out; the opt-out confirmation,
    the help text and the 911 answer are what the person asked for."""
    opted_out = set(
        OptOut.objects.filter(
            revoked_at=None, contact_id__in={n.contact_id for n in notes}
        ).values_list("agency_id", "contact_id")
    )
    verdicts: dict[object, Verdict] = {}
    for note in notes:
        if now >= note.expires_at:
            verdicts[note.pk] = Verdict("expire", ("expired",))
        elif note.kind in _STOPPED_BY_OPT_OUT and (note.agency_id, note.contact_id) in opted_out:
            verdicts[note.pk] = Verdict("cancel", ("opted_out",))
        else:
            verdicts[note.pk] = SEND
    return verdicts


def _recheck_calls(notes: list[Notification], now: dt.datetime) -> dict[object, Verdict]:
    """Texts to a caller: stopped by an opt-out, by CAD flagging the caller or the agency
    turning call texts off since, and the waiting text by a unit sent in between. They are
    about a call happening now, so quiet hours do not hold them."""
    from victim_notify.calls.intake import withheld
    from victim_notify.calls.models import Call

    opted_out = set(
        OptOut.objects.filter(
            revoked_at=None, contact_id__in={n.contact_id for n in notes}
        ).values_list("agency_id", "contact_id")
    )
    calls = Call.objects.in_bulk({int(n.facts_key.split(":")[1]) for n in notes})
    verdicts: dict[object, Verdict] = {}
    for note in notes:
        call = calls.get(int(note.facts_key.split(":")[1]))
        reason = withheld(call, cached_config(note.agency_id)) if call else "call_gone"
        if now >= note.expires_at:
            verdicts[note.pk] = Verdict("expire", ("expired",))
        elif (note.agency_id, note.contact_id) in opted_out:
            verdicts[note.pk] = Verdict("cancel", ("opted_out",))
        elif reason:
            verdicts[note.pk] = Verdict("cancel", (reason,))
        elif note.kind == MessageKind.CALL_RECEIVED and call is not None and call.answered:
            verdicts[note.pk] = Verdict("cancel", ("unit_sent",))
        else:
            verdicts[note.pk] = SEND
    return verdicts


def _recheck_surveys(notes: list[Notification], now: dt.datetime) -> dict[object, Verdict]:
    """Survey messages stop for an opt-out and for a survey that ended (answered on the web,
    stopped). The first question waits for allowed hours and is checked against the report
    as it is now, like a notice; the rest answer what the person just wrote."""
    from victim_notify.surveys.conversation import reachable_channel
    from victim_notify.surveys.models import Participant, SurveyStatus

    opted_out = set(
        OptOut.objects.filter(
            revoked_at=None, contact_id__in={n.contact_id for n in notes}
        ).values_list("agency_id", "contact_id")
    )
    ids = {int(n.facts_key.split(":")[1]) for n in notes}
    participants = Participant.objects.select_related("experiment", "report", "party").in_bulk(ids)
    verdicts: dict[object, Verdict] = {}
    for note in notes:
        participant = participants.get(int(note.facts_key.split(":")[1]))
        if now >= note.expires_at:
            verdicts[note.pk] = Verdict("expire", ("expired",))
        elif (note.agency_id, note.contact_id) in opted_out:
            verdicts[note.pk] = Verdict("cancel", ("opted_out",))
        elif participant is None or (
            note.kind != MessageKind.SURVEY_THANKS
            and participant.survey_status != SurveyStatus.ASKED
        ):
            verdicts[note.pk] = Verdict("cancel", ("survey_ended",))
        elif note.in_reply_to_id is None and reachable_channel(participant)[1] is None:
            verdicts[note.pk] = Verdict("cancel", ("survey_not_eligible",))
        elif note.channel == "sms" and note.in_reply_to_id is None:
            config = cached_config(note.agency_id)
            not_before, expires_at = hold_for_quiet_hours(now, note.expires_at, quiet_hours(config))
            verdicts[note.pk] = (
                Verdict("hold", ("quiet_hours",), not_before, expires_at)
                if not_before > now
                else SEND
            )
        else:
            verdicts[note.pk] = SEND
    return verdicts


def _verdict(note, report, parties, outcomes, values, config, now) -> Verdict:
    party = next((p for p in parties if p.pk == note.party_id), None)
    if party is None or party.removed:
        return Verdict("cancel", ("party_removed",))
    outcome = outcomes.get((party.party_id, note.channel)) or outcomes.get((party.party_id, None))
    if outcome is None or not outcome.send:
        return Verdict("cancel", tuple(outcome.reason_codes) if outcome else ("party_removed",))
    if outcome.contact != values.get(note.contact_id):
        return Verdict("cancel", ("contact_changed",))
    if note.kind == MessageKind.REPORT_FILED and (
        facts_key(note.kind, snapshot(report, config), config) != note.facts_key
    ):
        return Verdict("cancel", ("superseded",))
    if now >= note.expires_at:
        return Verdict("expire", ("expired",))
    if note.channel == "sms":
        not_before, expires_at = hold_for_quiet_hours(now, note.expires_at, quiet_hours(config))
        if not_before > now:
            return Verdict("hold", ("quiet_hours",), not_before, expires_at)
    return SEND


# Reasons a message would not be sent now that do not make its facts unsafe to show: the facts
# changed (the page shows the current ones) or the contact was corrected.
_HARMLESS = {"superseded", "contact_changed", "already_notified", "opted_out"}


def still_may_be_told(note: Notification) -> bool:
    """Whether the person this message went to may still see the report's facts."""
    from django.utils import timezone

    verdict = recheck([note], timezone.now())[note.pk]
    return verdict.action != "cancel" or set(verdict.reasons) <= _HARMLESS
