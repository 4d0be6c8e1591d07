"""What every fault test shares: a batch of reports, the count of what the providers received
against what the database recorded, and the table printed at the end of the run.

A notification is
- delivered when exactly one copy reached a provider (whatever our row says: a row left
  `outcome_unknown` whose message did arrive is delivered, and waits for a person);
- a recorded failure when no copy arrived and the row ends failed or `outcome_unknown` with a
  reason a person can read;
- duplicated when more than one copy arrived (or a party got more than one notification);
- lost otherwise: no copy and no recorded failure (or a row that says sent without a copy).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_record

FINAL_FAILURES = {"failed_permanent", "failed_temporary", "outcome_unknown"}
DELIVERED = {"sent", "delivered", "outcome_unknown"}
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Row:
    """What the database says about one notification: `key` names it in what the provider
    received (the report number in a text, the Message-ID of an email)."""

    key: str
    party: str
    status: str
    reason: str


@dataclass(frozen=True)
class Tally:
    fault: str
    expected: int
    delivered: int
    failed: int
    duplicated: int
    lost: int
    details: tuple[str, ...]


_results: list[Tally] = []


def tally(fault: str, expected: int, rows: Iterable[Row], copies: Callable[[str], int]) -> Tally:
    rows = list(rows)
    delivered = failed = duplicated = lost = 0
    details = []
    per_party: dict[str, int] = {}
    for row in rows:
        per_party[row.party] = per_party.get(row.party, 0) + 1
        count = copies(row.key)
        if count > 1:
            duplicated += 1
            details.append(f"{row.key}: reached the provider {count} times ({row.status})")
        elif count == 1 and row.status in DELIVERED:
            delivered += 1
        elif count == 1:
            lost += 1  # it went, but the row says it did not: it could be sent again
            details.append(f"{row.key}: reached the provider, yet recorded {row.status}")
        elif row.status in FINAL_FAILURES and row.reason:
            failed += 1
        else:
            lost += 1
            details.append(f"{row.key}: never reached the provider ({row.status})")
    extra = sum(n - 1 for n in per_party.values() if n > 1)
    if extra:
        duplicated += extra
        details.append(f"{extra} parties have more than one notification")
    missing = expected - len(per_party)
    if missing > 0:
        lost += missing
        details.append(f"{missing} eligible parties have no notification")
    result = Tally(fault, expected, delivered, failed, duplicated, lost, tuple(details))
    _results.append(result)
    return result


def assert_nothing_lost_or_duplicated(result: Tally) -> None:
    assert (result.duplicated, result.lost) == (0, 0), "\n".join(result.details)
    assert result.delivered + result.failed == result.expected


def django_rows(**filters: Any) -> list[Row]:
    from victim_notify.messages.models import Notification

    notes = Notification.objects.filter(kind="report_filed", **filters).select_related("report")
    return [
        Row(
            key=note.report.report_number if note.channel == "sms" else f"<{note.pk}@",
            party=f"{note.party_id}:{note.channel}",
            status=note.status,
            reason=note.last_error or ",".join(note.status_reason_codes),
        )
        for note in notes
    ]


def records(count: int, channel: str = "sms", start: int = 0) -> list[dict[str, Any]]:
    """`count` reports, one victim each, reachable on `channel` only (unique phones/emails)."""
    made = []
    for i in range(start, start + count):
        if channel == "sms":
            victim = {"phone": f"520-555-{i:04d}"}
        else:
            victim = {"phone": "", "email": f"victim{i}@example.com"}
        made.append(make_record(victim=victim))
    return made


def take_in(agency: Any, count: int, channel: str = "sms", start: int = 0) -> list[str]:
    """Ingest a batch; returns the report numbers."""
    from victim_notify.intake.store import IncomingRecord, ingest

    batch = records(count, channel, start)
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(batch)], source="api")
    return [r["report_number"] for r in batch]


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` until it is true; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "victim_notify.cli", "worker", *args]


def run_cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "victim_notify.cli", *args],
        env=env,
        cwd=REPO,
        timeout=timeout,
        capture_output=True,
        text=True,
    )


def sessions_waiting_for_a_lock() -> int:
    """PostgreSQL: how many other sessions on this database wait for a lock right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        # Within a transaction the activity view is read once; ask for a fresh look.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


on_postgresql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="needs PostgreSQL (runs in the PostgreSQL pass: DATABASE_URL=postgres://...)",
)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _results:
        return
    width = max(len(r.fault) for r in _results)
    terminalreporter.write_sep("=", "fault injection: what reached the providers")
    header = f"{'fault':<{width}}  expected  delivered  failed*  duplicated  lost"
    terminalreporter.write_line(header)
    for r in _results:
        terminalreporter.write_line(
            f"{r.fault:<{width}}  {r.expected:>8}  {r.delivered:>9}  {r.failed:>7}"
            f"  {r.duplicated:>10}  {r.lost:>4}"
        )
    terminalreporter.write_line(
        "* failed: never reached the provider, recorded failed or outcome_unknown with a reason"
    )
