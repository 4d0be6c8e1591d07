"""The same file taken in twice at the same moment, by two `victim-notify ingest` processes
(an RMS export dropped twice, two operators, a retried job): each party gets exactly one
notification per channel, and each one message.

Both processes are made to race: the database holds them (a lock they must wait for) until
both are about to store the same reports, then lets them go together.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, transaction

from tests.conftest import make_record, subprocess_env
from tests.faults.conftest import (
    REPO,
    assert_nothing_lost_or_duplicated,
    django_rows,
    sessions_waiting_for_a_lock,
    tally,
    wait_until,
)
from victim_notify.intake.models import Report
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.providers.models import DevOutboxMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults, pytest.mark.slow]

REPORTS = 30


@contextmanager
def stores_wait() -> Iterator[None]:
    """While the block runs, no one can store a report (SQLite: nothing can be written;
    PostgreSQL: reports cannot even be read, so the planning waits too)."""
    if connection.vendor == "sqlite":
        held = sqlite3.connect(connection.settings_dict["NAME"], timeout=20)
        try:
            held.execute("BEGIN IMMEDIATE")
            yield
        finally:
            held.rollback()
            held.close()
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Report._meta.db_table)
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield


def both_waiting(processes: list[subprocess.Popen]) -> bool:
    """Both importers are blocked on the database: on PostgreSQL, two sessions wait for a
    lock; on SQLite, both have the database open and use almost no CPU (they are trying for
    the write lock every millisecond or so, sleeping in between; see victim_notify/sqlite)."""
    if connection.vendor == "postgresql":
        return sessions_waiting_for_a_lock() >= 2
    database = Path(connection.settings_dict["NAME"]).resolve()
    for process in processes:
        fds = Path(f"/proc/{process.pid}/fd")
        try:
            if not any(_points_to(fd, database) for fd in fds.iterdir()):
                return False
        except FileNotFoundError:
            return False
    before = [_cpu_ticks(p.pid) for p in processes]
    time.sleep(0.5)  # a CPU-time sample needs an interval
    used = [_cpu_ticks(p.pid) - ticks for p, ticks in zip(processes, before, strict=True)]
    return max(used) < 0.5 * _TICKS_PER_SECOND / 4  # under a quarter of a core


def _points_to(fd: Path, target: Path) -> bool:
    try:
        return fd.resolve() == target
    except OSError:
        return False


_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_same_file_ingested_twice_at_once(agency, tmp_path):
    path = tmp_path / "export.jsonl"
    records = [
        make_record(victim={"phone": f"520-555-{i:04d}", "email": f"victim{i}@example.com"})
        for i in range(REPORTS)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    env = subprocess_env(LOG_LEVEL="ERROR")
    command = [sys.executable, "-m", "victim_notify.cli", "ingest", str(path), "--agency"]

    with stores_wait():
        importers = [
            subprocess.Popen(
                [*command, agency.slug], env=env, cwd=REPO, stdout=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        try:
            wait_until(lambda: both_waiting(importers), 30, "both importers to reach the store")
        except BaseException:
            for importer in importers:
                importer.kill()
            raise
    summaries = []
    for importer in importers:
        out, _ = importer.communicate(timeout=60)
        assert importer.returncode == 0
        summaries.append(json.loads(out))

    assert Report.objects.count() == REPORTS
    assert sum(s["notifications_queued"] for s in summaries) == 2 * REPORTS
    deadline = time.monotonic() + 20
    while Notification.objects.filter(status=Status.PENDING).exists():
        sender.send_due("w")
        assert time.monotonic() < deadline

    sent = list(DevOutboxMessage.objects.values_list("notification_id", "body", "subject"))
    by_id = {str(n.pk): n for n in Notification.objects.all()}

    def copies(key: str) -> int:
        if key.startswith("<"):  # an email, named by its notification id
            return sum(str(nid) == key[1:-1] for nid, _, _ in sent)
        return sum(key in body and by_id[str(nid)].channel == "sms" for nid, body, _ in sent)

    result = tally("same file ingested twice at once", 2 * REPORTS, django_rows(), copies)
    assert_nothing_lost_or_duplicated(result)
    assert result.delivered == 2 * REPORTS
