"""DKIM signatures on outgoing email, checked with dkimpy's own verifier against a DNS answer
holding the test's public key, on the bytes the SMTP server received."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from tests.conftest import make_record, subprocess_env
from tests.fakes.smtp_server import SmtpServer
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import Notification
from victim_notify.providers import registry
from victim_notify.providers.base import OutgoingMessage
from victim_notify.providers.dkim import DkimSigner
from victim_notify.providers.smtp import SmtpProvider, SmtpSettings

SELECTOR = "vn2026"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def dns(key_pair):
    asked: list[str] = []

    def txt(name: bytes | str, timeout: float = 5) -> bytes | None:
        name = name.decode() if isinstance(name, bytes) else name
        asked.append(name)
        return key_pair[1] if name == f"{SELECTOR}._domainkey.testville.example." else None

    txt.asked = asked  # type: ignore[attr-defined]
    return txt


@pytest.fixture
def smtp(settings, key_pair):
    settings.DKIM_SELECTOR = SELECTOR
    settings.DKIM_PRIVATE_KEY = key_pair[0]
    with SmtpServer() as server:
        settings.EMAIL_URL = server.url
        registry.reset()
        yield server


def message(**changes) -> OutgoingMessage:
    values = {
        "notification_id": uuid.uuid4(),
        "channel": "email",
        "to": "ana.ruiz@example.com",
        "sender": "notify@testville.example",
        "sender_name": "Testville Police Department",
        "reply_to": "victims@testville.example",
        "subject": "Su reporte policial T-000001",
        "body": "Número de reporte: T-000001\nZoë O'Brien " + "x" * 90,
        "html": "<p>Número de reporte: <strong>T-000001</strong></p>",
        "headers": {
            "List-Unsubscribe": "<https://notify.testville.example/u/abc>, "
            "<mailto:victims@testville.example?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    values.update(changes)
    return OutgoingMessage(**values)


def signed_fields(raw: bytes) -> list[str]:
    header = raw.split(b"\r\n\r\n", 1)[0].decode()
    signature = header.split("DKIM-Signature:", 1)[1]
    tags = dict(
        tag.strip().split("=", 1) for tag in "".join(signature.split()).split(";") if "=" in tag
    )
    return tags["h"].split(":"), tags


@pytest.mark.django_db
def test_email_sent_through_the_worker_is_signed_and_verifies(agency, smtp, dns):
    ingest(
        agency,
        [IncomingRecord.from_object(0, make_record(victim={"email": "ana@example.com"}))],
        source="api",
    )
    while sender.send_due("w1"):
        pass
    note = Notification.objects.get(channel="email")
    [received] = smtp.received
    assert received.message["Message-ID"] == f"<{note.pk}@testville.example>"
    assert dkim.verify(received.raw, dnsfunc=dns)
    assert dns.asked == [f"{SELECTOR}._domainkey.testville.example."]
    fields, tags = signed_fields(received.raw)
    assert tags["d"] == "testville.example" and tags["s"] == SELECTOR
    assert tags["a"] == "rsa-sha256" and tags["c"] == "relaxed/relaxed"
    for name in ("from", "to", "subject", "date", "message-id", "mime-version", "content-type"):
        assert name in fields


def test_signature_covers_the_unsubscribe_headers_and_tampering_breaks_it(smtp, dns):
    provider = SmtpProvider(SmtpSettings.from_url(smtp.url, 5.0))
    provider.send(message())
    provider.close()
    raw = smtp.received[0].raw
    assert dkim.verify(raw, dnsfunc=dns)
    fields, _ = signed_fields(raw)
    assert "list-unsubscribe" in fields and "list-unsubscribe-post" in fields
    # Over-signed: listed once more than they occur, so none can be added.
    assert fields.count("from") == 2 and fields.count("list-unsubscribe") == 2
    assert fields.count("reply-to") == 2

    head, body = raw.split(b"\r\n\r\n", 1)
    changed_link = raw.replace(b"/u/abc>", b"/u/abd>")
    assert changed_link != raw and not dkim.verify(changed_link, dnsfunc=dns)
    extra_header = head + b"\r\nList-Unsubscribe: <https://evil.example/u/x>\r\n\r\n" + body
    assert not dkim.verify(extra_header, dnsfunc=dns)
    extra_reply_to = head + b"\r\nReply-To: thief@evil.example\r\n\r\n" + body
    assert not dkim.verify(extra_reply_to, dnsfunc=dns)
    changed_body = raw.replace(b"T-000001", b"T-000002")
    assert not dkim.verify(changed_body, dnsfunc=dns)
    # Relaxed canonicalisation: a relay re-folding a header does not break it.
    refolded = raw.replace(b"\r\nSubject: ", b"\r\nSubject:\r\n\t", 1)
    assert dkim.verify(refolded, dnsfunc=dns)


def test_signed_body_is_seven_bit_so_relays_need_not_convert_it(smtp, dns):
    provider = SmtpProvider(SmtpSettings.from_url(smtp.url, 5.0))
    provider.send(message())
    provider.close()
    [received] = smtp.received
    assert all(byte < 128 for byte in received.raw)
    text = received.message.get_body(("plain",)).get_content()
    assert "Número de reporte: T-000001\nZoë O'Brien" in text.replace("\r\n", "\n")
    assert "Número" in received.message.get_body(("html",)).get_content()


def test_a_half_configured_or_unreadable_key_stops_the_provider(settings):
    settings.EMAIL_URL = "smtp://127.0.0.1:2525"
    settings.DKIM_SELECTOR, settings.DKIM_PRIVATE_KEY = SELECTOR, None
    registry.reset()
    with pytest.raises(ImproperlyConfigured, match="both"):
        registry.provider_for("email")
    settings.DKIM_PRIVATE_KEY = (
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----"
    )
    with pytest.raises(ImproperlyConfigured, match="not an RSA private key"):
        registry.provider_for("email")
    settings.DKIM_SELECTOR = settings.DKIM_PRIVATE_KEY = None
    assert registry.provider_for("email").signer is None


def test_key_given_with_escaped_line_ends_is_read(settings, key_pair):
    settings.DKIM_SELECTOR = SELECTOR
    settings.DKIM_PRIVATE_KEY = key_pair[0].strip().replace("\n", "\\n")
    signer = DkimSigner.from_settings()
    assert signer is not None and signer.private_key == key_pair[0].encode()


def test_private_key_can_be_given_as_a_file(tmp_path, key_pair):
    key_file = tmp_path / "dkim.pem"
    key_file.write_text(key_pair[0])
    code = (
        "import django; django.setup();"
        "from victim_notify.providers.dkim import DkimSigner;"
        "s = DkimSigner.from_settings(); print(s.selector, s.private_key.startswith(b'-----BEGIN'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(
            DJANGO_SETTINGS_MODULE="victim_notify.settings",
            DKIM_SELECTOR=SELECTOR,
            DKIM_PRIVATE_KEY_FILE=str(key_file),
        ),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == [SELECTOR, "True"]
