"""The development outbox and the details page, in a real Chromium, as staff and victims see them.

Reports go in through the API of a live server, the sender hands them to the development outbox
(the default SMS_PROVIDERS and EMAIL_URL), and a staff member logs in and reads what was sent,
what is waiting and who was not written to. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.conftest import axe_violations, screenshot
from tests.staff.conftest import current_code
from victim_notify.agencies import config as agency_config
from victim_notify.agencies.models import Agency, ApiToken, OffenseText
from victim_notify.agencies.setup import load_agency
from victim_notify.contacts.normalise import display_phone
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.providers.models import DevOutboxMessage
from victim_notify.rules.models import Decision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_DATA = Path(__file__).resolve().parents[2] / "src/victim_notify/demo/demo_data/agency.json"
PASSWORD = "a-long-test-password-1"
PHONE = {"width": 390, "height": 844}

ENGLISH = "2612-0090001"
SPANISH = "2612-0090002"
DOMESTIC = "2612-0090003"
JUVENILE = "2612-0090004"
LATER = "2612-0090005"


@dataclass
class Sent:
    agency: Agency
    base_url: str


def _record(number: str, offense: str, parties: list[dict[str, Any]]) -> dict[str, Any]:
    reported = timezone.now() - dt.timedelta(hours=2)
    return {
        "report_number": number,
        "status": "approved",
        "reported_at": reported.isoformat(),
        "occurred_at": (reported - dt.timedelta(minutes=40)).isoformat(),
        "officer": {"name": "Dana Whitfield", "badge": "4471"},
        "division": "W",
        "offenses": [offense],
        "parties": parties,
    }


def _post(base_url: str, token: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base_url}/api/v1/reports",
        data=json.dumps(records).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def sent(live_server: Any) -> Sent:
    """The demo agency, a staff login, four reports sent and one more waiting."""
    data = json.loads(DEMO_DATA.read_text(encoding="utf-8"))
    # Texts go at once whatever the hour the tests run at.
    data["agency"].update(quiet_hours_start=None, quiet_hours_end=None)
    agency = load_agency(data)
    staff = get_user_model().objects.create_user("staff", password=PASSWORD, is_staff=True)
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    _, token = ApiToken.issue(agency, "e2e")
    summary = _post(
        live_server.url,
        token,
        [
            _record(
                ENGLISH,
                "23F",
                [
                    {
                        "party_id": "1",
                        "role": "victim",
                        "first_name": "Ana",
                        "last_name": "Ruiz",
                        "phone": "(520) 555-0134",
                        "email": "ana.ruiz@example.com",
                        "date_of_birth": "1980-05-17",
                    }
                ],
            ),
            _record(
                SPANISH,
                "220",
                [
                    {
                        "party_id": "1",
                        "role": "victim",
                        "first_name": "María",
                        "last_name": "Gómez",
                        "phone": "520-555-0135",
                        "email": "maria.gomez@example.com",
                        "language": "es",
                        "date_of_birth": "1990-04-02",
                    }
                ],
            ),
            _record(
                DOMESTIC,
                "DV",
                [
                    {
                        "party_id": "1",
                        "role": "victim",
                        "first_name": "Kim",
                        "last_name": "Lee",
                        "phone": "520-555-0136",
                        "date_of_birth": "1985-01-01",
                    },
                    {"party_id": "2", "role": "suspect", "first_name": "Unknown"},
                ],
            ),
            _record(
                JUVENILE,
                "23H",
                [
                    {
                        "party_id": "1",
                        "role": "victim",
                        "first_name": "Sam",
                        "last_name": "Ortiz",
                        "juvenile": True,
                        "date_of_birth": "2012-03-03",
                    },
                    {
                        "party_id": "2",
                        "role": "guardian",
                        "first_name": "Rosa",
                        "last_name": "Ortiz",
                        "phone": "520-555-0137",
                        "date_of_birth": "1978-08-08",
                    },
                ],
            ),
        ],
    )
    assert summary["accepted"] == 4, summary
    while sender.send_due("e2e"):
        pass
    assert not Notification.objects.exclude(status=Status.DELIVERED).exists()

    # One more report after the agency turned on a post-approval delay: it waits.
    Agency.objects.filter(pk=agency.pk).update(post_approval_delay_minutes=30)
    agency_config._cache.clear()
    later = _record(
        LATER,
        "290",
        [
            {
                "party_id": "1",
                "role": "victim",
                "first_name": "Lee",
                "last_name": "Park",
                "phone": "520-555-0138",
                "date_of_birth": "1975-02-02",
            }
        ],
    )
    assert _post(live_server.url, token, [later])["accepted"] == 1
    return Sent(agency, live_server.url)


@pytest.fixture
def staff_page(chromium: Any, sent: Sent) -> Any:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{sent.base_url}/admin/login/?next=/dev/outbox")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", "")
    page.click("input[type=submit]")
    # django-otp's admin form asks which device once the password is right, then for its code.
    page.select_option("#id_otp_device", index=1)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", current_code(get_user_model().objects.get(username="staff")))
    page.click("input[type=submit][value='Log in']")
    page.wait_for_url(f"{sent.base_url}/dev/outbox")
    yield page
    context.close()


def _text_bodies() -> dict[str, str]:
    bodies = {}
    for message in DevOutboxMessage.objects.filter(channel="sms"):
        number = re.search(r"2612-\d{7}", message.body)
        assert number, message.body
        bodies[number.group()] = message.body
    return bodies


def test_outbox_shows_each_text_as_a_phone_bubble_and_each_email_rendered(
    staff_page: Any, artifacts: Path
) -> None:
    page = staff_page
    texts = {m.pk: m for m in DevOutboxMessage.objects.filter(channel="sms")}
    emails = {m.pk: m for m in DevOutboxMessage.objects.filter(channel="email")}
    # The English and Spanish victims by text and email; the guardian by text only.
    assert len(texts) == 3 and len(emails) == 2

    bubbles = page.locator(".phone .bubble")
    assert bubbles.count() == 3
    shown = bubbles.all_inner_texts()
    for number in (ENGLISH, SPANISH, JUVENILE):
        assert sum(number in text for text in shown) == 1, number
    assert not any(DOMESTIC in text for text in shown)

    for pk, message in emails.items():
        entry = page.locator(f"article.entry[aria-labelledby='m{pk}']")
        frame = entry.locator("iframe")
        assert frame.get_attribute("sandbox") == ""
        number = re.search(r"2612-\d{7}", message.subject).group()
        inside = entry.frame_locator("iframe").locator("body")
        inside.get_by_text(number).first.wait_for()
        heading = "What this means" if number == ENGLISH else "Qué significa"
        assert inside.get_by_role("heading", name=heading).count() == 1
        # The decision that sent it, beside it.
        assert "Email to be sent" in entry.locator(".meta").inner_text()
    english_email = page.locator("article.entry", has_text="ana.ruiz@example.com")
    english_email.frame_locator("iframe").get_by_text("What this means").wait_for()

    for pk in texts:
        meta = page.locator(f"article.entry[aria-labelledby='m{pk}'] .meta").inner_text()
        assert "Text to be sent" in meta and "Delivered" in meta
    guardian = page.locator("article.entry", has_text=JUVENILE).locator(".meta").inner_text()
    assert "parent or guardian of the minor victim" in guardian

    screenshot(page, artifacts / "outbox.png")
    assert page.get_by_role("heading", level=1).inner_text() == "Messages sent"
    assert axe_violations(page) == []


def test_emails_have_no_serious_accessibility_problems(chromium: Any, sent: Sent) -> None:
    # A sandboxed frame runs no scripts, so each email is checked as a page of its own.
    page = chromium.new_page()
    for message in DevOutboxMessage.objects.filter(channel="email"):
        page.set_content(message.html)
        assert axe_violations(page) == [], message.subject
    page.close()


def test_waiting_and_not_sent_tabs_list_who_was_not_written_to_and_why(
    staff_page: Any, artifacts: Path
) -> None:
    page = staff_page
    page.get_by_role("link", name="Waiting to go").click()
    page.wait_for_url("**/dev/outbox?show=waiting")
    assert page.get_by_role("heading", level=1).inner_text() == "Waiting to go"
    rows = page.locator("table.decisions tbody tr")
    assert rows.count() == 1
    waiting = rows.first.inner_text()
    assert LATER in waiting and "Lee Park" in waiting and "Post-approval delay" in waiting
    screenshot(page, artifacts / "outbox-waiting.png")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Decisions not to send").click()
    page.wait_for_url("**/dev/outbox?show=not_sent")
    assert page.get_by_role("heading", level=1).inner_text() == "Decisions not to send"
    table = page.locator("table.decisions tbody")
    domestic = table.locator("tr", has_text=DOMESTIC).filter(has_text="Kim Lee")
    assert domestic.count() == 1
    assert "domestic violence" in domestic.inner_text()
    assert "excluded_offense_domestic_violence" in domestic.inner_text()
    minor = table.locator("tr", has_text="Sam Ortiz")
    assert minor.count() == 1
    assert "the person is a minor, so their parent or guardian is told instead" in (
        minor.inner_text()
    )
    # The guardian got a text; their missing email is not news.
    assert Decision.objects.filter(
        party__first_name__matches="Rosa", channel="email", send=False, reason_codes=["no_email"]
    ).exists()
    assert table.locator("tr", has_text="Rosa Ortiz").count() == 0
    # Nor is the English victim, who was written to both ways.
    assert table.locator("tr", has_text=ENGLISH).count() == 0
    screenshot(page, artifacts / "outbox-not-sent.png")
    assert axe_violations(page) == []


def test_details_link_in_a_text_shows_the_eight_facts_on_a_phone(
    chromium: Any, sent: Sent, artifacts: Path
) -> None:
    links = {
        number: match.group()
        for number, body in _text_bodies().items()
        if (match := re.search(r"https?://\S+/d/\S+", body))
    }
    # Texts past the agency's segment cap link to the details page: the Spanish one here.
    assert SPANISH in links, links
    live = urlsplit(sent.base_url)
    url = urlsplit(links[SPANISH])._replace(scheme=live.scheme, netloc=live.netloc).geturl()
    words = OffenseText.objects.get(offense__agency=sent.agency, offense__code="220", language="es")

    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    response = page.goto(url)
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "es"
    facts = page.locator("dl.facts")
    shown = dict(
        zip(
            facts.locator("dt").all_inner_texts(),
            facts.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert shown["Número de reporte"] == SPANISH  # 1
    assert shown["Código del delito"] == f"220 – {words.title}"  # 2
    assert shown["Oficial que tomó el reporte"] == "Dana Whitfield (placa 4471)"  # 3
    assert "de 2026" in shown["Fecha y hora del reporte"]  # 4
    main = page.locator("main")
    assert words.explanation in main.inner_text()  # 5
    assert words.next_steps in main.inner_text()  # 6
    phones = main.locator("a[href^='tel:']")
    assert phones.all_inner_texts() == [
        display_phone("+15205550101"),  # 7: Westside Substation
        display_phone("+15205550111"),  # 8: Property Crimes
    ]
    assert " " not in phones.first.get_attribute("href")
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, artifacts / "details-phone.png")
    assert axe_violations(page) == []
    context.close()

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    screenshot(page, artifacts / "details-desktop.png")
    context.close()
