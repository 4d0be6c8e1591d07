"""Counting in the database, shared by every process on every host: messages per second per
sending account (each second has a row counting what was handed over in it, and workers take
allowance from it in one update), and requests per client in a window for the web's rate
limits (victim_notify.throttle), in the same table under keys that cannot be a provider's."""

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


def hit(key: str, window_seconds: int, now: float | None = None) -> tuple[int, int]:
    """Counts one more under `key` in the current fixed window of `window_seconds`: the count
    so far including this one, and when the window ends (Unix seconds). One UPDATE adds it, so
    concurrent processes never lose a count (the database cache's read-then-write would)."""
    now = time.time() if now is None else now
    start = int(now // window_seconds) * window_seconds
    for _ in range(3):
        with transaction.atomic():
            rows = RateWindow.objects.filter(provider=key, second=start)
            if not rows.update(used=F("used") + 1):
                try:
                    with transaction.atomic():
                        RateWindow.objects.create(provider=key, second=start, used=1)
                except IntegrityError:  # another process opened this window first
                    continue
                return 1, start + window_seconds
            return rows.values_list("used", flat=True)[0], start + window_seconds
    return 0, start + window_seconds


def count(key: str, window_seconds: int, now: float | None = None) -> tuple[int, int]:
    """What `hit` has counted under `key` in the current window, without counting."""
    now = time.time() if now is None else now
    start = int(now // window_seconds) * window_seconds
    used = RateWindow.objects.filter(provider=key, second=start).values_list("used", flat=True)
    return (used[0] if used else 0), start + window_seconds


def prune(older_than_seconds: int = 3600) -> int:
    deleted, _ = RateWindow.objects.filter(
        second__lt=int(time.time()) - older_than_seconds
    ).delete()
    return deleted
