"""Email to an agency's own staff (alarms, deadlines): through the installation's email
provider, like victims' email, so it is signed, logged and visible in the development outbox.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from victim_notify.accounts.models import StaffMember
from victim_notify.agencies.models import Agency
from victim_notify.providers.base import Accepted, OutgoingMessage
from victim_notify.providers.registry import provider_for

log = logging.getLogger(__name__)


def staff_addresses(agency: Agency, roles: Iterable[str]) -> list[str]:
    """Addresses of the agency's working staff in these roles (not switched off)."""
    return sorted(
        {
            address
            for address in StaffMember.objects.filter(
                agency=agency, role__in=list(roles), user__is_active=True
            ).values_list("user__email", flat=True)
            if address
        }
    )


def email_staff(agency: Agency, roles: Iterable[str], subject: str, body: str) -> int:
    """Send one plain-text email to each of the agency's staff in these roles; returns how many
    the provider accepted. A failure is logged, never raised: an alarm must not stop the job
    that raised it."""
    provider = provider_for("email")
    messages = [
        OutgoingMessage(
            notification_id=uuid.uuid4(),
            channel="email",
            to=address,
            sender=agency.sender_email,
            sender_name="Victim Notify",
            reply_to="",
            subject=subject,
            body=body,
            html="",
        )
        for address in staff_addresses(agency, roles)
    ]
    accepted = 0
    for _, result in provider.send_many(messages):
        if isinstance(result, Accepted):
            accepted += 1
        else:
            log.warning(
                "staff email not accepted",
                extra={"agency": agency.slug, "provider": provider.name, "error": str(result)},
            )
    return accepted
