"""Periodic jobs are enqueued once per period however many workers run, and each job is an
idempotent nudge."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django_tasks_db.models import DBTaskResult

from victim_notify.worker.jobs import PERIODIC_JOBS
from victim_notify.worker.models import ScheduledRun
from victim_notify.worker.scheduler import enqueue_due_jobs, period_start, prune_runs

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 12, 4, 12, 0, 5, tzinfo=dt.UTC)


def test_each_job_is_enqueued_once_per_period():
    first = enqueue_due_jobs(NOON)
    again = enqueue_due_jobs(NOON + dt.timedelta(seconds=2))
    assert sorted(first) == sorted(job.name for job in PERIODIC_JOBS)
    assert again == []
    assert DBTaskResult.objects.count() == len(PERIODIC_JOBS)


def test_the_next_period_enqueues_again():
    enqueue_due_jobs(NOON)
    later = enqueue_due_jobs(NOON + dt.timedelta(seconds=31))
    assert "recover_leases" in later and "prune_schedule" not in later


@pytest.mark.django_db(transaction=True)
def test_racing_workers_enqueue_each_job_once():
    results: list[list[str]] = []

    def tick() -> None:
        from django.db import connection

        try:
            results.append(enqueue_due_jobs(NOON))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    enqueued = [name for names in results for name in names]
    assert sorted(enqueued) == sorted(job.name for job in PERIODIC_JOBS)


def test_period_start_is_aligned_to_the_period():
    assert period_start(NOON, dt.timedelta(seconds=30)) == NOON.replace(second=0)
    assert period_start(NOON, dt.timedelta(hours=6)) == NOON.replace(hour=12, minute=0, second=0)


def test_old_runs_are_pruned():
    ScheduledRun.objects.create(job="x", period_start=NOON)
    ScheduledRun.objects.filter(job="x").update(enqueued_at=NOON - dt.timedelta(days=3))
    assert prune_runs() == 1
