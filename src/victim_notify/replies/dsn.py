"""Reading bounces: delivery status notifications (RFC 3464, and RFC 6533's UTF-8 forms).

A DSN is a `multipart/report; report-type=delivery-status`: a human-readable part, a
`message/delivery-status` part with one block of fields about the message and one per
recipient (Final-Recipient, Action, Status, Diagnostic-Code), and usually the original
message or its headers, whose Message-ID names our notification. Servers differ in the
details (Postfix, Exchange and Gmail all fold, comment and order the fields their own way),
so this reads the fields from the text itself and is lenient about everything but the
Action and the Status.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

#: An RFC 3463 enhanced status code: class.subject.detail.
ENHANCED_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_OUR_MESSAGE_ID = re.compile(
    r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^>\s]+>", re.IGNORECASE
)
_STATUS_TYPES = {"message/delivery-status", "message/global-delivery-status"}
_RETURNED_MESSAGE_TYPES = {"message/rfc822", "message/global"}
_RETURNED_HEADER_TYPES = {"text/rfc822-headers", "message/global-headers"}


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str  # the Final-Recipient's address
    original_recipient: str
    action: str  # failed, delayed, delivered, relayed or expanded
    status: str  # e.g. "5.1.1"
    diagnostic: str  # e.g. "smtp; 550 5.1.1 <…>: Recipient address rejected: User unknown"


@dataclass(frozen=True)
class DeliveryReport:
    reporting_mta: str
    recipients: tuple[RecipientStatus, ...]
    original_message_id: str  # of the message that bounced, "" when not returned


def is_delivery_report(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def parse(message: Message) -> DeliveryReport | None:
    """The report in a DSN, or None when the message is not one."""
    if not is_delivery_report(message):
        return None
    blocks: list[dict[str, str]] = []
    original_message_id = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in _STATUS_TYPES and not blocks:
            blocks = _status_blocks(part)
        elif content_type in _RETURNED_MESSAGE_TYPES and not original_message_id:
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                original_message_id = str(payload[0].get("Message-ID", "")).strip()
            elif isinstance(payload, str):
                original_message_id = _message_id_in_headers(_text(part))
        elif content_type in _RETURNED_HEADER_TYPES and not original_message_id:
            original_message_id = _message_id_in_headers(_text(part))
    if not blocks:
        return None
    per_message = blocks[0] if "final-recipient" not in blocks[0] else {}
    # Gmail names the bounced message in the report itself, whatever it returns of it.
    original_message_id = original_message_id or per_message.get("x-original-message-id", "")
    recipients = tuple(
        _recipient(block) for block in blocks if "final-recipient" in block or "action" in block
    )
    return DeliveryReport(
        reporting_mta=_after_type(per_message.get("reporting-mta", "")),
        recipients=recipients,
        original_message_id=original_message_id,
    )


def notification_id(message_id: str) -> uuid.UUID | None:
    """Our notification's id in a Message-ID we made (`<uuid@sender domain>`), else None."""
    match = _OUR_MESSAGE_ID.search(message_id or "")
    return uuid.UUID(match.group(1)) if match else None


def _recipient(block: dict[str, str]) -> RecipientStatus:
    diagnostic = block.get("diagnostic-code", "")
    status_match = ENHANCED_STATUS.search(block.get("status", ""))
    status = status_match.group(1) if status_match else ""
    in_diagnostic = ENHANCED_STATUS.search(diagnostic)
    # Some servers report a bare "5.0.0" and give the precise code only in the diagnostic.
    if in_diagnostic and (
        not status or (status.endswith(".0.0") and in_diagnostic.group(1)[0] == status[0])
    ):
        status = in_diagnostic.group(1)
    action = re.split(r"[\s(;]", block.get("action", "").strip().lower(), maxsplit=1)[0]
    return RecipientStatus(
        recipient=_after_type(block.get("final-recipient", "")),
        original_recipient=_after_type(block.get("original-recipient", "")),
        action=action,
        status=status,
        diagnostic=diagnostic,
    )


def _after_type(value: str) -> str:
    """ "rfc822; ana@example.com" -> "ana@example.com"; "dns; mx.example.com" -> the host."""
    _, _, rest = value.partition(";")
    return (rest or value).strip().strip("<>").strip()


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part. Python's parser splits
    message/delivery-status into blocks itself, but not the RFC 6533 global form, nor a part
    sent base64-encoded; reading the text covers all three."""
    payload = part.get_payload()
    if isinstance(payload, list):
        text = "\n\n".join(
            "\n".join(f"{name}: {value}" for name, value in block.items())
            + "\n"
            + (body if isinstance(body := block.get_payload(), str) else "")
            for block in payload
            if isinstance(block, Message)  # always, in a parsed delivery-status part
        )
    else:
        text = _text(part)
    blocks = []
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        fields = _fields(chunk)
        if fields:
            blocks.append(fields)
    return blocks


def _fields(chunk: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    name = ""
    for line in chunk.split("\n"):
        if line[:1] in (" ", "\t") and name:
            fields[name] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            fields[name] = value.strip()
    return {key: " ".join(value.split()) for key, value in fields.items()}


def _text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes):
        return raw.decode(part.get_content_charset() or "utf-8", errors="replace")
    payload = part.get_payload()
    return payload if isinstance(payload, str) else ""


def _message_id_in_headers(text: str) -> str:
    return str(HeaderParser().parsestr(text.lstrip(), headersonly=True).get("Message-ID", ""))
