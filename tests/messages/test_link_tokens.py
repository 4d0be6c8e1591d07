"""The links in victims' messages cannot be guessed, altered or used after they expire: every
wrong link gets one and the same answer (so no answer tells a near miss from a wild guess), and
an expired one shows nothing of the case."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
import time_machine
from django.test import Client

from tests.conftest import make_record
from victim_notify.contacts.models import OptOutSource
from victim_notify.contacts.optouts import contact_for, opt_out
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages.models import Notification
from victim_notify.messages.render import details_token
from victim_notify.messages.unsubscribe import unsubscribe_token

pytestmark = pytest.mark.django_db

HEADERS_THAT_MAY_DIFFER = {"Date", "Expires", "Content-Length"}


def take_in(agency, **victim: str) -> Notification:  # type: ignore[no-untyped-def]
    record = make_record(victim=victim)
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    return Notification.objects.get(report__report_number=record["report_number"], channel="email")


def token_of(note: Notification) -> str:
    return details_token(note.details_key)


def answer(path: str) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    response = Client().get(path)
    headers = sorted((k, v) for k, v in response.items() if k not in HEADERS_THAT_MAY_DIFFER)
    return response.status_code, response.content, tuple(headers)


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def test_every_wrong_details_link_gets_the_same_answer(agency):
    note = take_in(agency, email="ana@example.com", first_name="Ana")
    cancelled = take_in(agency, email="ben@example.com", phone="", first_name="Ben")
    opt_out(
        agency,
        contact_for(agency, email="ben@example.com"),
        source=OptOutSource.COMMAND,
        actor_label="test",
    )
    good = token_of(note)
    key = good.split(".")[0]
    wrong = [
        flip(good, len(key) + 1),  # first character of the signature
        flip(good, len(good) - 1),  # last character of the signature
        flip(good, 0),  # the key
        key,
        f"{key}.",
        secrets.token_urlsafe(9) + "." + secrets.token_urlsafe(12),
        details_token(secrets.token_urlsafe(9)),  # genuine signature, no such message
        token_of(cancelled),
        "x" * 2000,
        "%00",
    ]
    answers = {answer(f"/d/{token}") for token in wrong}
    assert len(answers) == 1, answers
    [(status, body, _)] = answers
    assert status == 404
    assert key.encode() not in body and b"Ana" not in body


def test_every_wrong_unsubscribe_link_gets_the_same_answer(agency):
    note = take_in(agency, email="ana@example.com")
    good = unsubscribe_token(note.pk)
    wrong = [
        flip(good, len(good) - 1),
        flip(good, 0),
        good[:-1],
        good + "A",
        unsubscribe_token(note.pk).lower(),
        secrets.token_urlsafe(28),
    ]
    answers = {answer(f"/u/{token}") for token in wrong}
    assert len(answers) == 1 and next(iter(answers))[0] == 404
    assert Client().get(f"/u/{good}").status_code == 200


def test_details_tokens_carry_enough_secret_to_be_unguessable(agency):
    """A 72-bit key and a 96-bit signature: at the public pages' rate limit an attacker makes a
    few hundred tries a minute from one address."""
    tokens = {token_of(take_in(agency, email=f"p{n}@example.com")) for n in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        key, mac = token.split(".")
        assert len(key) >= 12 and len(mac) >= 16
        assert re.fullmatch(r"[A-Za-z0-9_-]+", key + mac)


def test_an_expired_link_shows_nothing_of_the_case_or_the_person(agency):
    agency.details_link_days = 7
    agency.save()
    note = take_in(agency, email="ana@example.com", first_name="Ana", last_name="Ruiz")
    path = f"/d/{token_of(note)}"
    report = note.report
    shown = Client().get(path).content.decode()
    assert report.report_number in shown
    with time_machine.travel(note.created_at + dt.timedelta(days=7, seconds=1), tick=False):
        for _ in range(2):  # and not on a second try either
            response = Client().get(path)
            assert response.status_code == 410
            page = response.content.decode()
            for private in (
                report.report_number,
                "Dana Whitfield",
                "4471",
                "Ana",
                "Ruiz",
                "ana@example.com",
                "555-0134",
            ):
                assert private not in page, private
