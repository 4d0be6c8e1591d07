"""`victim-notify worker`: the send loop, the background-job runner and the periodic scheduler
in one process. Run as many as you like, on as many hosts; the database keeps them apart.

Three threads, each with its own database connection:
- the send loop claims due messages in batches and hands them to providers;
- the job runner is django-tasks-db's own worker, running queued jobs;
- the scheduler enqueues periodic jobs (lease recovery, expiry, dropped files) once a period.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from types import FrameType

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as TaskWorker

from victim_notify.intake.connectors.database import poll_due_feeds
from victim_notify.intake.dropbox import import_waiting_files
from victim_notify.messages.models import Notification, Status
from victim_notify.messages.sender import expire_overdue, recover_stale_leases, send_due
from victim_notify.providers import registry
from victim_notify.providers.registry import names_for, provider_named
from victim_notify.worker.scheduler import enqueue_due_jobs

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def warn_if_autovacuum_is_off() -> bool:
    """Say so at start-up when the PostgreSQL server does not vacuum by itself. The outbox is
    a queue: every message's row is rewritten two or three times, and without vacuuming the
    dead rows pile up in its indexes and every claim and update gets slower as a burst goes
    on. Returns whether it warned."""
    if connection.vendor != "postgresql":
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            (value,) = cursor.fetchone()
    except DatabaseError:
        return False  # the send loop reports an unreachable database
    if value == "on":
        return False
    log.warning(
        "autovacuum is off on this PostgreSQL server: the outbox and intake tables will slow "
        "down as dead rows pile up; turn it on (it is on by default)"
    )
    return True


class Worker:
    def __init__(self, worker_id: str | None = None) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.stop = threading.Event()
        self.failed = False  # a thread stopped on an error: exit non-zero for a supervisor
        self.tasks = TaskWorker(
            queue_names=["*"],
            interval=1.0,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id[:64],
            excluded_queue_names=[],
        )

    # -- running until stopped ------------------------------------------------------------

    def run_forever(self) -> None:
        self._install_signals()
        # The send loop's database calls release the GIL on every statement; with provider
        # threads busy, the default 5 ms switch interval makes each one wait that long to get
        # it back. A shorter interval hands it over sooner.
        sys.setswitchinterval(0.001)
        log.info("worker started", extra={"worker": self.worker_id})
        warn_if_autovacuum_is_off()
        # An SMPP link receives replies and receipts as well as sending: open it now, not on
        # the first message to send.
        if "smpp" in names_for("sms"):
            provider_named("smpp").start()  # type: ignore[attr-defined]
        threads = [
            threading.Thread(
                target=self._guarded, args=(self._send_loop,), name="send", daemon=True
            ),
            threading.Thread(
                target=self._guarded, args=(self._jobs_loop,), name="jobs", daemon=True
            ),
            threading.Thread(
                target=self._guarded, args=(self._schedule_loop,), name="scheduler", daemon=True
            ),
        ]
        for thread in threads:
            thread.start()
        while not self.stop.wait(0.5):
            if not all(t.is_alive() for t in threads):
                log.error("a worker thread stopped; shutting down so a supervisor restarts us")
                self.failed = True
                self.stop.set()
        self.tasks.running = False
        for thread in threads:
            thread.join(timeout=30)
        registry.reset()
        log.info("worker stopped", extra={"worker": self.worker_id})

    def _install_signals(self) -> None:
        def handle(signum: int, frame: FrameType | None) -> None:
            self.stop.set()
            self.tasks.running = False

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def _guarded(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        finally:
            connection.close()

    def _send_loop(self) -> None:
        while not self.stop.is_set():
            try:
                claimed = send_due(self.worker_id)
            except DatabaseError:
                log.exception("send round failed; retrying shortly")
                connection.close()
                claimed = 0
                self.stop.wait(1.0)
            if not claimed:
                self.stop.wait(settings.WORKER_POLL_SECONDS)

    def _jobs_loop(self) -> None:
        """django-tasks-db's runner stops at the first database error it does not expect (a
        restart, a cut connection): start it again once the database answers, as the send
        loop does. A job it was running stays RUNNING there; jobs are idempotent nudges, and
        the next period's run does the work."""
        while not self.stop.is_set():
            try:
                self.tasks.run()
                return
            except DatabaseError:
                log.exception("job runner lost the database; starting it again shortly")
                connection.close()
                self.stop.wait(1.0)

    def _schedule_loop(self) -> None:
        while not self.stop.is_set():
            try:
                enqueue_due_jobs()
            except DatabaseError:
                log.exception("scheduler round failed")
                connection.close()
            self.stop.wait(1.0)

    # -- running until there is nothing left to do ----------------------------------------

    def run_until_idle(self, max_seconds: float | None = None) -> dict[str, int]:
        """Do everything that is due now, then return. Messages held for later (quiet hours,
        the post-approval delay, a retry's backoff) stay pending for a later run."""
        started = time.monotonic()
        recover_stale_leases()
        expire_overdue()
        import_waiting_files()
        poll_due_feeds()
        TaskWorker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id[:64],
            excluded_queue_names=[],
        ).run()
        claimed = 0
        while max_seconds is None or time.monotonic() - started < max_seconds:
            round_claimed = send_due(self.worker_id)
            claimed += round_claimed
            if not round_claimed and not _due_now():
                break
        registry.reset()
        return {"claimed": claimed}


def _due_now() -> bool:
    return Notification.objects.filter(
        status=Status.PENDING, not_before__lte=timezone.now()
    ).exists()
