"""The survey as victims and staff see it, in a real Chromium: the web form on a phone, filled
in by tapping the answers, and the report page an agency hands to its council."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import make_record
from tests.e2e.conftest import axe_violations, screenshot
from tests.e2e.staff_pages import sign_in
from tests.staff.conftest import make_staff
from victim_notify.accounts.models import Role
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.surveys.importing import import_answers
from victim_notify.surveys.models import Participant, SurveyStatus
from victim_notify.surveys.setup import create_experiment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-2"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def experiment(agency):
    experiment = create_experiment(agency, "pilot", "Notification pilot", dt.date(2026, 1, 1))
    rows = ["participant,group,division,opened,question,answer"]
    for i in range(120):
        group = "A" if i < 90 else "B"
        rows.append(f"p{i},{group},W,yes,preferred_channel,{'text' if i % 3 else 'email'}")
        rows.append(f"p{i},{group},W,yes,likely_to_call,{'no' if i < 70 else 'yes'}")
        rows.append(f"p{i},{group},W,,service_rating,{3 + i % 3 if group == 'A' else 2 + i % 3}")
    result = import_answers(experiment, "\n".join(rows) + "\n")
    assert not result.errors
    return experiment


def test_the_web_form_works_on_a_phone_with_taps_alone(
    chromium: Any, live_server, agency, experiment, artifacts
) -> None:
    ingest(
        agency,
        [IncomingRecord.from_object(0, make_record(victim={"language": "es"}))],
        source="api",
    )
    participant = Participant.objects.get(report__isnull=False)
    page = chromium.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/s/{participant.web_key}")
    assert page.locator("html").get_attribute("lang") == "es"
    assert axe_violations(page) == []
    page.get_by_label("carta", exact=False).first.check()
    page.locator("fieldset").nth(1).get_by_label("5 – lo más alto").check()
    page.locator("fieldset").nth(3).get_by_label("No", exact=True).check()
    screenshot(page, artifacts / "survey-form-phone.png")
    page.get_by_role("button").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Gracias"
    participant.refresh_from_db()
    assert participant.survey_status == SurveyStatus.COMPLETED
    assert dict(participant.responses.values_list("question_key", "value")) == {
        "preferred_channel": "letter",
        "service_rating": "5",
        "likely_to_call": "no",
    }
    page.close()


def test_the_report_page_is_readable_and_accessible(
    chromium: Any, live_server, agency, experiment, artifacts
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, make_staff(agency, Role.ANALYST))
    page.get_by_role("link", name="Experiments").click()
    page.get_by_role("link", name="Notification pilot").click()
    page.wait_for_selector("#findings")
    text = page.locator("main").inner_text()
    assert "less likely to say they were likely to call" in text
    assert "95% confidence intervals" in text
    assert page.locator("svg").count() >= 2
    assert axe_violations(page) == []
    screenshot(page, artifacts / "survey-report.png")
    page.close()
