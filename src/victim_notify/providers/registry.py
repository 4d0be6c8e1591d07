"""Which provider sends which channel, from the settings. Adding a provider is one module,
its tests and one line here."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from victim_notify.providers.base import Provider
from victim_notify.providers.outbox import OutboxProvider
from victim_notify.providers.smtp import SmtpProvider, SmtpSettings
from victim_notify.providers.twilio import TwilioProvider

_providers: dict[str, Provider] = {}
_lock = threading.Lock()


def _build(channel: str) -> Provider:
    if channel == "email":
        if settings.EMAIL_URL.startswith("outbox:"):
            return OutboxProvider("email")
        return SmtpProvider(
            SmtpSettings.from_url(settings.EMAIL_URL, settings.PROVIDER_TIMEOUT_SECONDS),
            concurrency=max(1, settings.SEND_CONCURRENCY // 2),
        )
    if channel == "sms":
        if settings.SMS_BACKEND == "twilio":
            if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
                raise ImproperlyConfigured(
                    "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
                )
            return TwilioProvider.from_settings()
        return OutboxProvider("sms")
    raise ImproperlyConfigured(f"No provider for channel {channel!r}.")


def provider_for(channel: str) -> Provider:
    with _lock:
        if channel not in _providers:
            _providers[channel] = _build(channel)
        return _providers[channel]


def reset() -> None:
    """Close every provider, so the next use reads the settings again (tests, shutdown)."""
    with _lock:
        for provider in _providers.values():
            provider.close()
        _providers.clear()
