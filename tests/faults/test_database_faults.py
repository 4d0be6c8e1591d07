"""The database goes away under a running worker: its connections cut with
pg_terminate_backend(), and the PostgreSQL server restarted during a batch. The worker keeps
running, records what the provider answered once the database is back, and every text
reaches Twilio once.

PostgreSQL only. The restart uses a throwaway cluster the test creates, owns and drops
(port 5440); the machine's shared server is never touched.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.db import connection

from tests import pgcluster
from tests.conftest import TWILIO_SID, TWILIO_TOKEN, subprocess_env
from tests.fakes.twilio_api import FakeTwilio
from tests.faults.conftest import (
    REPO,
    Row,
    assert_nothing_lost_or_duplicated,
    django_rows,
    on_postgresql,
    records,
    run_cli,
    take_in,
    tally,
    wait_until,
    worker_command,
)
from victim_notify.messages.models import Notification, Status

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.faults,
    pytest.mark.slow,
    on_postgresql,
]

LEASE = 5
BATCH = 20


def twilio_env(fake: FakeTwilio, **extra: str) -> dict[str, str]:
    return subprocess_env(
        SMS_PROVIDERS="twilio",
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_API_URL=fake.base_url,
        VN_LEASE_SECONDS=str(LEASE),
        VN_WORKER_POLL="0.05",
        VN_SEND_CONCURRENCY="4",
        **extra,
    )


def stop(worker: subprocess.Popen) -> int:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return worker.returncode


def test_connections_cut_mid_batch(agency):
    take_in(agency, BATCH)
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        fake.hold()
        worker = subprocess.Popen(worker_command(), env=twilio_env(fake))
        try:
            assert fake.wait_for_held(4, timeout=20), "the worker never reached the provider"
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                assert cursor.fetchone()[0] >= 1
            fake.release()
            wait_until(
                lambda: (
                    Notification.objects.filter(status=Status.SENT).count() == BATCH
                    or worker.poll() is not None
                ),
                25,
                "every text to be recorded sent",
            )
            assert worker.poll() is None, "the worker died"
        finally:
            code = stop(worker)
        assert code == 0
        received = fake.messages
    result = tally(
        "PostgreSQL connections terminated",
        BATCH,
        django_rows(),
        lambda key: sum(key in m.body for m in received),
    )
    assert_nothing_lost_or_duplicated(result)
    assert result.delivered == BATCH
    # Recorded from Twilio's own answers ("queued"), kept while the database was away; not
    # found later by the lease sweep (which would read "sent"): a provider that cannot be
    # asked would have left those rows outcome_unknown.
    assert set(Notification.objects.values_list("provider_status", flat=True)) == {"queued"}


# -- a PostgreSQL server restarted mid-batch -------------------------------------------------

CLUSTER = "faults"
PORT = 5440


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[str]:
    """A PostgreSQL cluster of our own on port 5440, with the schema and the test agency."""
    if reason := pgcluster.why_not_available():
        pytest.skip(reason)
    with pgcluster.own_cluster(CLUSTER, PORT) as url:
        env = subprocess_env(DATABASE_URL=url)
        migrated = run_cli(env, "migrate", "--no-input", timeout=180)
        assert migrated.returncode == 0, migrated.stderr
        loaded = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup();"
                "from victim_notify.agencies.setup import load_agency;"
                "from tests.agency_data import agency_data; load_agency(agency_data())",
            ],
            env=env | {"DJANGO_SETTINGS_MODULE": "victim_notify.settings"},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert loaded.returncode == 0, loaded.stderr
        yield url


def _query(url: str, sql: str) -> list[tuple[str, ...]]:
    out = subprocess.run(
        ["psql", url.replace("postgres://", "postgresql://"), "-AtF", "\t", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def test_postgresql_restarted_mid_batch(own_cluster, tmp_path):
    path = tmp_path / "batch.jsonl"

    path.write_text("".join(json.dumps(r) + "\n" for r in records(BATCH)))
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        env = twilio_env(fake, DATABASE_URL=own_cluster)
        ingested = run_cli(env, "ingest", str(path), "--agency", "testville")
        assert ingested.returncode == 0, ingested.stderr
        fake.hold()
        worker = subprocess.Popen(worker_command(), env=env)
        try:
            assert fake.wait_for_held(4, timeout=20), "the worker never reached the provider"
            pgcluster.restart(CLUSTER)
            fake.release()

            def all_sent() -> bool:
                rows = _query(
                    own_cluster,
                    "SELECT count(*) FROM outbox_notification WHERE status = 'sent'",
                )
                return int(rows[0][0]) == BATCH or worker.poll() is not None

            wait_until(all_sent, 25, "every text to be recorded sent")
            assert worker.poll() is None, "the worker died"
        finally:
            code = stop(worker)
        assert code == 0
        received = fake.messages
    rows = _query(
        own_cluster,
        "SELECT r.report_number, n.party_id, n.status, n.last_error, n.provider_status "
        "FROM outbox_notification n JOIN intake_report r ON r.id = n.report_id",
    )
    result = tally(
        "PostgreSQL restarted mid-batch",
        BATCH,
        [Row(key=r[0], party=r[1], status=r[2], reason=r[3] if len(r) > 3 else "") for r in rows],
        lambda key: sum(key in m.body for m in received),
    )
    assert_nothing_lost_or_duplicated(result)
    assert result.delivered == BATCH
    assert {r[4] for r in rows} == {"queued"}  # from Twilio's answers, not the lease sweep
