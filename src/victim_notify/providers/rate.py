"""Messages per second per sending account, honoured across every worker: each second has a
row counting what was handed over in it, and workers take allowance from it in one update."""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction
from django.db.models import F

from victim_notify.providers.models import RateWindow


def take(key: str, wanted: int, per_second: int) -> int:
    """How many of `wanted` messages may go now (0 when this second's allowance is used)."""
    if per_second <= 0:
        return wanted
    second = int(time.time())
    for _ in range(3):
        try:
            with transaction.atomic():
                window, _ = RateWindow.objects.select_for_update().get_or_create(
                    provider=key, second=second
                )
                grant = max(0, min(wanted, per_second - window.used))
                if grant:
                    RateWindow.objects.filter(pk=window.pk).update(used=F("used") + grant)
                return grant
        except IntegrityError:  # another worker created this second's row first
            continue
    return 0


def wait_for_allowance(key: str, wanted: int, per_second: int) -> int:
    """Block until at least one message may go; returns how many."""
    while True:
        granted = take(key, wanted, per_second)
        if granted:
            return granted
        time.sleep(max(0.01, 1.0 - (time.time() % 1.0)))


def prune(older_than_seconds: int = 3600) -> int:
    deleted, _ = RateWindow.objects.filter(
        second__lt=int(time.time()) - older_than_seconds
    ).delete()
    return deleted
