"""Which providers send which channel. Adding a provider is one module, its tests and one line
in BUILDERS.

Texts can go through several providers: an agency's routes (in the admin) list them in order,
else SMS_PROVIDERS does. The first one that is up is used; see providers/health.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from victim_notify.providers.base import Provider
from victim_notify.providers.outbox import OutboxProvider
from victim_notify.providers.smpp import SmppProvider
from victim_notify.providers.smtp import SmtpProvider, SmtpSettings
from victim_notify.providers.twilio import TwilioProvider


def _smtp() -> Provider:
    return SmtpProvider(
        SmtpSettings.from_url(settings.EMAIL_URL, settings.PROVIDER_TIMEOUT_SECONDS),
        concurrency=max(1, settings.SEND_CONCURRENCY // 2),
    )


def _twilio() -> Provider:
    if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
        raise ImproperlyConfigured(
            "The twilio provider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
        )
    return TwilioProvider.from_settings()


# name -> (channel, how to build it); a name is also what notifications record as provider.
BUILDERS: dict[str, tuple[str, Callable[[], Provider]]] = {
    "smtp": ("email", _smtp),
    "outbox-email": ("email", lambda: OutboxProvider("email")),
    "outbox-sms": ("sms", lambda: OutboxProvider("sms")),
    "twilio": ("sms", _twilio),
    "smpp": ("sms", SmppProvider.from_settings),
}
ALIASES = {"outbox": "outbox-sms"}

_providers: dict[str, Provider] = {}
_lock = threading.Lock()


def provider_named(name: str) -> Provider:
    with _lock:
        if name not in _providers:
            if name not in BUILDERS:
                raise ImproperlyConfigured(
                    f"No provider called {name!r} (known: {', '.join(BUILDERS)})."
                )
            _providers[name] = BUILDERS[name][1]()
        return _providers[name]


def names_for(channel: str) -> list[str]:
    """The installation's providers for a channel, in the order they are tried."""
    if channel == "email":
        return ["outbox-email" if settings.EMAIL_URL.startswith("outbox:") else "smtp"]
    names = [ALIASES.get(name, name) for name in settings.SMS_PROVIDERS]
    for name in names:
        if name not in BUILDERS or BUILDERS[name][0] != "sms":
            raise ImproperlyConfigured(
                f"SMS_PROVIDERS names {name!r}, which is not a text provider."
            )
    return names


def provider_for(channel: str) -> Provider:
    """The first provider for the channel (before failover is considered)."""
    return provider_named(names_for(channel)[0])


def reset() -> None:
    """Close every provider, so the next use reads the settings again (tests, shutdown)."""
    with _lock:
        for provider in _providers.values():
            provider.close()
        _providers.clear()
