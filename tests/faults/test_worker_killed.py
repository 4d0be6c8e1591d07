"""A worker killed with SIGKILL at each step of a send loses nothing and sends nothing twice:
after a restart, what the database records matches what the provider received.

Driven from outside, as an operator would see it: real worker processes, the official SDK,
the local fake of Twilio's API holding its responses, and the database itself holding the
worker at a step (a lock it must wait for). No crash hooks in product code.

The steps:
- claimed: rows taken with a lease, not yet handed over (the worker waits for a read lock on
  reports, which the last check before hand-over needs; PostgreSQL only, as SQLite cannot make
  a reader wait);
- provider_holding: requests at Twilio, which has taken them and holds its answers;
- provider_answered: some answered (the answers in the worker's memory only), others held;
- before_record: every answer back, and the worker waiting to write them down.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import pytest
from django.db import connection, transaction

from tests.conftest import TWILIO_SID, TWILIO_TOKEN, subprocess_env
from tests.fakes.smsc import Smsc
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.twilio_api import FakeTwilio
from tests.faults.conftest import (
    assert_nothing_lost_or_duplicated,
    django_rows,
    on_postgresql,
    sessions_waiting_for_a_lock,
    take_in,
    tally,
    wait_until,
    worker_command,
)
from victim_notify.intake.models import Report
from victim_notify.messages.models import Notification, Status
from victim_notify.messages.sms import cost

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults, pytest.mark.slow]

LEASE = 2
BATCH = 20


@contextmanager
def database_waits(table: str) -> Iterator[None]:
    """Make the worker wait at its next write (SQLite: of anything; PostgreSQL: to `table`),
    or on PostgreSQL at its next read of `table` too, while the block runs."""
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
            name = connection.ops.quote_name(table)
            cursor.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
        yield


def waiting_on_a_lock() -> bool:
    return sessions_waiting_for_a_lock() > 0


def kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)


STEPS = [
    pytest.param("claimed", marks=on_postgresql),
    "provider_holding",
    "provider_answered",
    "before_record",
]


@pytest.mark.parametrize("step", STEPS)
def test_worker_killed_at_each_step_then_restarted(agency, step):
    numbers = take_in(agency, BATCH)
    assert Notification.objects.filter(channel="sms", status=Status.PENDING).count() == BATCH

    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        env = subprocess_env(
            SMS_PROVIDERS="twilio",
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_API_URL=fake.base_url,
            VN_LEASE_SECONDS=str(LEASE),
            VN_WORKER_POLL="0.05",
            VN_SEND_CONCURRENCY="4",
        )
        worker: subprocess.Popen | None = None
        try:
            if step == "claimed":
                with database_waits(Report._meta.db_table):
                    worker = subprocess.Popen(worker_command(), env=env)
                    wait_until(
                        lambda: (
                            Notification.objects.filter(
                                status=Status.SENDING, handed_over_at__isnull=True
                            ).exists()
                            and waiting_on_a_lock()
                        ),
                        20,
                        "the worker to claim rows and wait before handing them over",
                    )
                    kill(worker)
                assert not fake.requests, "nothing reached the provider"
            elif step == "provider_holding":
                fake.hold()
                worker = subprocess.Popen(worker_command(), env=env)
                assert fake.wait_for_held(4, timeout=20), "the worker never reached the provider"
                kill(worker)
            elif step == "provider_answered":
                fake.hold(after=6)
                worker = subprocess.Popen(worker_command(), env=env)
                assert fake.wait_for_held(2, timeout=20), "the worker never reached the provider"
                kill(worker)
                assert len(fake.messages) >= 8
            else:  # before_record
                fake.hold()
                worker = subprocess.Popen(worker_command(), env=env)
                assert fake.wait_for_held(4, timeout=20), "the worker never reached the provider"
                with database_waits(Notification._meta.db_table):
                    fake.release()
                    wait_until(
                        lambda: (
                            sum(bool(r.status) for r in fake.requests if r.method == "POST")
                            == BATCH
                        ),
                        10,
                        "Twilio to answer every request",
                    )
                    if connection.vendor == "postgresql":
                        wait_until(waiting_on_a_lock, 10, "the worker to wait to record")
                    kill(worker)
                assert not Notification.objects.filter(status=Status.SENT).exists()
        finally:
            if worker is not None and worker.poll() is None:
                worker.kill()
                worker.wait()
        fake.release()
        before_restart = len(fake.messages)

        # The dead worker's lease runs out; a new worker looks at its rows again.
        wait_until(
            lambda: (
                not Notification.objects.filter(
                    status=Status.SENDING, lease_expires_at__gt=_now()
                ).exists()
            ),
            LEASE + 5,
            "the dead worker's lease to run out",
        )
        restarted = subprocess.run(worker_command("--until-idle"), env=env, timeout=60)
        assert restarted.returncode == 0

        received = fake.messages
        result = tally(
            f"worker SIGKILLed: {step}",
            BATCH,
            django_rows(),
            lambda key: sum(key in m.body for m in received),
        )
    assert_nothing_lost_or_duplicated(result)
    by_number = {m.body: m for m in received}
    assert len(by_number) == BATCH and before_restart <= BATCH
    for note in Notification.objects.select_related("report"):
        assert note.report.report_number in numbers
        assert note.status == Status.SENT
        [copy] = [m for m in received if note.report.report_number in m.body]
        assert note.provider_message_id == copy.sid


def _now():  # type: ignore[no-untyped-def]
    from django.utils import timezone

    return timezone.now()


def wait_for_the_sweep(lease: int = LEASE) -> None:
    wait_until(
        lambda: (
            not Notification.objects.filter(
                status=Status.SENDING, lease_expires_at__gt=_now()
            ).exists()
        ),
        lease + 5,
        "the dead worker's lease to run out",
    )


# VN_SEND_CONCURRENCY=4 gives SMTP half: two connections, so two emails in flight at most.
SMTP_IN_FLIGHT = 2


def test_worker_killed_while_the_mail_server_holds_its_answer(agency):
    """SMTP cannot be asked whether it has a message: the rows a dead worker had handed over
    end `outcome_unknown` for a person, and are never sent again on a guess. Only the emails
    that were in flight are handed over (marked as each connection comes free), so every other
    victim gets their email, once, from the restarted worker."""
    take_in(agency, BATCH, channel="email")
    with SmtpServer() as smtp:
        smtp.behaviour.hang_seconds = 60  # takes each message, keeps its answer
        env = subprocess_env(
            EMAIL_URL=smtp.url,
            VN_LEASE_SECONDS=str(LEASE),
            VN_WORKER_POLL="0.05",
            VN_SEND_CONCURRENCY="4",
        )
        worker = subprocess.Popen(worker_command(), env=env)
        try:
            wait_until(
                lambda: len(smtp.received) >= SMTP_IN_FLIGHT, 20, "the server to take two messages"
            )
            time.sleep(0.3)  # room for more rows to be marked, were the window not kept
            handed_over = Notification.objects.filter(handed_over_at__isnull=False).count()
            kill(worker)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        at_the_server = set(smtp.message_ids())
        smtp.behaviour.hang_seconds = 0
        wait_for_the_sweep()
        restarted = subprocess.run(worker_command("--until-idle"), env=env, timeout=60)
        assert restarted.returncode == 0

        ids = smtp.message_ids()
        result = tally(
            "worker SIGKILLed: mail server holding",
            BATCH,
            django_rows(),
            lambda key: sum(i.startswith(key) for i in ids),
        )
    assert_nothing_lost_or_duplicated(result)
    assert handed_over == SMTP_IN_FLIGHT
    unknown = Notification.objects.filter(status=Status.OUTCOME_UNKNOWN)
    assert 1 <= unknown.count() <= SMTP_IN_FLIGHT
    assert all("cannot be asked" in n.last_error for n in unknown)
    # Each one left for a person is one the server did take before the kill.
    assert {n.pk for n in unknown} <= {UUID(i[1:].split("@")[0]) for i in at_the_server}
    assert result.failed == 0
    assert Notification.objects.filter(status=Status.SENT).count() == BATCH - unknown.count()


def test_worker_killed_while_the_smsc_holds_its_answers(agency):
    """SMPP cannot be asked either: only the texts in the session's window are handed over,
    so only those end `outcome_unknown`; the others go once after the restart."""
    take_in(agency, BATCH)
    [parts] = {cost(n.body).segments for n in Notification.objects.filter(channel="sms")}
    texts_in_window = 3
    with Smsc(system_id="vn-faults", password="s3cret") as smsc:
        smsc.hold_responses = True  # takes each submit_sm, keeps its answer
        env = subprocess_env(
            SMS_PROVIDERS="smpp",
            SMPP_URL=f"{smsc.url}?window={texts_in_window * parts}",
            VN_LEASE_SECONDS=str(LEASE),
            VN_WORKER_POLL="0.05",
        )
        worker = subprocess.Popen(worker_command(), env=env)
        try:
            assert smsc.wait_for(lambda: smsc.unanswered >= texts_in_window * parts, 20)
            time.sleep(0.3)  # room for more rows to be marked, were the window not kept
            handed_over = Notification.objects.filter(handed_over_at__isnull=False).count()
            kill(worker)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        at_the_smsc = [m.text for m in smsc.messages]
        smsc.release()  # nothing to answer now: the link died with the worker
        wait_for_the_sweep()
        restarted = subprocess.run(worker_command("--until-idle"), env=env, timeout=60)
        assert restarted.returncode == 0

        texts = [m.text for m in smsc.messages]
        result = tally(
            "worker SIGKILLed: SMSC holding",
            BATCH,
            django_rows(),
            lambda key: sum(key in text for text in texts),
        )
    assert_nothing_lost_or_duplicated(result)
    assert not smsc.duplicate_parts
    assert handed_over == texts_in_window
    unknown = Notification.objects.filter(status=Status.OUTCOME_UNKNOWN).select_related("report")
    assert 1 <= unknown.count() <= texts_in_window
    assert all("cannot be asked" in n.last_error for n in unknown)
    assert all(any(n.report.report_number in t for t in at_the_smsc) for n in unknown)
    assert result.failed == 0
    assert Notification.objects.filter(status=Status.SENT).count() == BATCH - unknown.count()
