"""Running operator commands as an operator would, and reading what they print."""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.management import call_command

from victim_notify.agencies.models import Agency
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender


def run(*args: str, **options: Any) -> str:
    """The command's standard output."""
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def run_json_lines(*args: str, **options: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run(*args, **options).splitlines() if line.strip()]


def take_in(agency: Agency, *records: object) -> None:
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")


def send_all() -> None:
    """What `worker --until-idle` does for due messages, in this process and transaction (the
    command itself closes the connection, which would end the test's transaction)."""
    while sender.send_due("ops-tests"):
        pass
