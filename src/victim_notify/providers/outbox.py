"""The development outbox: keeps every message in the database instead of sending it.

The default for a new installation, so nothing reaches a real phone or inbox until an
operator configures a real provider. /dev/outbox shows what was 'sent'.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

from victim_notify.providers.base import Accepted, Admit, OutgoingMessage, Provider, Result
from victim_notify.providers.models import DevOutboxMessage


class OutboxProvider(Provider):
    can_be_asked = True
    uses_database = True

    def __init__(self, channel: str, concurrency: int = 1) -> None:
        super().__init__(concurrency)
        self.channel = channel
        self.name = f"outbox-{channel}"

    def _row(self, message: OutgoingMessage) -> DevOutboxMessage:
        return DevOutboxMessage(
            channel=self.channel,
            notification_id=message.notification_id,
            provider_message_id=f"OB{uuid.uuid4().hex}",
            sender=message.sender,
            recipient=message.to,
            subject=message.subject,
            body=message.body,
            html=message.html,
        )

    def send(self, message: OutgoingMessage) -> Accepted:
        row = self._row(message)
        row.save()
        return Accepted(row.provider_message_id, "delivered")

    def send_many(
        self, messages: Iterable[OutgoingMessage], admit: Admit | None = None
    ) -> Iterator[tuple[OutgoingMessage, Result]]:
        batch = list(messages)
        if admit is not None:  # all at once: the outbox can be asked what it got
            batch = admit(batch)
        rows = DevOutboxMessage.objects.bulk_create([self._row(m) for m in batch])
        for message, row in zip(batch, rows, strict=True):
            yield message, Accepted(row.provider_message_id, "delivered")

    def find(self, message: OutgoingMessage) -> Accepted | None:
        row = DevOutboxMessage.objects.filter(notification_id=message.notification_id).first()
        return Accepted(row.provider_message_id, "delivered") if row else None
