"""The agency's mailbox: an SMTP server its MX or relay forwards two kinds of mail to.

- Bounces: mail to the VERP bounce address (`bounces+<notification id>@…`, see
  VN_BOUNCE_ADDRESS) or any delivery status notification (RFC 3464). Only `Action: failed`
  is a failure; it goes to `delivery.record_status` for the notification named by the VERP
  address or by the returned message's Message-ID (`<uuid@domain>`), which stores a mailbox
  that does not exist (5.1.1) on the contact. `delayed` is kept as an event; `delivered` is
  not news.
- Replies to the agencies' reply-to (or sender) addresses: the new words only, without the
  quoted original (`email_text.py`), go to `replies.inbound.receive` like a text would.

Automatic mail (out-of-office answers, list traffic, anything from our own addresses) is
logged and otherwise dropped: answering it could start a loop between two robots.

A message is answered 250 only once it is stored, and 451 (try again later) when storing
failed, so the relay keeps it: nothing is lost to a crash or a database outage.
"""

from __future__ import annotations

import asyncio
import email
import hashlib
import logging
import re
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import close_old_connections, connections

from victim_notify.agencies.models import Agency
from victim_notify.messages.delivery import record_status
from victim_notify.messages.models import Notification
from victim_notify.replies import dsn
from victim_notify.replies.email_text import new_text
from victim_notify.replies.inbound import agencies_for, receive

log = logging.getLogger(__name__)

DATA_SIZE_LIMIT = 10 * 1024 * 1024  # a reply with a few photos; larger mail is refused
_AUTOMATIC_PRECEDENCE = {"bulk", "auto_reply", "list", "junk"}
_AUTOMATIC_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoresponder",
    "X-AutoReply-From",
    "X-Mail-Autoreply",
    "X-Auto-Response-Suppress",  # Exchange puts it on what it generates itself
    "List-Id",
)
_AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[ -]?(?:reply|response)|out of (?:the )?office"
    r"|respuesta autom[aá]tica|fuera de la oficina)\b",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|fw|fwd|rv|res)\s*:\s*)+", re.IGNORECASE)


# ---- what kind of mail it is ---------------------------------------------------------------


def _verp_notification(recipients: list[str]) -> uuid.UUID | None:
    bounce = settings.BOUNCE_ADDRESS
    if not bounce:
        return None
    local, _, domain = bounce.rpartition("@")
    pattern = re.compile(
        rf"^{re.escape(local)}\+([0-9a-f-]{{36}})@{re.escape(domain)}$", re.IGNORECASE
    )
    for recipient in recipients:
        match = pattern.match(recipient.strip("<>"))
        if match:
            try:
                return uuid.UUID(match.group(1))
            except ValueError:
                continue
    return None


def is_automatic(message: EmailMessage, mail_from: str) -> str:
    """Why this message was written by a machine (RFC 3834 and the usual vendor headers),
    or "" for a person."""
    if mail_from.strip("<>") == "":
        return "null sender"
    submitted = str(message.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    for header in _AUTOMATIC_HEADERS:
        if header in message:
            return header
    for header in ("Precedence", "X-Precedence"):
        if str(message.get(header, "")).strip().lower() in _AUTOMATIC_PRECEDENCE:
            return header
    if _AUTOMATIC_SUBJECT.match(str(message.get("Subject", ""))):
        return "subject"
    return ""


def _our_addresses() -> set[str]:
    addresses = {
        address.lower()
        for pair in Agency.objects.values_list("sender_email", "reply_to")
        for address in pair
        if address
    }
    if settings.BOUNCE_ADDRESS:
        addresses.add(settings.BOUNCE_ADDRESS.lower())
    return addresses


def _from_address(message: EmailMessage) -> str:
    try:
        header = message["From"]
        addresses = getattr(header, "addresses", ())
    except (IndexError, ValueError, TypeError):  # a From the parser cannot read
        return ""
    if not addresses:
        return ""
    first: Address = addresses[0]
    return first.addr_spec if first.domain else ""


def accepts(recipient: str) -> bool:
    """Whether mail to this address is ours to take: an agency's reply-to or sender address,
    or the bounce address (plain or VERP)."""
    address = recipient.strip("<>").lower()
    bounce = (settings.BOUNCE_ADDRESS or "").lower()
    if bounce:
        local, _, domain = bounce.rpartition("@")
        if address == bounce or (
            address.startswith(f"{local}+") and address.endswith(f"@{domain}")
        ):
            return True
    return bool(agencies_for("email", address))


# ---- acting on it --------------------------------------------------------------------------


def handle_message(raw: bytes, mail_from: str, recipients: list[str]) -> str:
    """Act on one message from the mailbox; returns what was done, for the log and tests."""
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
    assert isinstance(message, EmailMessage)
    verp_id = _verp_notification(recipients)
    if verp_id is not None or dsn.is_delivery_report(message):
        return _bounce(message, mail_from, verp_id)
    automatic = is_automatic(message, mail_from)
    if automatic:
        log.info("automatic mail ignored", extra={"why": automatic})
        return "ignored_automatic"
    sender = _from_address(message)
    if not sender:
        log.warning("mail without a readable From ignored")
        return "ignored_no_sender"
    if sender.lower() in _our_addresses():
        log.warning("mail from our own address ignored (a loop?)")
        return "ignored_own"
    body = new_text(message)
    subject = _REPLY_PREFIX.sub("", str(message.get("Subject", ""))).strip()
    if subject.lower() == "unsubscribe":
        # The mailto: form of List-Unsubscribe: the request is the subject, and what a mail
        # client puts in the body ("This message was automatically generated…") is not.
        body = f"unsubscribe\n\n{body}".strip()
    to_address = next((r for r in recipients if agencies_for("email", r)), recipients[0])
    message_id = str(message.get("Message-ID", "")).strip()[:200]
    inbound = receive(
        channel="email",
        to_address=to_address,
        from_address=sender,
        body=body,
        provider="smtp",
        provider_message_id=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
    )
    if inbound is None:
        return "ignored_unreadable_sender"
    log.info("email reply received", extra={"reply": str(inbound.pk), "intent": inbound.intent})
    return f"reply_{inbound.intent}"


def _bounce(message: EmailMessage, mail_from: str, verp_id: uuid.UUID | None) -> str:
    report = dsn.parse(message)
    note_id = verp_id
    if note_id is None and report is not None:
        note_id = dsn.notification_id(report.original_message_id)
    if note_id is None and report is not None:
        # Some servers return nothing of the message but answer it as a reply would.
        note_id = dsn.notification_id(
            f"{message.get('In-Reply-To', '')} {message.get('References', '')}"
        )
    if note_id is None:
        log.warning("bounce about no message of ours")
        return "bounce_unmatched"
    if report is None or not report.recipients:
        return _bounce_without_report(message, mail_from, note_id)
    chosen = _chosen(report, note_id)
    if chosen.action == "failed":
        record_status(
            source="dsn",
            provider_status="bounced",
            error_code=chosen.status,
            detail=chosen.diagnostic or f"failed {chosen.status}",
            notification_id=note_id,
        )
        log.info("bounce recorded", extra={"notification": str(note_id), "code": chosen.status})
        return "bounce_failed"
    if chosen.action == "delayed":
        record_status(
            source="dsn",
            provider_status="delayed",
            error_code=chosen.status,
            detail=chosen.diagnostic or f"delayed {chosen.status}",
            notification_id=note_id,
        )
        return "bounce_delayed"
    log.info(
        "delivery report ignored", extra={"notification": str(note_id), "action": chosen.action}
    )
    return f"bounce_ignored_{chosen.action or 'unknown'}"


def _chosen(report: dsn.DeliveryReport, note_id: uuid.UUID) -> dsn.RecipientStatus:
    """We send to one recipient per message, but a report may list several: the one that
    failed, and of those the one that is our contact."""
    order = {"failed": 0, "delayed": 1}
    best = sorted(report.recipients, key=lambda r: order.get(r.action, 2))
    failed = [r for r in best if r.action == best[0].action]
    if len(failed) > 1:
        contact = (
            Notification.objects.filter(pk=note_id).values_list("contact__value", flat=True).first()
        )
        for recipient in failed:
            if contact and contact.lower() in (
                recipient.recipient.lower(),
                recipient.original_recipient.lower(),
            ):
                return recipient
    return best[0]


def _bounce_without_report(message: EmailMessage, mail_from: str, note_id: uuid.UUID) -> str:
    """Mail to a VERP address that is not a DSN: an old-style bounce in plain words, or an
    autoresponder answering the envelope sender. Only a permanent code in the text counts."""
    automatic = is_automatic(message, mail_from) if mail_from.strip("<>") else ""
    if automatic:
        log.info("automatic mail to the bounce address ignored", extra={"why": automatic})
        return "ignored_automatic"
    part = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if part is not None:
        try:
            text = str(part.get_content())
        except (LookupError, UnicodeError):
            text = ""
    code = dsn.ENHANCED_STATUS.search(text)
    if code is None or not code.group(1).startswith("5."):
        log.warning(
            "mail to the bounce address without a failure code",
            extra={"notification": str(note_id)},
        )
        return "bounce_unreadable"
    line = next((x.strip() for x in text.splitlines() if code.group(1) in x), code.group(1))
    record_status(
        source="dsn",
        provider_status="bounced",
        error_code=code.group(1),
        detail=line[:500],
        notification_id=note_id,
    )
    return "bounce_failed"


def _handle_in_thread(raw: bytes, mail_from: str, recipients: list[str]) -> str:
    close_old_connections()
    try:
        return handle_message(raw, mail_from, recipients)
    finally:
        # This runs on a pool thread the event loop may never use again: leave no
        # connection open behind it.
        connections.close_all()


def _accepts_in_thread(recipient: str) -> bool:
    close_old_connections()
    try:
        return accepts(recipient)
    finally:
        connections.close_all()


class MailboxHandler:
    """aiosmtpd handler. Database work runs on a thread, off the event loop."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        try:
            ours = await asyncio.to_thread(_accepts_in_thread, address)
        except Exception:
            log.exception("could not check a recipient")
            return "451 4.3.0 Temporary local problem, try again later"
        if not ours:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        try:
            outcome = await asyncio.to_thread(
                _handle_in_thread, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except Exception:
            log.exception("could not store a message from the mailbox")
            return "451 4.3.0 Temporary local problem, try again later"
        log.info("mailbox message handled", extra={"outcome": outcome})
        return "250 2.0.0 Ok"


def start_mailbox(host: str = "127.0.0.1", port: int = 2526) -> Controller:
    controller = Controller(
        MailboxHandler(),
        hostname=host,
        port=port,
        data_size_limit=DATA_SIZE_LIMIT,
        enable_SMTPUTF8=True,
    )
    controller.start()
    return controller
