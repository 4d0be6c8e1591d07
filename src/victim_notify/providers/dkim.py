"""DKIM signatures on outgoing email (RFC 6376), made with dkimpy.

The signing domain is the From domain, so the signature aligns for DMARC; each agency's From
domain publishes the selector's public key at `<selector>._domainkey.<domain>`. The signature
covers the headers a receiver trusts or acts on: who it is from and to, the subject, the date,
the Message-ID (which carries the notification's id), the Reply-To, the MIME structure and the
RFC 8058 one-click unsubscribe headers, which RFC 8058 requires to be signed. Each of them is
listed once more than it occurs ("over-signed"), so a relay or an attacker cannot add a second
From, Reply-To or List-Unsubscribe without breaking the signature.

Relaxed/relaxed canonicalisation survives the re-folding and whitespace changes relays make;
8-bit text parts are re-encoded as quoted-printable before signing, since a relay that has to
down-convert 8-bit mail to 7-bit would otherwise break the body hash.
"""

from __future__ import annotations

import email.charset
import email.encoders
import re
from dataclasses import dataclass
from email.message import Message

import dkim
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

SIGNED_HEADERS: tuple[bytes, ...] = (
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"in-reply-to",
    b"references",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"auto-submitted",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
)
_HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.MULTILINE)


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    private_key: bytes  # PEM, PKCS#1 or PKCS#8

    @classmethod
    def from_settings(cls) -> DkimSigner | None:
        """The signer configured by DKIM_SELECTOR and DKIM_PRIVATE_KEY (or _FILE), or None.
        One without the other, or a key dkimpy cannot read, stops the process at start-up."""
        selector = getattr(settings, "DKIM_SELECTOR", None)
        key = getattr(settings, "DKIM_PRIVATE_KEY", None)
        if not selector and not key:
            return None
        if not selector or not key:
            raise ImproperlyConfigured(
                "DKIM signing needs both DKIM_SELECTOR and DKIM_PRIVATE_KEY "
                "(or DKIM_PRIVATE_KEY_FILE)."
            )
        if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?", selector):
            raise ImproperlyConfigured(f"DKIM_SELECTOR={selector!r} is not a DNS label.")
        # A key pasted into an environment variable often has its line ends written as "\n".
        pem = key.replace("\\n", "\n").replace("\r\n", "\n").strip() + "\n"
        try:
            parse_pem_private_key(pem.encode())
        except (UnparsableKeyError, ValueError) as exc:
            raise ImproperlyConfigured(
                f"DKIM_PRIVATE_KEY is not an RSA private key in PEM form: {exc}"
            ) from None
        return cls(selector=selector, private_key=pem.encode())

    def sign(self, raw: bytes, domain: str) -> bytes:
        """The message with a DKIM-Signature header in front of it."""
        present = [m.group(1).lower() for m in _HEADER_NAME.finditer(raw.split(b"\r\n\r\n", 1)[0])]
        include = [name for name in present if name in SIGNED_HEADERS] + list(SIGNED_HEADERS)
        signature = dkim.sign(
            raw,
            self.selector.encode(),
            domain.encode("idna"),
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=b"rsa-sha256",
            include_headers=include,
            linesep=b"\r\n",
        )
        return signature + raw


_QP_UTF8 = email.charset.Charset("utf-8")
_QP_UTF8.body_encoding = email.charset.QP


def seven_bit(message: Message) -> None:
    """Re-encode 8-bit text parts as quoted-printable, in place, so the signed body is the
    body that arrives whatever relays it passes through."""
    for part in message.walk():
        if part.is_multipart():
            continue
        if str(part.get("Content-Transfer-Encoding", "")).lower() != "8bit":
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)  # what a part that is not multipart decodes to
        text = payload.decode(part.get_content_charset() or "utf-8")
        del part["Content-Transfer-Encoding"]
        part.set_payload(text, _QP_UTF8)
