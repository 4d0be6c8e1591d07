"""The victim's case page in a real Chromium on a phone-sized screen: asking for a code with
the report number and the last 4 digits of the phone, reading it from the text, opening the
page, choosing Spanish and email only, asking for a call back; accessible (axe) in English and
Spanish."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import make_record
from tests.e2e.conftest import axe_violations, screenshot
from victim_notify.intake.models import Party
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages.models import Notification
from victim_notify.replies.models import InboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_a_victim_opens_their_case_with_a_code_by_text_and_makes_their_choices(
    chromium: Any, live_server, agency, artifacts
) -> None:
    record = make_record(
        report_number="2026-880011",
        victim={"email": "ana@example.org", "phone": "(520) 555-0134"},
    )
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    page = chromium.new_page(viewport=PHONE)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/case/testville/")
    assert axe_violations(page) == []
    page.get_by_label("Report number").fill("2026-880011")
    page.get_by_label("Last 4 digits of your phone").fill("0134")
    page.get_by_role("button", name="Text me a code").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    assert axe_violations(page) == []
    text = Notification.objects.get(kind="access_code").body
    code = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
    page.get_by_label("The code we sent you").fill(code)
    page.get_by_role("button", name="Open my case").click()

    page.get_by_role("heading", name="Report 2026-880011").wait_for()
    assert page.locator("[data-status]").inner_text() == "Open"
    assert "Theft From Motor Vehicle" in page.content()
    assert axe_violations(page) == []
    screenshot(page, artifacts / "case-page-phone.png")

    page.get_by_label("Language").select_option("es")
    page.get_by_label("How we contact you").select_option("email")
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_text("Sus opciones están guardadas.").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    assert axe_violations(page) == []
    party = Party.objects.get(report__report_number="2026-880011", party_id="1")
    assert (party.preferred_language, party.preferred_channel) == ("es", "email")

    page.get_by_label("¿De qué se trata? (opcional)").fill("Encontré más recibos")
    page.get_by_role("button", name="Llámenme").click()
    page.get_by_text("Le llamaremos.").wait_for()
    reply = InboundMessage.objects.get(provider="case-page")
    assert "Encontré más recibos" in reply.body
    screenshot(page, artifacts / "case-page-phone-es.png")
    assert errors == []
