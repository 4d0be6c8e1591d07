"""What staff may do about a report's messages and people: hold, release or cancel a message
that has not gone yet, correct a person's phone or email and decide again, and mark a person
do-not-contact. Every change is a row update guarded by the status it expects, so a worker
claiming the same message at the same moment wins or loses cleanly, never half-way.

A new decision is never hand-built: the party is decided again by the same planner intake
uses (`messages.schedule.plan`), so every rule (opt-outs, exclusions, quiet hours, the
experiment) applies exactly as it would to a new report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from victim_notify.agencies.config import load_config
from victim_notify.contacts.models import Contact, ContactKind
from victim_notify.intake.models import Party
from victim_notify.intake.prepared import PreparedInsert
from victim_notify.messages.models import STAFF_HOLD, MessageKind, Notification, Status
from victim_notify.messages.schedule import TemplateBook, plan
from victim_notify.rules.models import Decision

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

# A held message stays pending with its next try this far away; nothing else claims it.
HOLD_FOR = dt.timedelta(days=36500)
HOLD = STAFF_HOLD
CANCELLED = "staff_cancelled"
DO_NOT_CONTACT = "staff_do_not_contact"
CONTACT_CORRECTED = "staff_contact_corrected"

# The reasons a person may give for cancelling, stored as a second reason code. A fixed list,
# so nothing a person typed (which could name someone) is stored or audited.
CANCEL_REASONS: dict[str, _StrPromise] = {
    "staff_wrong_contact": _("The phone or email is wrong"),
    "staff_victim_asked": _("The person asked not to get it"),
    "staff_case_sensitive": _("The case is too sensitive"),
    "staff_other": _("Another reason"),
}

# Why staff mark a person do-not-contact, recorded as a code in the audit trail. A fixed list
# for the same reason as above; giving one is optional.
DO_NOT_CONTACT_REASONS: dict[str, _StrPromise] = {
    "person_asked": _("The person asked not to be contacted about this report"),
    "safety": _("Contact could put the person at risk"),
    "not_their_contact": _("The phone or email reaches someone else"),
    "other": _("Another reason"),
}

# Answers to something the person wrote go whatever staff decide about notices: they asked.
_ANSWERS = frozenset(
    {
        MessageKind.OPT_OUT_CONFIRMATION,
        MessageKind.OPT_IN_CONFIRMATION,
        MessageKind.HELP,
        MessageKind.AUTO_REPLY,
        MessageKind.URGENT_ANSWER,
        MessageKind.STAFF_ALERT,
    }
)
# The messages the planner makes, and so the only ones it may cancel for a party.
_PLANNED = frozenset({MessageKind.REPORT_FILED, MessageKind.RIGHTS_NOTICE})


def is_held(note: Notification) -> bool:
    return note.status == Status.PENDING and HOLD in (note.status_reason_codes or [])


def _unchanged(note: Notification) -> QuerySet[Notification]:
    """The row, only while it is still as read: pending, due when it was."""
    return Notification.objects.filter(
        pk=note.pk, status=Status.PENDING, not_before=note.not_before
    )


def hold(note: Notification, now: dt.datetime) -> bool:
    """Keep a pending message from going until released. The time it is held does not count
    against its maximum age: the expiry moves with the hold, as for quiet hours."""
    if note.status != Status.PENDING or is_held(note):
        return False
    changed = _unchanged(note).update(
        not_before=now + HOLD_FOR,
        expires_at=note.expires_at + HOLD_FOR,
        status_reason_codes=[HOLD],
    )
    return changed == 1


def release(note: Notification, now: dt.datetime) -> bool:
    """Let a held message go now; it keeps the time it had left before it was held."""
    if not is_held(note):
        return False
    left = note.expires_at - note.not_before
    changed = _unchanged(note).update(
        not_before=now,
        expires_at=now + left,
        status_reason_codes=[c for c in note.status_reason_codes if c != HOLD],
    )
    return changed == 1


def cancel(note: Notification, reason: str, now: dt.datetime) -> bool:
    """A pending (or held) message will never go. Final."""
    if reason not in CANCEL_REASONS:
        raise ValueError(f"unknown cancel reason {reason!r}")
    changed = Notification.objects.filter(pk=note.pk, status=Status.PENDING).update(
        status=Status.CANCELLED, status_reason_codes=[CANCELLED, reason], finished_at=now
    )
    return changed == 1


def _cancel_pending(party: Party, reasons: list[str], now: dt.datetime, **only: object) -> int:
    return (
        Notification.objects.filter(party=party, status=Status.PENDING, **only)
        .exclude(kind__in=_ANSWERS)
        .update(status=Status.CANCELLED, status_reason_codes=reasons, finished_at=now)
    )


@dataclass(frozen=True)
class Outcome:
    """What deciding a party again did: the decisions made, and how many messages were
    queued and cancelled."""

    decisions: list[Decision]
    queued: int
    cancelled: int


def decide_again(party: Party, now: dt.datetime, cancelled_because: str = "") -> Outcome:
    """Decide one party of a report again, as intake would, in the caller's transaction:
    record the decisions, queue what may now go, cancel what may no longer go.
    `cancelled_because` names the reason code for messages to a contact the party no longer
    has (by default the planner's own)."""
    report = party.report
    config = load_config(report.agency)
    parties = list(Party.objects.filter(report=report).order_by("pk"))
    ids = {cid for p in parties for cid in (p.phone_id, p.email_id) if cid}
    contact_values = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "value"))
    was_flagged = report.needs_advocate_review
    schedule = plan(config, TemplateBook(config), [(report, parties)], contact_values, now)

    pairs = [(d, n) for d, n in schedule.pairs if d.party_id == party.pk]
    decisions = [d for d, _ in pairs]
    notes = [n for _, n in pairs if n is not None]
    notes += [n for n in schedule.rights_notices if n.party_id == party.pk]
    enrolment = schedule.enrolment
    if enrolment is not None:
        enrolment.new = [p for p in enrolment.new if p.party_id == party.pk]
        enrolment.execute()
    PreparedInsert(Decision, decisions).execute()
    PreparedInsert(Notification, notes).execute()

    mine = {
        str(pk)
        for pk in Notification.objects.filter(party=party, kind__in=_PLANNED).values_list(
            "pk", flat=True
        )
    }
    cancelled = 0
    for note_id, reasons in schedule.to_cancel.items():
        if note_id not in mine:
            continue
        if cancelled_because and reasons == ["contact_changed"]:
            reasons = [cancelled_because]
        cancelled += Notification.objects.filter(pk=note_id, status=Status.PENDING).update(
            status=Status.CANCELLED, status_reason_codes=reasons, finished_at=now
        )
    if report.needs_advocate_review and not was_flagged:
        type(report).objects.filter(pk=report.pk).update(needs_advocate_review=True)
    return Outcome(decisions, len(notes), cancelled)


@dataclass(frozen=True)
class ContactChange:
    phone: str | None
    phone_is_landline: bool
    email: str | None


def changed_fields(party: Party, change: ContactChange) -> list[str]:
    current_phone = party.phone.value if party.phone is not None else None
    current_email = party.email.value if party.email is not None else None
    fields = []
    if change.phone != current_phone or (change.phone is None and party.phone_invalid):
        fields.append("phone")
    if change.email != current_email or (change.email is None and party.email_invalid):
        fields.append("email")
    return fields


def correct_contact(
    party: Party, change: ContactChange, now: dt.datetime
) -> tuple[list[str], Outcome]:
    """Put the corrected phone and email on the party, stop what was waiting to go to the old
    ones, and decide the party again so a message goes to the new ones where the rules allow."""
    fields = changed_fields(party, change)
    if not fields:
        return [], Outcome([], 0, 0)
    with transaction.atomic():
        old = {"phone": party.phone_id, "email": party.email_id}
        ids = Contact.objects.ids_for(
            {(ContactKind.PHONE, v) for v in [change.phone] if v}
            | {(ContactKind.EMAIL, v) for v in [change.email] if v}
        )
        stopped = 0
        if "phone" in fields:
            party.phone_id = ids[(ContactKind.PHONE, change.phone)] if change.phone else None
            party.phone_invalid = False
            party.phone_is_landline = change.phone_is_landline
        if "email" in fields:
            party.email_id = ids[(ContactKind.EMAIL, change.email)] if change.email else None
            party.email_invalid = False
        party.save(
            update_fields=["phone", "phone_invalid", "phone_is_landline", "email", "email_invalid"]
        )
        for name in fields:
            if old[name] is not None:
                stopped += _cancel_pending(party, [CONTACT_CORRECTED], now, contact_id=old[name])
        outcome = decide_again(party, now, cancelled_because=CONTACT_CORRECTED)
    return fields, Outcome(outcome.decisions, outcome.queued, outcome.cancelled + stopped)


def set_do_not_contact(party: Party, value: bool, now: dt.datetime) -> Outcome:
    """Mark (or unmark) the party do-not-contact. Marking stops every message waiting to go to
    them; unmarking decides them again, so what the rules allow goes after all."""
    with transaction.atomic():
        party.do_not_contact = value
        party.save(update_fields=["do_not_contact"])
        stopped = _cancel_pending(party, [DO_NOT_CONTACT], now) if value else 0
        outcome = decide_again(party, now)
    return Outcome(outcome.decisions, outcome.queued, outcome.cancelled + stopped)
