"""A local SMTP server for the demo: accepts every email and files it in the development
outbox, exactly as it arrived, so /dev/outbox shows what a mail client would show."""

from __future__ import annotations

import asyncio
import email
import re
import uuid
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from victim_notify.providers.models import DevOutboxMessage

_UUID_IN_ID = re.compile(r"<([0-9a-f-]{36})@")


def _parts(message: EmailMessage) -> tuple[str, str]:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else ""
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def file_email(raw: bytes, sender: str, recipients: list[str]) -> DevOutboxMessage:
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
    text, html = _parts(message)
    match = _UUID_IN_ID.search(str(message.get("Message-ID", "")))
    return DevOutboxMessage.objects.create(
        channel="email",
        notification_id=uuid.UUID(match.group(1)) if match else None,
        provider_message_id=f"SINK{uuid.uuid4().hex}",
        sender=sender,
        recipient=", ".join(recipients),
        subject=str(message.get("Subject", ""))[:300],
        body=text,
        html=html,
    )


class OutboxHandler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.to_thread(
            file_email,
            envelope.original_content or envelope.content,
            envelope.mail_from,
            list(envelope.rcpt_tos),
        )
        return "250 Message accepted for delivery"


def start_sink(host: str = "127.0.0.1", port: int = 2525) -> Controller:
    controller = Controller(OutboxHandler(), hostname=host, port=port)
    controller.start()
    return controller
