"""The audit trail as CSV, for auditors and for the command line."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from victim_notify.accounts.models import AuditEvent

COLUMNS = [
    "id",
    "at",
    "agency",
    "actor",
    "action",
    "object_type",
    "object_id",
    "detail",
    "remote_addr",
    "entry_hash",
    "previous_hash",
]


def write_csv(events: Iterable[AuditEvent], out: Any) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for event in events:
        writer.writerow(
            [
                event.pk,
                event.at.isoformat(),
                event.agency_id or "",
                event.actor_label,
                event.action,
                event.object_type,
                event.object_id,
                event.detail,
                event.remote_addr or "",
                event.entry_hash,
                event.previous_hash,
            ]
        )
        count += 1
    return count
