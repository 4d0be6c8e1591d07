"""Writing to the audit trail, and proving nobody changed it since."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from victim_notify.accounts.models import AuditChainHead, AuditEvent


def _digest(event: AuditEvent) -> str:
    content = {
        "id": event.pk,
        "at": event.at.isoformat(),
        "agency": event.agency_id,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail,
        "remote_addr": event.remote_addr,
        "previous": event.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    action: str,
    *,
    actor_label: str,
    agency: Any = None,
    actor: Any = None,
    target: models.Model | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            at=timezone.now(),
            action=action,
            actor_label=actor_label[:100],
            agency=agency,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            object_type=target._meta.label_lower if target is not None else "",
            object_id=str(target.pk) if target is not None else "",
            # Through JSON and back, so the hash is taken over what the database returns.
            detail=json.loads(json.dumps(detail or {}, default=str)),
            remote_addr=remote_addr,
            previous_hash=head.last_hash,
        )
        event.save()
        event.entry_hash = _digest(event)
        AuditEvent.objects.filter(pk=event.pk).update(entry_hash=event.entry_hash)
        head.last_hash, head.last_id = event.entry_hash, event.pk
        head.save(update_fields=["last_hash", "last_id"])
    return event


def record_request(
    request: HttpRequest,
    action: str,
    *,
    target: models.Model | None = None,
    detail: dict[str, Any] | None = None,
    agency: Any = None,
) -> AuditEvent:
    """An entry for something a signed-in person did through the staff app."""
    user = request.user
    staff = getattr(user, "staff", None) if user.is_authenticated else None
    return record(
        action,
        actor_label=user.get_username() if user.is_authenticated else "anonymous",
        actor=user,
        agency=agency if agency is not None else getattr(staff, "agency", None),
        target=target,
        detail=detail,
        remote_addr=client_address(request),
    )


def client_address(request: HttpRequest) -> str | None:
    """Where a request came from: REMOTE_ADDR, or behind one of VN_TRUSTED_PROXIES the address
    that proxy put last in X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote in settings.TRUSTED_PROXIES and forwarded:
        return forwarded.split(",")[-1].strip() or remote
    return remote


def terms_hash(kind: str, terms: str) -> str:
    """A keyed hash of what someone searched for: equal searches can be matched in the trail
    without the trail holding the name, phone or email searched for."""
    key = hashlib.sha256(b"victim-notify audit search terms " + settings.SECRET_KEY.encode())
    normalised = " ".join(terms.lower().split())
    return hmac.new(key.digest(), f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_bad_id: int | None
    problem: str

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None and not self.problem


def verify_chain(events: Iterable[AuditEvent] | None = None) -> ChainCheck:
    """Walks the trail oldest first: every entry's hash must match its content and name the
    entry before it, and the walk must end at the entry the chain head named when the check
    began (so deleting the newest entries is caught too, and entries written while the check
    runs are left for the next one)."""
    head = AuditChainHead.objects.filter(pk=1).first()
    rows = events
    if rows is None:
        newest = head.last_id if head is not None else 0
        rows = AuditEvent.objects.filter(id__lte=newest).order_by("id").iterator(2000)
    previous, count, last_id = "", 0, 0
    for event in rows:
        count += 1
        if event.previous_hash != previous:
            return ChainCheck(count, event.pk, "does not follow the entry before it")
        if event.entry_hash != _digest(event):
            return ChainCheck(count, event.pk, "its content was changed after it was written")
        previous, last_id = event.entry_hash, event.pk
    if head is not None and (head.last_hash, head.last_id) != (previous, last_id):
        return ChainCheck(count, None, f"entries after #{last_id} are missing")
    return ChainCheck(count, None, "")
