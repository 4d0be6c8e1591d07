"""Retention: personal data removed once the agency's records schedule says it is no longer
needed, keeping every row that a count, a dashboard or a survey statistic is made of.

A report is purged `retain_reports_days` after its last activity (its latest version, message
or reply) unless it is under a legal hold: names, dates of birth and the stored records are
emptied, message texts and replies blanked, survey answers keep their coded value but lose the
words, and a contact no live report needs loses its value but keeps its blind index, so an
opt-out still holds when the same number comes back. Rows are never deleted (but the
development outbox's copies), so every status, decision and answer is still counted.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from victim_notify.agencies.models import Agency
from victim_notify.calls.models import Call
from victim_notify.contacts.models import Contact
from victim_notify.intake.models import Party, QuarantinedRecord, Report, ReportVersion
from victim_notify.messages.models import CALL_KINDS, Notification
from victim_notify.providers.models import DevOutboxMessage
from victim_notify.replies.models import InboundMessage
from victim_notify.surveys.models import Participant, Response

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class PurgeCounts:
    reports: int = 0
    calls: int = 0
    held: int = 0
    parties: int = 0
    notifications: int = 0
    replies: int = 0
    survey_answers: int = 0
    contacts: int = 0
    quarantined: int = 0
    unmatched_replies: int = 0
    outbox_copies: int = 0
    by_agency: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items()}


def due_reports(agency: Agency, now: dt.datetime) -> tuple[list[int], int]:
    """(ids of reports whose retention has run out, how many of those are held)."""
    cutoff = now - dt.timedelta(days=agency.retain_reports_days)
    candidates = (
        Report.objects.filter(agency=agency, purged_at=None, updated_at__lt=cutoff)
        .annotate(
            last_note=Max("notifications__created_at"), last_reply=Max("replies__received_at")
        )
        .values_list("pk", "legal_hold", "last_note", "last_reply")
    )
    due, held = [], 0
    for pk, hold, last_note, last_reply in candidates:
        if (last_note and last_note >= cutoff) or (last_reply and last_reply >= cutoff):
            continue
        if hold:
            held += 1
            continue
        due.append(pk)
    return due, held


def purge(now: dt.datetime | None = None, *, dry_run: bool = False) -> PurgeCounts:
    now = now or timezone.now()
    counts = PurgeCounts()
    for agency in Agency.objects.order_by("pk"):
        due, held = due_reports(agency, now)
        counts.held += held
        counts.by_agency[agency.slug] = len(due)
        if dry_run:
            counts.reports += len(due)
            counts.quarantined += len(_old_quarantine(agency, now))
            counts.unmatched_replies += len(_old_unmatched(agency, now))
            continue
        for start in range(0, len(due), BATCH):
            _purge_reports(due[start : start + BATCH], now, counts)
        _purge_calls(agency, now, counts)
        with transaction.atomic():
            held_records = _old_quarantine(agency, now)
            counts.quarantined += QuarantinedRecord.objects.filter(pk__in=held_records).update(
                raw="", resolution_note=""
            )
            replies = InboundMessage.objects.filter(pk__in=_old_unmatched(agency, now))
            contact_ids = set(replies.values_list("contact_id", flat=True))
            counts.unmatched_replies += replies.update(body="", handled_note="")
            counts.contacts += _forget_contacts(contact_ids)
    # Replies to an address no agency has: the shortest of the agencies' periods.
    orphans_days = min((a.retain_replies_days for a in Agency.objects.all()), default=365)
    orphans = InboundMessage.objects.filter(
        agency=None, received_at__lt=now - dt.timedelta(days=orphans_days)
    )
    orphan_ids = [pk for pk, body in orphans.values_list("pk", "body") if body]
    if dry_run:
        counts.unmatched_replies += len(orphan_ids)
    else:
        with transaction.atomic():
            orphans = InboundMessage.objects.filter(pk__in=orphan_ids)
            contact_ids = set(orphans.values_list("contact_id", flat=True))
            counts.unmatched_replies += orphans.update(body="", handled_note="")
            counts.contacts += _forget_contacts(contact_ids)
    outbox_days = min((a.retain_outbox_days for a in Agency.objects.all()), default=365)
    old_copies = DevOutboxMessage.objects.filter(
        received_at__lt=now - dt.timedelta(days=outbox_days)
    )
    counts.outbox_copies = old_copies.count() if dry_run else old_copies.delete()[0]
    if not dry_run:
        from victim_notify.accounts.audit import record

        record("privacy.purge", actor_label="retention", detail=counts.as_dict())
    log.info("purge", extra={"counts": counts.as_dict(), "dry_run": dry_run})
    return counts


def _old_quarantine(agency: Agency, now: dt.datetime) -> list[int]:
    """Held records past their time that still hold something (what is purged is empty)."""
    cutoff = now - dt.timedelta(days=agency.retain_quarantine_days)
    rows = QuarantinedRecord.objects.filter(agency=agency, received_at__lt=cutoff)
    return [pk for pk, raw in rows.values_list("pk", "raw") if raw]


def _old_unmatched(agency: Agency, now: dt.datetime) -> list[uuid.UUID]:
    """Replies that matched no report, past their time, not yet emptied."""
    cutoff = now - dt.timedelta(days=agency.retain_replies_days)
    rows = InboundMessage.objects.filter(agency=agency, report=None, received_at__lt=cutoff)
    return [pk for pk, body in rows.values_list("pk", "body") if body]


def _purge_reports(ids: list[int], now: dt.datetime, counts: PurgeCounts) -> None:
    with transaction.atomic():
        parties = Party.objects.filter(report_id__in=ids)
        party_ids = list(parties.values_list("pk", flat=True))
        contact_ids = set()
        for phone, email in parties.values_list("phone_id", "email_id"):
            contact_ids |= {c for c in (phone, email) if c}
        notes = Notification.objects.filter(report_id__in=ids)
        contact_ids |= set(notes.values_list("contact_id", flat=True))
        note_ids = list(notes.values_list("pk", flat=True))
        replies = InboundMessage.objects.filter(Q(report_id__in=ids) | Q(party_id__in=party_ids))
        contact_ids |= set(replies.values_list("contact_id", flat=True))

        counts.parties += parties.update(
            first_name="",
            last_name="",
            business_name="",
            first_name_index="",
            last_name_index="",
            date_of_birth=None,
        )
        ReportVersion.objects.filter(report_id__in=ids).update(payload={})
        counts.notifications += notes.update(subject="", body="", html="")
        counts.replies += replies.update(body="", handled_note="")
        participants = Participant.objects.filter(Q(report_id__in=ids) | Q(party_id__in=party_ids))
        counts.survey_answers += Response.objects.filter(participant__in=participants).update(
            raw=""
        )
        counts.outbox_copies += DevOutboxMessage.objects.filter(
            notification_id__in=note_ids
        ).delete()[0]
        counts.reports += Report.objects.filter(pk__in=ids).update(purged_at=now)
        counts.contacts += _forget_contacts(contact_ids)


def _purge_calls(agency: Agency, now: dt.datetime, counts: PurgeCounts) -> None:
    """Calls for service past the same period as reports: the caller's phone and the texts go;
    the call's times stay, for counts."""
    cutoff = now - dt.timedelta(days=agency.retain_reports_days)
    due = list(
        Call.objects.filter(agency=agency, purged_at=None, updated_at__lt=cutoff).values_list(
            "pk", "caller_phone_id"
        )
    )
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        ids = [pk for pk, _ in batch]
        keys = [f"call:{pk}:{kind}" for pk in ids for kind in CALL_KINDS]
        with transaction.atomic():
            notes = Notification.objects.filter(agency=agency, facts_key__in=keys)
            contact_ids = {c for _, c in batch if c} | set(
                notes.values_list("contact_id", flat=True)
            )
            counts.notifications += notes.update(subject="", body="", html="")
            counts.calls += Call.objects.filter(pk__in=ids).update(caller_phone=None, purged_at=now)
            counts.contacts += _forget_contacts(contact_ids)


def _forget_contacts(contact_ids: set[int]) -> int:
    """Empty the value of contacts nothing still live needs; the blind index stays, and with
    it every opt-out."""
    if not contact_ids:
        return 0
    live_reports = Report.objects.filter(purged_at=None)
    needed = set(
        Party.objects.filter(report__in=live_reports)
        .filter(Q(phone_id__in=contact_ids) | Q(email_id__in=contact_ids))
        .values_list("phone_id", "email_id")
        .distinct()
        .iterator()
    )
    still_needed = {c for pair in needed for c in pair if c} | set(
        Call.objects.filter(purged_at=None, caller_phone_id__in=contact_ids).values_list(
            "caller_phone_id", flat=True
        )
    )
    gone = [c for c in contact_ids if c not in still_needed]
    return Contact.objects.filter(pk__in=gone).update(value="")
