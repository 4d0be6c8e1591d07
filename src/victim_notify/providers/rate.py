"""Counting in the database, shared by every process on every host: messages per second per
sending account (each second has a row counting what was handed over in it, and workers take
allowance from it in one update), and requests per client in a window for the web's rate
limits (victim_notify.throttle), in the same table under keys that cannot be a provider's."""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction
from django.db.models import F

from victim_notify.providers.models import RateWindow

# A grant is for a whole second on our clock, but what it lets through reaches the provider a
# little later (the rows are marked handed over first, then the requests travel). Granting in a
# second that is nearly over would let those messages arrive in the next one, on top of that
# second's own allowance. So a second is only granted while most of it is still ahead: the
# current one in its first quarter, otherwise a later one, which the caller waits for.
GRANT_WITHIN = 0.25
LOOK_AHEAD = 3  # seconds a worker may book ahead while the nearer ones are full


def take(key: str, wanted: int, per_second: int, second: int | None = None) -> int:
    """How many of `wanted` messages may go in `second` (default: now); 0 when it is used up."""
    if per_second <= 0:
        return wanted
    second = int(time.time()) if second is None else second
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
    """Block until at least one message may go, and return how many, at the start of the
    second they were granted in (or early in it)."""
    if per_second <= 0:
        return wanted
    while True:
        now = time.time()
        first = int(now) if now % 1.0 < GRANT_WITHIN else int(now) + 1
        for second in range(first, first + LOOK_AHEAD):
            granted = take(key, wanted, per_second, second)
            if granted:
                time.sleep(max(0.0, second - time.time()))
                return granted
        time.sleep(max(0.01, first + 1 - time.time()))


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
