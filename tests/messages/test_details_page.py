"""The details page a message links to: the 8 facts in full on the agency's own site, behind a
signed link that names nobody and expires."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings

from tests.agency_data import AGENCY
from tests.conftest import make_record
from victim_notify.contacts.models import OptOutSource
from victim_notify.contacts.optouts import contact_for, opt_out
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.messages.render import details_token

pytestmark = pytest.mark.django_db

BASE_URL = AGENCY["agency"]["public_base_url"]
NOW = dt.datetime(2026, 12, 4, 5, 0, tzinfo=dt.UTC)
WHEN = {"en": "Dec 3, 2026, 9:10 PM", "es": "3 de diciembre de 2026, 21:10 h"}
TOKEN = re.compile(r"^[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{16}$")


# Factories local to these tests.


def victim(**changes: Any) -> dict[str, Any]:
    return {"email": "ana@example.com", **changes}


def report(**changes: Any) -> dict[str, Any]:
    return make_record(reported_at="2026-12-04T04:10:00Z", **changes)


def take_in(agency, *records: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    summary = ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
    )
    assert not [r for r in summary.results if r.outcome == "quarantined"], summary.as_dict()


def run_until_quiet() -> None:
    while sender.send_due("w1"):
        pass


def words(language: str, code: str = "23F") -> dict[str, str]:
    offense = next(o for o in AGENCY["offenses"] if o["code"] == code)
    return offense["texts"][language]


def link(note: Notification) -> str:
    [url] = re.findall(r"https?://\S+", note.body)
    return url


def path_of(url: str) -> str:
    assert url.startswith(BASE_URL + "/d/"), url
    return url.removeprefix(BASE_URL)


def visit(note: Notification):  # type: ignore[no-untyped-def]
    return Client().get(path_of(link(note)))


def assert_private(response) -> None:  # type: ignore[no-untyped-def]
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "no-referrer"
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-cache", "no-store", "private"} <= cache


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def compact_texts(agency):  # type: ignore[no-untyped-def]
    """Texts past a cap of one segment: the compact form, with its link."""
    agency.sms_segment_cap = 1
    agency.save()
    return agency


# The link.


def test_links_are_on_the_agencys_site_and_name_nobody(compact_texts):
    take_in(
        compact_texts,
        report(victim=victim(first_name="Ana", last_name="Ruiz")),
        report(victim=victim(phone="520-555-0177", email="maria@example.com", language="es")),
    )
    notes = list(Notification.objects.select_related("report", "party", "contact"))
    assert len(notes) == 4
    tokens = set()
    for note in notes:
        url = link(note)
        token = path_of(url).removeprefix("/d/")
        assert TOKEN.match(token), token
        tokens.add(token)
        private = [
            note.report.report_number,
            note.party.first_name,
            note.party.last_name,
            note.contact.value,
            note.contact.value.removeprefix("+1")[-7:],
            "0134",
            "ana",
            str(note.pk),
        ]
        for value in private:
            assert value.lower() not in url.lower().removeprefix(BASE_URL), value
    assert len(tokens) == 4  # one per message


def test_email_and_compact_text_links_both_open_the_page(compact_texts):
    take_in(compact_texts, report(victim=victim()))
    for note in Notification.objects.all():
        assert visit(note).status_code == 200, note.channel


# The page.


@pytest.mark.parametrize("language", ["en", "es"])
def test_page_shows_the_8_facts_in_full_in_the_messages_language(compact_texts, language):
    take_in(compact_texts, report(victim=victim(language=language)))
    run_until_quiet()
    note = Notification.objects.select_related("report").get(channel="sms")
    assert note.status == Status.DELIVERED

    response = visit(note)
    assert response.status_code == 200
    page = response.content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    w = words(language)
    facts = [
        note.report.report_number,
        f"23F – {w['title']}",
        "Dana Whitfield",
        WHEN[language],
        w["explanation"],
        w["next_steps"],
        "Westside Substation: (520) 555-0101",
        "Property Crimes: (520) 555-0150",
    ]
    for fact in facts:
        assert fact in text, fact
    assert AGENCY["languages"][language]["statutory_notice"] in text
    assert f'<html lang="{language}">' in page
    heading = {"en": "Police report", "es": "Reporte policial"}[language]
    assert f"{heading} {note.report.report_number}" in text
    assert_private(response)


def test_page_names_nobody_and_links_nowhere_else(compact_texts):
    take_in(compact_texts, report(victim=victim(first_name="Ana", last_name="Ruiz")))
    note = Notification.objects.get(channel="sms")
    page = visit(note).content.decode()
    for private in ["Ana", "Ruiz", "555-0134", "5550134", "ana@example.com"]:
        assert private not in page, private
    for url in re.findall(r'(?:href|src|action)="([^"]*)"', page):
        assert url.startswith(("/", "tel:")) and not url.startswith("//"), url


# Links that do not open the page.


def test_a_modified_token_is_not_found(compact_texts):
    take_in(compact_texts, report())
    token = path_of(link(Notification.objects.get())).removeprefix("/d/")
    key, mac = token.split(".")
    altered = [
        f"{key}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # the signature
        f"{'A' if key[0] != 'A' else 'B'}{key[1:]}.{mac}",  # the key
        key,  # no signature at all
        f"{key}.",
        f"{key}.{mac}x",
        f"{key}x.{mac}",
        f".{mac}",
    ]
    client = Client()
    for bad in altered:
        response = client.get(f"/d/{bad}")
        assert response.status_code == 404, bad
        assert_private(response)
    assert client.get(f"/d/{token}").status_code == 200


def test_a_random_token_is_not_found(agency):
    client = Client()
    for _ in range(5):
        response = client.get(f"/d/{secrets.token_urlsafe(9)}.{secrets.token_urlsafe(12)}")
        assert response.status_code == 404
    assert client.get("/d/").status_code == 404
    # Even a genuine signature over a key that no message has.
    assert client.get(f"/d/{details_token(secrets.token_urlsafe(9))}").status_code == 404


def test_a_token_signed_with_another_secret_is_not_found(compact_texts, settings):
    take_in(compact_texts, report())
    note = Notification.objects.get()
    with override_settings(SECRET_KEY="another installation's secret, not ours at all"):
        forged = details_token(note.details_key)
    assert forged != path_of(link(note)).removeprefix("/d/")
    assert Client().get(f"/d/{forged}").status_code == 404


def test_a_cancelled_messages_link_is_not_found(compact_texts):
    take_in(compact_texts, report(victim=victim(phone="", email="ana@example.com")))
    note = Notification.objects.get()
    assert visit(note).status_code == 200
    opt_out(
        compact_texts,
        contact_for(compact_texts, email="ana@example.com"),
        source=OptOutSource.COMMAND,
        actor_label="test",
    )
    note.refresh_from_db()
    assert note.status == Status.CANCELLED
    response = visit(note)
    assert response.status_code == 404
    assert "Dana Whitfield" not in response.content.decode()


@pytest.mark.parametrize("language", ["en", "es"])
def test_link_expires_after_the_agencys_days(compact_texts, language):
    compact_texts.details_link_days = 30
    compact_texts.save()
    take_in(compact_texts, report(victim=victim(language=language)))
    note = Notification.objects.get(channel="sms")
    limit = note.created_at + dt.timedelta(days=30)

    with time_machine.travel(limit - dt.timedelta(minutes=1), tick=False):
        assert visit(note).status_code == 200
    with time_machine.travel(limit + dt.timedelta(minutes=1), tick=False):
        response = visit(note)
    assert response.status_code == 410
    page = response.content.decode()
    expired = {"en": "This link has expired", "es": "Este enlace ya venció"}[language]
    assert expired in page and f'<html lang="{language}">' in page
    assert note.report.report_number not in page and "Dana Whitfield" not in page
    assert_private(response)


# When the case may no longer be told.


@pytest.mark.parametrize(
    "change",
    [{"domestic_violence": True}, {"offenses": ["11A"]}],
    ids=["domestic-violence-flag", "sexual-offense-code"],
)
def test_report_reclassified_as_excluded_withholds_the_case_facts(compact_texts, change):
    first = report(victim=victim(first_name="Ana"))
    take_in(compact_texts, first)
    run_until_quiet()
    note = Notification.objects.select_related("report").get(channel="sms")
    assert note.status == Status.DELIVERED
    assert visit(note).status_code == 200

    take_in(compact_texts, {**first, **change})  # the RMS amends the report
    response = visit(note)
    assert response.status_code == 200
    page = response.content.decode()
    for fact in [
        note.report.report_number,
        "23F",
        "Theft From Motor Vehicle",
        "Rape",
        "Dana Whitfield",
        "Dec 3, 2026",
        words("en")["explanation"],
        words("en")["next_steps"],
        "Special Victims",
        "(520) 555-0151",
    ]:
        assert fact not in page, fact
    assert "Westside Substation" in page and "(520) 555-0101" in page
    assert_private(response)


def test_facts_changed_after_sending_show_the_current_facts(compact_texts):
    first = report()
    take_in(compact_texts, first)
    run_until_quiet()
    note = Notification.objects.get(channel="sms")
    take_in(compact_texts, {**first, "offenses": ["220"], "officer": {"name": "Lee Park"}})
    page = visit(note).content.decode()
    assert "220 – Burglary" in page and "Lee Park" in page
    assert "Theft From Motor Vehicle" not in page and "Dana Whitfield" not in page
