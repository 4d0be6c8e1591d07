"""Everything that happened to one report, in time order: each version received, each
decision with its sentence, each message as the person saw it and what became of it (provider
receipts, opens and clicks), the replies, and the survey of the people on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from victim_notify.contacts.normalise import display_phone
from victim_notify.intake.models import Party, Report
from victim_notify.messages.models import DeliveryEvent, Engagement, Notification, Status
from victim_notify.replies.models import InboundMessage
from victim_notify.rules.reasons import Reason
from victim_notify.staff.report_actions import CANCEL_REASONS, is_held
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
}


def describe_codes(codes: list[str]) -> list[str]:
    """Reason codes in words: the rules' sentences, and the reasons staff chose to cancel."""
    return [str(CANCEL_REASONS.get(code) or Reason(code).describe()) for code in codes or []]


def contact_label(channel: str, value: str) -> str:
    return display_phone(value) if channel == "sms" else value


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


def build(report: Report, parties: list[Party]) -> list[Entry]:
    entries: list[Entry] = [
        Entry(v.received_at, "version", v) for v in report.versions.order_by("number")
    ]
    entries += [
        Entry(d.created_at, "decision", d)
        for d in report.decisions.select_related("party").order_by("created_at", "pk")
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
