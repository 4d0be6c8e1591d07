"""A worker killed with SIGKILL while Twilio holds its answer loses nothing and sends nothing
twice: after a restart, what the database records matches what the provider received.

Driven from outside, as an operator would see it: real worker processes, the official SDK,
the local fake of Twilio's API holding its responses. No crash hooks in product code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import TWILIO_SID, TWILIO_TOKEN, make_record, subprocess_env
from tests.fakes.twilio_api import FakeTwilio
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages.models import Notification, Status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LEASE = 2


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "victim_notify.cli", "worker", *args]


def test_worker_killed_while_the_provider_holds_its_answer(agency):
    records = [make_record(victim={"phone": f"520-555-01{i:02d}"}) for i in range(12)]
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")
    assert Notification.objects.filter(channel="sms", status=Status.PENDING).count() == 12

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
        fake.hold()
        worker = subprocess.Popen(worker_command(), env=env)
        try:
            assert fake.wait_for_held(4, timeout=20), "the worker never reached the provider"
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        fake.release()
        accepted_before_restart = {m.body for m in fake.messages}
        assert 4 <= len(accepted_before_restart) < 12

        time.sleep(LEASE + 0.5)  # the dead worker's lease runs out
        restarted = subprocess.run(worker_command("--until-idle"), env=env, timeout=60)
        assert restarted.returncode == 0

        notes = list(Notification.objects.select_related("report"))
        received = fake.messages
    for note in notes:
        copies = [m for m in received if note.report.report_number in m.body]
        assert len(copies) == 1, f"{note.report.report_number} reached Twilio {len(copies)} times"
        assert note.status == Status.SENT
        assert note.provider_message_id == copies[0].sid
    assert len(received) == 12
