"""One-click unsubscribe (RFC 8058): the headers on every email, the signed link, and the page
a mail client POSTs to without cookies."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest
from django.core import signing
from django.test import Client
from django.urls import include, path

from tests.conftest import make_record
from tests.fakes.smtp_server import SmtpServer
from victim_notify.contacts.models import OptOut, OptOutSource
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.unsubscribe import (
    read_unsubscribe_token,
    unsubscribe_headers,
    unsubscribe_token,
)
from victim_notify.providers import registry
from victim_notify.rules.models import Decision

# The project's urls.py includes victim_notify.messages.urls; these tests do not depend on it.
urlpatterns = [path("", include("victim_notify.messages.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def take_in(agency, *records):
    return ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
    )


def email_note(agency, **victim) -> Notification:
    take_in(agency, make_record(victim={"phone": "", "email": "ana@example.com", **victim}))
    return Notification.objects.filter(channel="email").latest("created_at")


def link_path(note: Notification) -> str:
    return f"/u/{unsubscribe_token(note.pk)}"


@pytest.fixture
def smtp(settings, monkeypatch):
    # Until messages/sender.outgoing() adds the headers itself, add them the way it will.
    plain = sender.outgoing

    def with_headers(note):
        return dataclasses.replace(plain(note), headers=unsubscribe_headers(note))

    monkeypatch.setattr(sender, "outgoing", with_headers)
    with SmtpServer() as server:
        settings.EMAIL_URL = server.url
        registry.reset()
        yield server


def test_every_email_to_a_victim_carries_the_one_click_headers(agency):
    note = email_note(agency)
    headers = unsubscribe_headers(note)
    token = unsubscribe_token(note.pk)
    assert headers == {
        "List-Unsubscribe": (
            f"<https://notify.testville.example/u/{token}>, "
            "<mailto:victims@testville.example?subject=unsubscribe>"
        ),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert len(token) <= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert read_unsubscribe_token(token) == note.pk
    assert "ana" not in token.lower()


def test_without_a_reply_to_only_the_link_is_given(agency):
    agency.reply_to = ""
    agency.save()
    note = email_note(agency)
    assert unsubscribe_headers(note)["List-Unsubscribe"] == (
        f"<https://notify.testville.example/u/{unsubscribe_token(note.pk)}>"
    )


def test_texts_and_staff_alerts_get_no_unsubscribe_headers(agency):
    take_in(agency, make_record())
    text = Notification.objects.get(channel="sms")
    assert unsubscribe_headers(text) == {}
    alert = Notification(
        agency=agency, channel="email", kind=MessageKind.STAFF_ALERT, id=uuid.uuid4()
    )
    assert unsubscribe_headers(alert) == {}


def test_one_click_post_without_cookies_opts_out_silently(agency):
    note = email_note(agency)
    before = Notification.objects.count()
    client = Client(enforce_csrf_checks=True)  # as a mail client: no cookie, no CSRF token
    response = client.post(
        link_path(note),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "Location" not in response
    assert not response.cookies
    assert b"no more emails" in response.content
    opt_out = OptOut.objects.get(agency=agency, contact=note.contact, revoked_at=None)
    assert opt_out.source == OptOutSource.REPLY
    # Nothing is sent back: no confirmation email, no other message.
    assert Notification.objects.count() == before
    assert not Notification.objects.filter(kind=MessageKind.OPT_OUT_CONFIRMATION).exists()
    # Pressing it twice is harmless.
    again = client.post(link_path(note), {"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert OptOut.objects.filter(contact=note.contact).count() == 1


def test_one_click_cancels_what_is_still_waiting_for_that_address(agency):
    agency.post_approval_delay_minutes = 30
    agency.save()
    note = email_note(agency)
    assert note.status == Status.PENDING
    response = Client().post(link_path(note), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    note.refresh_from_db()
    assert note.status == Status.CANCELLED and note.status_reason_codes == ["opted_out"]


def test_opening_the_link_shows_a_button_and_changes_nothing(agency):
    note = email_note(agency)
    response = Client().get(link_path(note))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert re.search(r'<form method="post" action="/u/[A-Za-z0-9_-]+">', page)
    assert '<button type="submit"' in page and "Stop emails" in page
    assert response["X-Robots-Tag"] == "noindex" and response["Referrer-Policy"] == "no-referrer"
    assert not OptOut.objects.exists()


def test_the_page_speaks_the_language_of_the_email(agency):
    note = email_note(agency, language="es")
    assert note.language == "es"
    page = Client().get(link_path(note)).content.decode()
    assert '<html lang="es">' in page and "Dejar de recibir correos" in page
    done = Client().post(link_path(note)).content.decode()
    assert "no enviará más correos" in done


def test_a_forged_or_unknown_link_is_not_found(agency, settings):
    note = email_note(agency)
    token = unsubscribe_token(note.pk)
    forged = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    # The last character holds 2 unused bits: another spelling of the same bytes.
    respelled = token[:-1] + chr(ord(token[-1]) ^ 1)
    for bad in (forged, respelled, "x", token + "A", unsubscribe_token(uuid.uuid4())):
        assert Client().post(f"/u/{bad}").status_code == 404
        assert Client().get(f"/u/{bad}").status_code == 404
    with pytest.raises(signing.BadSignature):
        read_unsubscribe_token(forged)
    # A link made with any other secret (someone guessing how tokens are built) is useless.
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    assert Client().post(f"/u/{token}").status_code == 404
    assert not OptOut.objects.exists()


def test_links_survive_a_rotated_secret_key(agency, settings):
    note = email_note(agency)
    token = unsubscribe_token(note.pk)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-" + "y" * 40
    assert Client().post(f"/u/{token}").status_code == 200
    assert OptOut.objects.filter(contact=note.contact).exists()


def test_only_post_and_get_are_answered(agency):
    note = email_note(agency)
    assert Client().put(link_path(note)).status_code == 405


def test_unsubscribing_from_the_received_email_stops_the_next_report(agency, smtp):
    take_in(agency, make_record(victim={"phone": "", "email": "ana@example.com"}))
    while sender.send_due("w1"):
        pass
    [received] = smtp.received
    header = str(received.message["List-Unsubscribe"])
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.search(r"<(https://[^>]+)>", header).group(1)
    assert url.startswith("https://notify.testville.example/u/")
    response = Client().post(url.removeprefix("https://notify.testville.example"))
    assert response.status_code == 200
    take_in(agency, make_record(victim={"phone": "", "email": "ana@example.com"}))
    latest = Decision.objects.filter(channel="email").latest("created_at")
    assert not latest.send and "opted_out" in latest.reason_codes
    assert len(smtp.received) == 1
