"""Enqueues each periodic job once per period, however many workers run: the first worker to
insert the (job, period) row enqueues it; the others see the row exists."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from victim_notify.worker.jobs import PERIODIC_JOBS, PeriodicJob
from victim_notify.worker.models import ScheduledRun


def period_start(moment: dt.datetime, every: dt.timedelta) -> dt.datetime:
    seconds = every.total_seconds()
    epoch = moment.timestamp()
    return dt.datetime.fromtimestamp(epoch - epoch % seconds, tz=dt.UTC)


def enqueue_due_jobs(
    now: dt.datetime | None = None, jobs: list[PeriodicJob] | None = None
) -> list[str]:
    now = now or timezone.now()
    enqueued = []
    for job in jobs or PERIODIC_JOBS:
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(job=job.name, period_start=period_start(now, job.every))
                job.task.enqueue()
        except IntegrityError:
            continue
        enqueued.append(job.name)
    return enqueued


def prune_runs(older_than: dt.timedelta = dt.timedelta(days=2)) -> int:
    deleted, _ = ScheduledRun.objects.filter(enqueued_at__lt=timezone.now() - older_than).delete()
    return deleted
