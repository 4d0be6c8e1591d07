"""Logs of a whole run carry no phone number, email address or name of the people in it."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import time_machine
from faker import Faker

from tests.conftest import make_record
from tests.replies.test_twilio_inbound import text_in, twilio_settings  # noqa: F401
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.logs import StructuredFormatter
from victim_notify.messages import sender
from victim_notify.surveys.conversation import start_due_surveys
from victim_notify.surveys.setup import create_experiment

pytestmark = pytest.mark.django_db

REPORTED = dt.datetime(2026, 12, 1, 17, 15, tzinfo=dt.UTC)


def people(count: int) -> list[dict[str, str]]:
    """Generated people, never real ones: Faker's names, the fictional 555-01XX numbers and
    addresses at example.org."""
    result = []
    for index in range(count):
        fake = Faker("es_MX" if index % 2 else "en_US")
        fake.seed_instance(1000 + index)
        first, last = fake.first_name(), fake.last_name()
        result.append(
            {
                "first_name": first,
                "last_name": last,
                "phone": f"(520) 555-01{10 + index:02d}",
                "e164": f"+15205550{110 + index}",
                "email": f"{fake.user_name()}{index}@example.org",
            }
        )
    return result


def phone_forms(e164: str) -> set[str]:
    digits = e164[2:]
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return {
        e164,
        digits,
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{exchange}-{line}",
    }


def needles_of(crowd: list[dict[str, str]]) -> tuple[set[str], set[str]]:
    """(literal strings, whole words) to look for."""
    literal: set[str] = set()
    words: set[str] = set()
    for person in crowd:
        literal |= phone_forms(person["e164"]) | {person["email"]}
        words |= {person["first_name"], person["last_name"]}
    return literal, words


def leaks(text: str, literal: set[str], words: set[str]) -> list[str]:
    found = [n for n in literal if n.lower() in text.lower()]
    found += [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
    return found


def run_everything(client, agency, crowd: list[dict[str, str]]) -> None:
    """Intake, sending, replies of each kind, and a survey wave."""
    create_experiment(agency, "pilot", "Pilot", dt.date(2026, 1, 1), share_notified=50)
    records = [
        make_record(
            reported_at="2026-12-01T10:15:00",
            victim={
                "first_name": p["first_name"],
                "last_name": p["last_name"],
                "phone": p["phone"],
                "email": p["email"],
            },
        )
        for p in crowd
    ]
    records.append(
        make_record(victim={"phone": "not a phone", "first_name": crowd[0]["first_name"]})
    )
    records.append({"report_number": "BROKEN", "parties": [{"first_name": crowd[1]["last_name"]}]})
    with time_machine.travel(REPORTED + dt.timedelta(minutes=5), tick=True):
        ingest(
            agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
        )
        while sender.send_due("w"):
            pass
        for person, body in zip(crowd, ["STOP", "gracias", "HELP", "who is this?"], strict=False):
            text_in(client, body, sender_number=person["e164"])
        text_in(client, "hello", sender_number="+15205550199")  # someone we never wrote to
        while sender.send_due("w"):
            pass
    with time_machine.travel(REPORTED + dt.timedelta(days=7, hours=1), tick=True):
        start_due_surveys()
        while sender.send_due("w"):
            pass
        for person in crowd[4:]:
            text_in(client, "1", sender_number=person["e164"])
        while sender.send_due("w"):
            pass


def test_the_logs_of_a_whole_run_name_nobody(client, agency, caplog):
    crowd = people(8)
    caplog.set_level(logging.DEBUG)
    run_everything(client, agency, crowd)
    assert len(caplog.records) > 0
    literal, words = needles_of(crowd)
    formatter = StructuredFormatter()
    written = "\n".join(formatter.format(record) for record in caplog.records)
    assert leaks(written, literal, words) == []
    # Not only masked on the way out: the code does not put them in a log call at all.
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert leaks(said, set(), words) == []
