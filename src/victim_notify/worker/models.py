"""Periodic jobs run once per period, however many workers are running."""

from __future__ import annotations

from django.db import models


class ScheduledRun(models.Model):
    job = models.CharField(max_length=64)
    period_start = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "period_start"], name="job_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {self.period_start:%Y-%m-%d %H:%M:%S}"
