"""Opens and clicks, people apart from machines, and the rates a supervisor reads."""

from __future__ import annotations

import datetime as dt
import json
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import make_record
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import Engagement, Notification

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
)


def send_all() -> None:
    while sender.send_due("w"):
        pass


@pytest.fixture
def email(agency):
    record = make_record(victim={"phone": "", "email": "ana@example.com"})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    send_all()
    return Notification.objects.get(channel="email")


def pixel_path(note: Notification) -> str:
    [url] = re.findall(r'src="(https://[^"]+/o/[^"]+\.gif)"', note.html)
    return url.split("notify.testville.example", 1)[1]


def details_path(note: Notification) -> str:
    [url] = set(re.findall(r"https://notify\.testville\.example(/d/[\w.-]+)", note.body))
    return url


def later(note: Notification, seconds: int = 600):  # type: ignore[no-untyped-def]
    return time_machine.travel(note.sent_at + dt.timedelta(seconds=seconds), tick=False)


@pytest.mark.parametrize(
    ("agent", "seconds", "machine", "label"),
    [
        (BROWSER, 600, False, "browser"),
        (
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
            "(via ggpht.com GoogleImageProxy)",
            600,
            False,
            "gmail",
        ),
        (BROWSER, 2, True, "prefetch"),  # Apple Mail Privacy Protection fetches on arrival
        ("Barracuda Sentinel (EE)", 600, True, "scanner"),
        ("", 600, True, "script"),
    ],
)
def test_opens_by_people_apart_from_machines(client, email, agent, seconds, machine, label):
    with later(email, seconds):
        response = client.get(pixel_path(email), HTTP_USER_AGENT=agent)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    opened = Engagement.objects.get()
    assert (opened.kind, opened.machine, opened.agent) == ("open", machine, label)


def test_a_forged_pixel_still_answers_an_image_and_records_nothing(client, email):
    response = client.get("/o/AAAAAAAAAAAA.notagenuinetoken.gif", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200 and response.content.startswith(b"GIF89a")
    assert not Engagement.objects.exists()


def test_clicks_on_the_details_link(client, email):
    with later(email):
        client.get(details_path(email), HTTP_USER_AGENT=BROWSER)
        client.head(details_path(email), HTTP_USER_AGENT=BROWSER)
        client.get(
            details_path(email), HTTP_USER_AGENT="facebookexternalhit/1.1 Facebot Twitterbot/1.0"
        )
    kinds = sorted((e.kind, e.machine, e.agent) for e in Engagement.objects.all())
    assert kinds == [("click", False, "browser"), ("click", True, "link-preview")]


def test_the_delivery_report_gives_dashboard_ready_rates(client, agency, email):
    ingest(
        agency,
        [
            IncomingRecord.from_object(
                0, make_record(victim={"phone": "", "email": "bo@example.com"})
            )
        ],
        source="api",
    )
    ingest(
        agency,
        [IncomingRecord.from_object(0, make_record(victim={"phone": "520-555-0166"}))],
        source="api",
    )
    send_all()
    second = Notification.objects.get(channel="email", contact__value__matches="bo@example.com")
    with later(email):
        client.get(pixel_path(email), HTTP_USER_AGENT=BROWSER)  # a person
        client.get(pixel_path(second), HTTP_USER_AGENT="Mimecast link checker")  # a machine
        client.get(details_path(email), HTTP_USER_AGENT=BROWSER)
    out = StringIO()
    call_command("delivery-report", agency="testville", json=True, stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["emails"]["accepted_by_provider"] == 2
    assert figures["emails"]["opens"] == {
        "messages": 2,
        "by_people": 1,
        "by_machines_only": 1,
        "human_rate": 0.5,
        "machine_only_rate": 0.5,
    }
    assert figures["texts"]["delivered"] == 1 and figures["texts"]["delivery_rate"] == 1.0
    assert figures["details_link_clicks"]["by_people"] == 1
    text = StringIO()
    call_command("delivery-report", agency="testville", stdout=text)
    assert "emails: 2 accepted by mail servers, 0 bounced (0.0%)" in text.getvalue()
    assert "opens:  50.0% by people, 50.0% by privacy proxies or scanners only" in text.getvalue()


def test_nothing_recorded_before_a_message_is_sent_counts_as_prefetch_too(client, agency):
    agency.post_approval_delay_minutes = 30
    agency.save()
    ingest(
        agency,
        [
            IncomingRecord.from_object(
                0, make_record(victim={"phone": "", "email": "a@example.com"})
            )
        ],
        source="api",
    )
    note = Notification.objects.get()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5), tick=False):
        client.get(pixel_path(note), HTTP_USER_AGENT=BROWSER)
    assert Engagement.objects.get().machine is True
