"""The development outbox: every text and email a development installation 'sent'."""

from __future__ import annotations

from django.db import models

from victim_notify.privacy.fields import EncryptedTextField, MaskedCharField


class DevOutboxMessage(models.Model):
    """What a phone or a mail client would have received.

    Texts land here from the outbox SMS provider; emails land here from the local SMTP sink,
    so the page shows the email exactly as it crossed the wire.
    """

    channel = models.CharField(max_length=8)
    notification_id = models.UUIDField(null=True, blank=True, db_index=True)
    provider_message_id = models.CharField(max_length=64, unique=True)
    sender = models.CharField(max_length=320)
    recipient = EncryptedTextField()
    subject = EncryptedTextField(blank=True)
    body = EncryptedTextField()
    html = EncryptedTextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.channel} {self.provider_message_id}"


class ProviderRoute(models.Model):
    """An agency's providers for one channel, tried in order: the first one up is used."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="routes")
    channel = models.CharField(max_length=8)
    position = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=32, help_text="A provider name from SMS_PROVIDERS.")
    messages_per_second = models.PositiveIntegerField(
        default=0, help_text="The sender's allowance (10DLC, toll-free…); 0 means no limit."
    )

    class Meta:
        ordering = ["agency", "channel", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "channel", "position"], name="route_position_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.channel} #{self.position}: {self.provider}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from victim_notify.providers.registry import ALIASES, BUILDERS

        name = ALIASES.get(self.provider, self.provider)
        if name not in BUILDERS or BUILDERS[name][0] != self.channel:
            known = [n for n, (channel, _) in BUILDERS.items() if channel == self.channel]
            raise ValidationError(
                {"provider": f"Not a {self.channel} provider; known: {', '.join(known)}."}
            )


class ProviderHealth(models.Model):
    """Whether a provider is taking messages, shared by every worker through the database."""

    provider = models.CharField(max_length=32, unique=True)
    up = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    down_since = models.DateTimeField(null=True, blank=True)
    last_error = MaskedCharField(max_length=300, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.provider}: {'up' if self.up else 'down'}"


class ProviderEvent(models.Model):
    """The history of provider switches, for staff and for after-the-fact questions."""

    provider = models.CharField(max_length=32)
    at = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=20)  # down, up
    detail = MaskedCharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.provider} {self.event}"


class RateWindow(models.Model):
    """Messages handed to a provider in one second, counted across all workers; and, under keys
    starting `web:`, requests from one client in a rate-limit window starting at `second`."""

    provider = models.CharField(max_length=32)
    second = models.BigIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "second"], name="rate_window_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} @{self.second}: {self.used}"
