"""Writing to the audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models

from victim_notify.accounts.models import AuditEvent


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
    return AuditEvent.objects.create(
        action=action,
        actor_label=actor_label,
        agency=agency,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        detail=detail or {},
        remote_addr=remote_addr,
    )
