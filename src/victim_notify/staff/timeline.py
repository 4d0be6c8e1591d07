"""Everything that happened to one report, in time order: each version received, each
decision with its sentence, each message as the person saw it and what became of it (provider
receipts, opens and clicks), the replies, and the survey of the people on it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from victim_notify.accounts.models import AuditEvent
from victim_notify.contacts.normalise import display_phone
from victim_notify.intake.models import Party, Report
from victim_notify.messages.models import DeliveryEvent, Engagement, Notification, Status
from victim_notify.replies.models import InboundMessage
from victim_notify.rules.models import Decision
from victim_notify.rules.reasons import Reason, reasons_of, sentence
from victim_notify.staff.report_actions import CANCEL_REASONS, DO_NOT_CONTACT_REASONS, is_held
from victim_notify.surveys.models import Participant

# Our status in words staff read, and the badge it wears (never the only sign: words too).
STATUS_WORDS: dict[str, tuple[Promise, str]] = {
    Status.PENDING: (_("Waiting to be sent"), "badge--muted"),
    Status.SENDING: (_("Being sent"), "badge--muted"),
    Status.SENT: (_("Sent: the provider accepted it"), "badge--ok"),
    Status.DELIVERED: (_("Delivered"), "badge--ok"),
    Status.FAILED_PERMANENT: (_("Failed: it cannot be delivered"), "badge--bad"),
    Status.FAILED_TEMPORARY: (_("Failed: retries ran out"), "badge--bad"),
    Status.EXPIRED: (_("Expired: too late to send"), "badge--bad"),
    Status.CANCELLED: (_("Cancelled"), "badge--muted"),
    Status.OUTCOME_UNKNOWN: (_("Outcome unknown: check with the provider"), "badge--warn"),
}
HELD_WORDS = (_("Held by staff"), "badge--warn")
CHANNEL_WORDS: dict[str, Promise] = {"sms": _("Text"), "email": _("Email")}

# When two things happened at the same moment, the cause comes before the effect.
_ORDER = {
    "version": 0,
    "decision": 1,
    "message": 2,
    "delivery": 3,
    "engagement": 4,
    "reply": 5,
    "survey": 6,
    "staff": 7,
}

DO_NOT_CONTACT_SET = "party.do_not_contact_set"
DO_NOT_CONTACT_CLEARED = "party.do_not_contact_cleared"

# NIBRS victim-to-offender relationship codes (FBI NIBRS IEPD 2019.1 flat-file codes), which
# the rules' sentences quote as they are, e.g. "related (PA)".
RELATIONSHIPS: dict[str, Promise] = {
    "AQ": _("the victim was an acquaintance"),
    "BE": _("the victim was a babysittee"),
    "BG": _("the victim was a boyfriend or girlfriend"),
    "CF": _("the victim was a child of a boyfriend or girlfriend"),
    "EE": _("the victim was an employee"),
    "ER": _("the victim was the employer"),
    "XR": _("the victim was an ex-boyfriend or ex-girlfriend"),
    "XS": _("the victim was an ex-spouse"),
    "OF": _("the victim was another family member"),
    "CH": _("the victim was a child"),
    "GC": _("the victim was a grandchild"),
    "GP": _("the victim was a grandparent"),
    "IL": _("the victim was an in-law"),
    "PA": _("the victim was a parent"),
    "SB": _("the victim was a sibling"),
    "SE": _("the victim was a spouse"),
    "CS": _("the victim was a common-law spouse"),
    "SC": _("the victim was a stepchild"),
    "SP": _("the victim was a stepparent"),
    "SS": _("the victim was a stepsibling"),
    "FR": _("the victim was a friend"),
    "NE": _("the victim was a neighbor"),
    "OK": _("the victim was otherwise known"),
    "RU": _("relationship unknown"),
    "ST": _("the victim was a stranger"),
    "VO": _("the victim was the offender"),
}
_RELATED = re.compile(r"\brelated \(([A-Z]{2}(?:, [A-Z]{2})*)\)")
_PARTY_REFERENCE = re.compile(r"\bparty ([^\s();,]+?)(?=[\s();,]|\.?$)")


def describe_codes(codes: list[str]) -> list[str]:
    """Reason codes in words: the rules' sentences, and the reasons staff chose to cancel."""
    return [str(CANCEL_REASONS.get(code) or Reason(code).describe()) for code in codes or []]


def contact_label(channel: str, value: str) -> str:
    return display_phone(value) if channel == "sms" else value


def party_label(party: Party) -> str:
    """How a person is named to staff: their name and role, never the records system's key."""
    role = party.get_role_display()
    if party.display_name:
        return f"{party.display_name} ({str(role).lower()})"
    return str(_("%(role)s (no name given)") % {"role": role})


@dataclass(frozen=True)
class DecisionView:
    decision: Decision
    party_label: str
    sentence: str


def decision_view(decision: Decision, labels: dict[str, str]) -> DecisionView:
    """The rules' sentence in the reader's language, with "party V1" (the records system's key
    for another person on the report) replaced by that person's name and role. A decision kept
    before its reasons' details were shows the English sentence it was stored with."""
    reasons = reasons_of(decision.reason_codes, decision.reason_params)
    if reasons is not None:
        text = sentence(decision.send, decision.channel or None, reasons, names=labels)
    else:

        def named(match: re.Match[str]) -> str:
            return labels.get(match.group(1), match.group(0))

        text = _PARTY_REFERENCE.sub(named, decision.sentence)
    return DecisionView(decision=decision, party_label=party_label(decision.party), sentence=text)


def _related_codes(decision: Decision) -> list[str]:
    if len(decision.reason_params) == len(decision.reason_codes):
        return [
            params["codes"]
            for code, params in zip(decision.reason_codes, decision.reason_params, strict=True)
            if code == "domestic_violence_relationship" and "codes" in params
        ]
    return _RELATED.findall(decision.sentence)


def relationship_legend(entries: list[Entry]) -> list[tuple[str, str]]:
    """The relationship codes the page's decision sentences quote, with their meaning."""
    codes = {
        code
        for entry in entries
        if entry.kind == "decision"
        for found in _related_codes(entry.item.decision)
        for code in found.split(", ")
    }
    return [(code, str(RELATIONSHIPS.get(code, _("not a known code")))) for code in sorted(codes)]


def staff_marks(report: Report, parties: list[Party]) -> list[AuditEvent]:
    """Every time staff marked a person on this report do-not-contact or cleared it, oldest
    first, from the audit trail (one query)."""
    return list(
        AuditEvent.objects.filter(
            agency_id=report.agency_id,
            action__in=(DO_NOT_CONTACT_SET, DO_NOT_CONTACT_CLEARED),
            object_type=Party._meta.label_lower,
            object_id__in=[str(p.pk) for p in parties],
        ).order_by("at", "pk")
    )


def latest_set(marks: list[AuditEvent]) -> dict[int, AuditEvent]:
    """Per party pk: the entry that last marked them do-not-contact."""
    return {int(e.object_id): e for e in marks if e.action == DO_NOT_CONTACT_SET}


@dataclass
class MessageView:
    note: Notification
    party_name: str
    to: str
    status_words: str
    badge: str
    reasons: list[str]
    held: bool
    events: list[DeliveryEvent] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.note.status == Status.PENDING

    @property
    def channel_words(self) -> str:
        return str(CHANNEL_WORDS.get(self.note.channel, self.note.channel))


def message_view(note: Notification) -> MessageView:
    held = is_held(note)
    words, badge = HELD_WORDS if held else STATUS_WORDS.get(note.status, (note.status, ""))
    return MessageView(
        note=note,
        party_name=note.party.display_name if note.party else "",
        to=contact_label(note.channel, note.contact.value),
        status_words=str(words),
        badge=badge,
        reasons=describe_codes(note.status_reason_codes),
        held=held,
    )


@dataclass(frozen=True)
class StaffMark:
    """Staff marking a person do-not-contact, or clearing it: who, and the reason code."""

    event: AuditEvent
    party_label: str

    @property
    def set(self) -> bool:
        return self.event.action == DO_NOT_CONTACT_SET

    @property
    def reason(self) -> str:
        code = (self.event.detail or {}).get("reason", "")
        return str(DO_NOT_CONTACT_REASONS.get(code, ""))


@dataclass(frozen=True)
class SurveyView:
    participant: Participant
    party_name: str
    answers: list[tuple[str, str]]  # (question key, answer or "" when unreadable)


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str
    item: Any

    @property
    def sort_key(self) -> tuple[dt.datetime, int]:
        return (self.at, _ORDER[self.kind])


def build(
    report: Report, parties: list[Party], marks: list[AuditEvent] | None = None
) -> list[Entry]:
    entries: list[Entry] = [
        Entry(v.received_at, "version", v) for v in report.versions.order_by("number")
    ]
    labels = {p.party_id: party_label(p) for p in parties}
    entries += [
        Entry(d.created_at, "decision", decision_view(d, labels))
        for d in report.decisions.select_related("party").order_by("created_at", "pk")
    ]
    names = {p.pk: party_label(p) for p in parties}
    entries += [
        Entry(e.at, "staff", StaffMark(e, names.get(int(e.object_id), "")))
        for e in (staff_marks(report, parties) if marks is None else marks)
    ]
    notes = list(
        Notification.objects.filter(report=report, agency_id=report.agency_id)
        .select_related("contact", "party")
        .order_by("created_at")
    )
    views = {note.pk: message_view(note) for note in notes}
    entries += [Entry(v.note.created_at, "message", v) for v in views.values()]
    for event in DeliveryEvent.objects.filter(notification__in=notes).order_by("at"):
        entries.append(Entry(event.at, "delivery", (event, views[event.notification_id])))
    for seen in Engagement.objects.filter(notification__in=notes).order_by("at"):
        entries.append(Entry(seen.at, "engagement", (seen, views[seen.notification_id])))
    replies = InboundMessage.objects.filter(
        report=report, agency_id=report.agency_id
    ).select_related("contact", "party")
    entries += [Entry(reply.received_at, "reply", reply) for reply in replies]
    entries += [Entry(s.participant.assigned_at, "survey", s) for s in surveys(parties)]
    return sorted(entries, key=lambda entry: entry.sort_key)


def surveys(parties: list[Party]) -> list[SurveyView]:
    names = {party.pk: party.display_name for party in parties}
    found = (
        Participant.objects.filter(party__in=parties)
        .select_related("experiment")
        .prefetch_related("responses")
    )
    return [
        SurveyView(
            participant=p,
            party_name=names.get(p.party_id or 0, ""),
            answers=[
                (r.question_key, r.value)
                for r in sorted(p.responses.all(), key=lambda r: r.received_at)
            ],
        )
        for p in found
    ]
