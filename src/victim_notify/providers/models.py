"""The development outbox: every text and email a development installation 'sent'."""

from __future__ import annotations

from django.db import models


class DevOutboxMessage(models.Model):
    """What a phone or a mail client would have received.

    Texts land here from the outbox SMS provider; emails land here from the local SMTP sink,
    so the page shows the email exactly as it crossed the wire.
    """

    channel = models.CharField(max_length=8)
    notification_id = models.UUIDField(null=True, blank=True, db_index=True)
    provider_message_id = models.CharField(max_length=64, unique=True)
    sender = models.CharField(max_length=320)
    recipient = models.CharField(max_length=320)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    html = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.channel} {self.provider_message_id}"
