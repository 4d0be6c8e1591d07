"""Recording and lifting opt-outs. Every path that records one (staff, command, reply
keyword, provider report) comes through here, so each is audited the same way."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from victim_notify.accounts.audit import record as audit
from victim_notify.agencies.models import Agency
from victim_notify.contacts.models import Contact, ContactKind, OptOut
from victim_notify.contacts.normalise import normalise_email, normalise_phone
from victim_notify.messages.models import Notification, Status


class BadContact(ValueError):
    pass


def contact_for(agency: Agency, *, phone: str | None = None, email: str | None = None) -> Contact:
    if phone:
        normalised = normalise_phone(phone, agency.phone_region)
        kind = ContactKind.PHONE
    elif email:
        normalised = normalise_email(email)
        kind = ContactKind.EMAIL
    else:
        raise BadContact("give a phone number or an email address")
    if normalised.value is None:
        raise BadContact(normalised.error or "not a usable phone number or email address")
    return Contact.objects.get_or_add(kind, normalised.value)


def opt_out(
    agency: Agency, contact: Contact, *, source: str, actor_label: str, note: str = ""
) -> bool:
    """Record that this contact wants nothing more from the agency, and cancel what is still
    waiting to go to it. Returns False when it had already opted out."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                OptOut.objects.create(
                    agency=agency, contact=contact, source=source, note=note[:200]
                )
        except IntegrityError:
            return False
        cancelled = Notification.objects.filter(
            agency=agency, contact=contact, status=Status.PENDING
        ).update(
            status=Status.CANCELLED, status_reason_codes=["opted_out"], finished_at=timezone.now()
        )
        from victim_notify.surveys.conversation import stop_surveys  # surveys build on contacts

        stop_surveys([agency.pk], contact)
        audit(
            "opt_out.recorded",
            actor_label=actor_label,
            agency=agency,
            target=contact,
            detail={"source": source, "pending_cancelled": cancelled},
        )
    return True


def opt_in(agency: Agency, contact: Contact, *, actor_label: str) -> bool:
    with transaction.atomic():
        lifted = OptOut.objects.filter(agency=agency, contact=contact, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if lifted:
            audit("opt_out.lifted", actor_label=actor_label, agency=agency, target=contact)
    return bool(lifted)
