"""Background jobs, run by the worker through the django_tasks interface.

Each is an idempotent nudge over rows that carry their own state, so a job that runs twice,
or dies half-way and runs again, does no harm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django_tasks import task

from victim_notify.cases.notify import settle_obligations, still_open_updates, warn_supervisors
from victim_notify.intake.connectors.database import poll_due_feeds
from victim_notify.intake.dropbox import import_waiting_files
from victim_notify.messages.sender import expire_overdue, recover_stale_leases
from victim_notify.providers import rate
from victim_notify.providers.health import check_down_providers


@task()
def recover_leases() -> dict[str, int]:
    return recover_stale_leases()


@task()
def expire_old_messages() -> int:
    return expire_overdue()


@task()
def import_dropped_files() -> list[dict[str, Any]]:
    return import_waiting_files()


@task()
def poll_database_feeds() -> list[dict[str, Any]]:
    return poll_due_feeds()


@task()
def keep_compliance_clock() -> dict[str, int]:
    return {"met": settle_obligations(), "warnings": warn_supervisors()}


@task()
def send_still_open_updates() -> int:
    return still_open_updates()


@task()
def check_providers() -> list[str]:
    return check_down_providers()


@task()
def prune_rate_windows() -> int:
    return rate.prune()


@task()
def start_surveys() -> int:
    from victim_notify.surveys.conversation import start_due_surveys

    return start_due_surveys()


@task()
def close_surveys() -> int:
    from victim_notify.surveys.conversation import close_quiet_surveys

    return close_quiet_surveys()


@task()
def prune_schedule() -> int:
    from victim_notify.worker.scheduler import prune_runs

    return prune_runs()


@task()
def disable_unused_accounts() -> int:
    from victim_notify.accounts.inactivity import disable_unused_accounts as switch_off

    return switch_off()


@task()
def check_quiet_sources() -> dict[str, int]:
    from victim_notify.intake.quiet import check_quiet_sources as check

    return check()


@task()
def purge_personal_data() -> dict[str, object]:
    from victim_notify.privacy.purge import purge

    return purge().as_dict()


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: dt.timedelta
    task: Any


PERIODIC_JOBS = [
    PeriodicJob("recover_leases", dt.timedelta(seconds=30), recover_leases),
    PeriodicJob("expire_old_messages", dt.timedelta(minutes=1), expire_old_messages),
    PeriodicJob("import_dropped_files", dt.timedelta(seconds=10), import_dropped_files),
    PeriodicJob("poll_database_feeds", dt.timedelta(seconds=10), poll_database_feeds),
    PeriodicJob("keep_compliance_clock", dt.timedelta(minutes=5), keep_compliance_clock),
    PeriodicJob("send_still_open_updates", dt.timedelta(hours=6), send_still_open_updates),
    PeriodicJob("prune_schedule", dt.timedelta(hours=6), prune_schedule),
    PeriodicJob("check_providers", dt.timedelta(seconds=15), check_providers),
    PeriodicJob("prune_rate_windows", dt.timedelta(hours=1), prune_rate_windows),
    PeriodicJob("start_surveys", dt.timedelta(minutes=1), start_surveys),
    PeriodicJob("close_surveys", dt.timedelta(minutes=30), close_surveys),
    PeriodicJob("disable_unused_accounts", dt.timedelta(days=1), disable_unused_accounts),
    PeriodicJob("check_quiet_sources", dt.timedelta(minutes=5), check_quiet_sources),
    PeriodicJob("purge_personal_data", dt.timedelta(days=1), purge_personal_data),
]
