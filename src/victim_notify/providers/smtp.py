"""Email over SMTP, to the agency's relay or a mail provider's submission port.

The notification's UUID is the Message-ID, so a bounce or a reply can be matched to it. SMTP
keeps no record we can query, so when the connection drops after the message body was sent,
we cannot know whether the server took it: that is recorded as an unknown outcome for a
person to decide, never retried blindly.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import formataddr
from urllib.parse import unquote, urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives

from victim_notify.providers.base import (
    Accepted,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentFailure,
    Provider,
    ProviderError,
    TransientFailure,
)
from victim_notify.providers.dkim import DkimSigner, seven_bit


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str
    password: str
    timeout: float

    @classmethod
    def from_url(cls, url: str, timeout: float) -> SmtpSettings:
        parts = urlsplit(url)
        security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}.get(parts.scheme)
        if security is None or not parts.hostname:
            raise ImproperlyConfigured(
                f"EMAIL_URL must look like smtp://host:port, smtp+starttls:// or smtps://, not {parts.scheme}://"
            )
        default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
        )


def build_email(message: OutgoingMessage, signer: DkimSigner | None = None) -> bytes:
    """The message as it goes on the wire (CRLF line ends), built with Django's mail classes:
    the same result as the standard library's newer EmailMessage API at a quarter of its cost,
    which matters when a month of emails is sent at once. The message's own headers (the
    RFC 8058 List-Unsubscribe pair) go in too, but cannot replace the ones set here; with a
    signer, the From domain signs it all (DKIM)."""
    sender = Address(addr_spec=message.sender)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=formataddr((message.sender_name, message.sender)),
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={
            **message.headers,
            "Message-ID": f"<{message.notification_id}@{sender.domain}>",
            # RFC 3834: tells out-of-office responders not to answer.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    mime = email.message()
    # message() gives Django's SafeMIME classes, whose as_bytes takes linesep; the stubs say
    # it gives the standard library's Message.
    if signer is None:
        return mime.as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    seven_bit(mime)
    return signer.sign(mime.as_bytes(linesep="\r\n"), sender.domain)  # type: ignore[call-arg]


def envelope_sender(message: OutgoingMessage, bounce_address: str | None) -> str:
    """MAIL FROM: with a bounce address configured, a VERP address naming the notification
    (bounces+<uuid>@domain), so a bounce is matched to its message whatever its format; the
    From header stays the agency's."""
    if not bounce_address:
        return message.sender
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{message.notification_id}@{domain}"


_ENHANCED = re.compile(rb"\b([245]\.\d{1,3}\.\d{1,3})\b")


def _failure(code: int, reply: bytes | str, stage: str) -> ProviderError:
    """5xx is permanent, 4xx temporary. The code kept is the enhanced status when the server
    gives one (RFC 3463: 5.1.1 says the mailbox does not exist; 5.7.1 is a policy refusal,
    often the relay's own set-up, which says nothing about the recipient)."""
    if isinstance(reply, str):  # smtplib's own errors carry text, the server's bytes
        reply = reply.encode()
    text = f"{stage}: {code} {reply.decode(errors='replace')}"[:300]
    enhanced = _ENHANCED.search(reply)
    kept = enhanced.group(1).decode() if enhanced else str(code)
    if 500 <= code < 600:
        return PermanentFailure(text, code=kept)
    return TransientFailure(text, code=kept)


class SmtpProvider(Provider):
    name = "smtp"
    channel = "email"

    def __init__(self, settings: SmtpSettings, concurrency: int = 4) -> None:
        super().__init__(concurrency)
        self.settings = settings
        self.signer = DkimSigner.from_settings()
        self.bounce_address: str | None = getattr(django_settings, "BOUNCE_ADDRESS", None)
        if self.bounce_address and "@" not in self.bounce_address:
            raise ImproperlyConfigured(
                f"VN_BOUNCE_ADDRESS={self.bounce_address!r} is not an email address."
            )
        self._local = threading.local()
        self._open: set[smtplib.SMTP] = set()
        self._lock = threading.Lock()

    def _connection(self) -> smtplib.SMTP:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        s = self.settings
        try:
            if s.security == "tls":
                conn = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            conn.ehlo_or_helo_if_needed()
            if s.username:
                conn.login(s.username, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientFailure(
                f"SMTP login refused: {exc.smtp_code}", code=str(exc.smtp_code)
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientFailure(
                f"cannot connect to SMTP server: {exc}"[:300], code="connect"
            ) from exc
        self._local.conn = conn
        with self._lock:
            self._open.add(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            self._close(conn)

    def _close(self, conn: smtplib.SMTP) -> None:
        with self._lock:
            self._open.discard(conn)
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()

    def send(self, message: OutgoingMessage) -> Accepted:
        payload = build_email(message, self.signer)
        for attempt in (1, 2):
            conn = self._connection()
            try:
                code, reply = conn.mail(envelope_sender(message, self.bounce_address))
                if code != 250:
                    conn.rset()
                    raise _failure(code, reply, "MAIL FROM")
                code, reply = conn.rcpt(message.to)
                if code not in (250, 251):
                    conn.rset()
                    raise _failure(code, reply, "RCPT TO")
                break
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                # Servers close idle connections; nothing of this message was sent yet, so
                # one fresh connection is safe.
                self._drop()
                if attempt == 2:
                    raise TransientFailure(
                        f"SMTP connection lost: {exc}"[:300], code="connection"
                    ) from exc
        try:
            code, reply = conn.data(payload)
        except smtplib.SMTPDataError as exc:
            conn.rset()
            raise _failure(exc.smtp_code, exc.smtp_error, "DATA") from exc
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            raise OutcomeUnknown(
                f"SMTP connection lost while sending the message: {exc}"[:300], code="lost"
            ) from exc
        if code != 250:
            raise _failure(code, reply, "end of DATA")
        return Accepted(
            provider_message_id=f"{message.notification_id}", provider_status="accepted"
        )

    def health_check(self) -> bool:
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=min(s.timeout, 5.0)) as conn:
                return conn.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def close(self) -> None:
        super().close()
        with self._lock:
            remaining = list(self._open)
        for conn in remaining:
            self._close(conn)
        self._local = threading.local()
