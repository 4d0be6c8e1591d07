"""Which provider a message goes through, and failover between them.

Each agency's routes (or SMS_PROVIDERS) list its text providers in order; a message goes
through the first one that is up. A provider that fails temporarily (refused connections,
timeouts, 5xx, 429) VN_FAILOVER_AFTER times in a row, with no success between, is marked down
and traffic moves to the next; the periodic health check brings it back when it answers. The
state lives in the database, so every worker on every host agrees. A message is never handed
to a second provider while the first may still have it: only failures that prove the first
did not take it count, and unanswered requests are looked up first (see messages/sender.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from victim_notify.providers.models import ProviderEvent, ProviderHealth, ProviderRoute
from victim_notify.providers.registry import ALIASES, names_for, provider_named

log = logging.getLogger(__name__)

_CACHE_SECONDS = 1.0
_cache: tuple[float, set[str]] = (0.0, set())
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Route:
    provider: str
    messages_per_second: int  # 0: no limit


def routes(agency_id: int, channel: str) -> list[Route]:
    rows = list(ProviderRoute.objects.filter(agency_id=agency_id, channel=channel))
    if rows:
        return [Route(ALIASES.get(r.provider, r.provider), r.messages_per_second) for r in rows]
    return [Route(name, 0) for name in names_for(channel)]


def down_providers() -> set[str]:
    global _cache
    with _cache_lock:
        checked, down = _cache
        if time.monotonic() - checked < _CACHE_SECONDS:
            return down
    down = set(ProviderHealth.objects.filter(up=False).values_list("provider", flat=True))
    with _cache_lock:
        _cache = (time.monotonic(), down)
    return down


def forget_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = (0.0, set())


def choose(agency_id: int, channel: str) -> Route:
    """The first route whose provider is up; the first route when all are down (its failures
    then back off like any other)."""
    candidates = routes(agency_id, channel)
    down = down_providers()
    return next((r for r in candidates if r.provider not in down), candidates[0])


def note_results(provider: str, successes: int, temporary_failures: int, last_error: str) -> None:
    """Count a provider's recent outcomes; trip it after too many failures in a row."""
    if successes:
        ProviderHealth.objects.filter(
            provider=provider, up=True, consecutive_failures__gt=0
        ).update(consecutive_failures=0)
        return
    if not temporary_failures:
        return
    with transaction.atomic():
        health, _ = ProviderHealth.objects.select_for_update().get_or_create(provider=provider)
        health.consecutive_failures = F("consecutive_failures") + temporary_failures
        health.last_error = last_error[:300]
        health.save(update_fields=["consecutive_failures", "last_error"])
        health.refresh_from_db()
        if health.up and health.consecutive_failures >= settings.FAILOVER_AFTER:
            health.up = False
            health.down_since = timezone.now()
            health.save(update_fields=["up", "down_since"])
            ProviderEvent.objects.create(provider=provider, event="down", detail=last_error[:300])
            log.warning("provider taken out of use", extra={"provider": provider})
    forget_cache()


def check_down_providers() -> list[str]:
    """Bring back every provider that answers again. Returns the names brought back."""
    back = []
    for health in ProviderHealth.objects.filter(up=False):
        try:
            answering = provider_named(health.provider).health_check()
        except Exception:  # a check that crashes means it is still not usable
            log.exception("health check failed", extra={"provider": health.provider})
            answering = False
        ProviderHealth.objects.filter(pk=health.pk).update(checked_at=timezone.now())
        if answering:
            ProviderHealth.objects.filter(pk=health.pk).update(
                up=True, consecutive_failures=0, down_since=None
            )
            ProviderEvent.objects.create(provider=health.provider, event="up")
            log.info("provider back in use", extra={"provider": health.provider})
            back.append(health.provider)
    forget_cache()
    return back
