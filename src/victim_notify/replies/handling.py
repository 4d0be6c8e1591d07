"""Marking a reply handled: who dealt with it, when, and what they did. The staff inbox, the
admin and the API all come through here, so a reply is handled once whoever gets there first."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from victim_notify.replies.models import InboundMessage


def mark_handled(reply: InboundMessage, *, by: str, user: Any = None, note: str = "") -> bool:
    """Mark `reply` handled by `by` (a staff user's name, or what an API client said), with
    `note`. Returns False, changing nothing, when someone already handled it; `reply` then
    holds who did. The update is conditional so two people acting at once cannot both win."""
    now = timezone.now()
    user = user if getattr(user, "is_authenticated", False) else None
    changed = InboundMessage.objects.filter(pk=reply.pk, handled_at=None).update(
        handled_at=now, handled_by=user, handled_by_name=by[:150], handled_note=note
    )
    if changed:
        reply.handled_at, reply.handled_by, reply.handled_by_name = now, user, by[:150]
        reply.handled_note = note
    else:
        reply.refresh_from_db(
            fields=["handled_at", "handled_by", "handled_by_name", "handled_note"]
        )
    return bool(changed)
