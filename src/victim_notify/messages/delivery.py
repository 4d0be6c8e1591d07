"""What providers tell us after taking a message: delivered, or not and why.

Twilio status callbacks, SMPP delivery receipts and email bounces all end here. Each report is
kept as a DeliveryEvent beside the notification; our status changes only forward (a final
status is never changed), so reports arriving late or out of order do no harm. A permanent
failure that says something about the contact (a landline, a number that does not exist, a
mailbox that does not exist) is stored on the contact, so the next report does not try it
again; a recipient who unsubscribed at the carrier is an opt-out. When a text fails for good
and the person gave an email address (or the reverse), the other channel is tried, once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from victim_notify.agencies.config import cached_config
from victim_notify.contacts.models import Contact, OptOutSource
from victim_notify.contacts.optouts import opt_out
from victim_notify.messages.fallback import fall_back_to_other_channel
from victim_notify.messages.models import (
    FINAL_STATUSES,
    DeliveryEvent,
    MessageKind,
    Notification,
    Status,
)
from victim_notify.messages.schedule import quiet_hours
from victim_notify.messages.timing import hold_for_quiet_hours, retry_delay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    permanent: bool
    contact_dead: bool = False  # the contact itself cannot receive messages
    opted_out: bool = False  # the recipient unsubscribed with the carrier or provider


# Provider error codes we know the meaning of (https://www.twilio.com/docs/api/errors, RFC 3463).
KNOWN_FAILURES: dict[str, Failure] = {
    # Twilio
    "30003": Failure(permanent=False),  # unreachable handset (off, out of coverage)
    "30004": Failure(permanent=True),  # message blocked by the recipient or carrier
    "30005": Failure(permanent=True, contact_dead=True),  # unknown handset
    "30006": Failure(permanent=True, contact_dead=True),  # landline or unreachable carrier
    "30007": Failure(permanent=True),  # carrier filtering: the content, not the contact
    "30008": Failure(permanent=False),  # unknown error
    "30034": Failure(permanent=True),  # unregistered US A2P 10DLC sender: fix the sender
    "21610": Failure(permanent=True, opted_out=True),  # recipient replied STOP at the carrier
    "21211": Failure(permanent=True, contact_dead=True),  # invalid number
    "21614": Failure(permanent=True, contact_dead=True),  # not a mobile number
    # SMTP enhanced status codes in bounces (DSNs)
    "5.1.1": Failure(permanent=True, contact_dead=True),  # mailbox does not exist
    "5.1.2": Failure(permanent=True, contact_dead=True),  # domain does not exist
    "5.1.10": Failure(permanent=True, contact_dead=True),  # null MX
    "5.2.1": Failure(permanent=True, contact_dead=True),  # mailbox disabled
    "4.2.2": Failure(permanent=False),  # mailbox full
}


def classify(code: str) -> Failure:
    """Unknown codes: permanent if they say so (5.x.x, or an SMPP/Twilio 'failed'), which the
    caller decides by passing `permanent_default`."""
    return KNOWN_FAILURES.get(code, Failure(permanent=not code.startswith("4.")))


# Twilio's message statuses (and their SMPP receipt equivalents) in our vocabulary.
DELIVERED = {"delivered", "DELIVRD"}
FAILED = {"undelivered", "failed", "UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN", "bounced"}
SENT = {"sent", "ACCEPTD", "ENROUTE"}


def record_status(
    *,
    source: str,
    provider_status: str,
    error_code: str = "",
    detail: str = "",
    notification_id: uuid.UUID | str | None = None,
    provider: str = "",
    provider_message_id: str = "",
) -> Notification | None:
    """Record what a provider reported about one message, found by our id (carried in the
    callback URL, the bounce address or the Message-ID) or by the provider's own."""
    with transaction.atomic():
        found = Notification.objects.select_for_update()
        if notification_id is not None:
            note = found.filter(pk=notification_id).first()
        else:
            note = found.filter(provider=provider, provider_message_id=provider_message_id).first()
        if note is None:
            log.warning("report about an unknown message", extra={"source": source})
            return None
        event = {
            "source": source,
            "provider_message_id": provider_message_id[:100],
            "provider_status": provider_status[:40],
            "error_code": error_code[:40],
        }
        if provider_message_id and note.delivery_events.filter(**event).exists():
            # The same report again: a provider's retry, or someone replaying a request they
            # saw. It was acted on the first time; acting again could resend the message.
            return note
        DeliveryEvent.objects.create(notification=note, detail=detail[:500], **event)
        if note.status in FINAL_STATUSES:
            return note  # already settled; reports can come late, twice or out of order
        if (
            provider_message_id
            and note.provider_message_id
            and provider_message_id != note.provider_message_id
        ):
            return note  # about an earlier hand-over of a message since sent again
        now = timezone.now()
        changes: dict[str, object] = {"provider_status": provider_status[:40]}
        if provider_message_id and not note.provider_message_id:
            # The report beat the worker's own record of the hand-over.
            changes.update(provider_message_id=provider_message_id, provider=provider)
        if provider_status in DELIVERED:
            changes.update(status=Status.DELIVERED, finished_at=now, sent_at=note.sent_at or now)
        elif provider_status in FAILED:
            changes.update(_failed(note, error_code, detail, now))
        elif provider_status in SENT and note.status == Status.SENDING:
            changes.update(status=Status.SENT, sent_at=note.sent_at or now)
        for field, value in changes.items():
            setattr(note, field, value)
        note.save(update_fields=list(changes))
    return note


def _failed(note: Notification, code: str, detail: str, now: dt.datetime) -> dict[str, object]:
    failure = classify(code)
    changes: dict[str, object] = {"provider_error_code": code, "last_error": detail[:500]}
    if not failure.permanent:
        next_try = now + retry_delay(
            note.attempts, settings.RETRY_BASE_SECONDS, settings.RETRY_MAX_SECONDS
        )
        expires_at = note.expires_at
        if note.channel == "sms":
            next_try, expires_at = hold_for_quiet_hours(
                next_try, expires_at, quiet_hours(cached_config(note.agency_id))
            )
        if note.attempts < settings.MAX_SEND_ATTEMPTS and next_try < expires_at:
            return changes | {
                "status": Status.PENDING,
                "not_before": next_try,
                "expires_at": expires_at,
                "lease_expires_at": None,
            }
        return changes | {
            "status": Status.FAILED_TEMPORARY,
            "status_reason_codes": ["retries_exhausted"],
            "finished_at": now,
        }
    after_permanent_failure(note, code, detail)
    return changes | {"status": Status.FAILED_PERMANENT, "finished_at": now}


def after_permanent_failure(note: Notification, code: str, detail: str) -> None:
    """What a permanent failure teaches us, whether the provider refused the message at once
    or reported it undelivered later: a dead contact is not tried again, a carrier opt-out is
    an opt-out, and the other channel gets its chance."""
    failure = classify(code)
    if failure.contact_dead:
        Contact.objects.filter(pk=note.contact_id, undeliverable_at=None).update(
            undeliverable_at=timezone.now(),
            undeliverable_code=code[:40],
            undeliverable_reason=detail[:300],
        )
    if failure.opted_out:
        opt_out(
            note.agency,
            note.contact,
            source=OptOutSource.PROVIDER,
            actor_label=f"provider {code}",
        )
    if note.kind == MessageKind.REPORT_FILED:
        note_id = note.pk
        transaction.on_commit(lambda: fall_back_to_other_channel(note_id))
