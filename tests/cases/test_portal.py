"""The victim's case page: opened from the details link or with the report number, the last 4
digits of the phone and a one-time code by text; shows status, history, next steps and phones
and nothing about anyone else on the report; language and channel choices that later versions
of the report keep and the rules honour; stop all messages; a call back into the staff inbox;
every opening and choice audited; lookups rate-limited and answering the same either way."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_record
from victim_notify.accounts.models import AuditEvent
from victim_notify.cases.portal import CODES_PER_REPORT_PER_HOUR, link_for
from victim_notify.contacts.models import OptOut
from victim_notify.intake.models import Party, Report
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import Notification
from victim_notify.replies.models import InboundMessage
from victim_notify.rules.models import Decision

pytestmark = pytest.mark.django_db


def take(agency: Any, **record: Any) -> Report:
    data = make_record(**record)
    ingest(agency, [IncomingRecord.from_object(0, data)], source="api")
    return Report.objects.get(report_number=data["report_number"])


def case(agency: Any) -> Report:
    return take(
        agency,
        report_number="2026-777001",
        parties=[
            {
                "party_id": "1",
                "role": "victim",
                "first_name": "Ana",
                "last_name": "Ruiz",
                "phone": "(520) 555-0134",
                "email": "ana@example.org",
                "date_of_birth": "1980-05-17",
            },
            {"party_id": "2", "role": "suspect", "first_name": "Victor", "last_name": "Kane"},
            {"party_id": "3", "role": "witness", "first_name": "Wanda", "phone": "(520) 555-0199"},
        ],
    )


def code_in_text() -> str:
    body = Notification.objects.filter(kind="access_code").latest("created_at").body
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def test_the_details_link_leads_to_the_case_page_with_nothing_about_anyone_else(client, agency):
    report = case(agency)
    note = Notification.objects.get(party__party_id="1", channel="sms")
    page = client.get(link_for(note.party), follow=True)

    html = page.content.decode()
    assert page.status_code == 200 and page.redirect_chain[-1][0] == reverse("case-mine")
    assert "Report 2026-777001" in html and "Open" in html
    assert "Theft From Motor Vehicle" in html and "Property Crimes" in html
    for other in ("Victor", "Kane", "Wanda", "0199", "ana@example.org", "Ruiz"):
        assert other not in html
    assert "ending in 0134" in html
    assert page["X-Robots-Tag"] == "noindex" and page["Cache-Control"].startswith("max-age=0")
    event = AuditEvent.objects.get(action="case_page.opened")
    assert event.detail == {"party": "1", "how": "link"} and event.object_id == str(report.pk)


def test_report_number_last_four_and_a_code_by_text_open_the_page_once(client, agency):
    case(agency)
    find = reverse("case-find", kwargs={"agency": "testville"})
    answer = client.post(find, {"report_number": "2026-777001", "last4": "0134"})
    assert answer.status_code == 302
    (text,) = Notification.objects.filter(kind="access_code")
    assert text.contact.value == "+15205550134" and text.status == "pending"
    code = code_in_text()

    wrong = client.post(reverse("case-code", kwargs={"agency": "testville"}), {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    right = client.post(reverse("case-code", kwargs={"agency": "testville"}), {"code": code})
    assert right.status_code == 302 and right["Location"] == reverse("case-mine")
    assert "Report 2026-777001" in client.get(reverse("case-mine")).content.decode()

    other = client.__class__()
    other.post(find, {"report_number": "2026-777001", "last4": "0134"})
    again = other.post(reverse("case-code", kwargs={"agency": "testville"}), {"code": code})
    assert "That code is not right" in again.content.decode()  # used once, and a new one sent
    while sender.send_due("w"):
        pass
    assert Notification.objects.filter(kind="access_code", status="delivered").count() == 2


def test_a_lookup_that_matches_nothing_answers_the_same_and_sends_nothing(client, agency):
    case(agency)
    find = reverse("case-find", kwargs={"agency": "testville"})
    for number, last4 in (("2026-777001", "9999"), ("NOPE", "0134"), ("2026-777001", "0199")):
        answer = client.post(find, {"report_number": number, "last4": last4})
        assert answer.status_code == 302  # the witness's phone opens nothing either
    assert not Notification.objects.filter(kind="access_code").exists()
    page = client.get(reverse("case-code", kwargs={"agency": "testville"})).content.decode()
    assert "If the report number and the phone ending in 0199 match" in page


@time_machine.travel(dt.datetime(2026, 12, 4, 18, 0, 1, tzinfo=dt.UTC), tick=True)
def test_codes_stop_after_a_few_tries_and_a_few_sends(client, agency):
    """(Early in an hour: codes are counted in clock hours, and the test must not straddle two.)"""
    case(agency)
    find = reverse("case-find", kwargs={"agency": "testville"})
    client.post(find, {"report_number": "2026-777001", "last4": "0134"})
    code = code_in_text()
    for _ in range(5):
        client.post(reverse("case-code", kwargs={"agency": "testville"}), {"code": "111111"})
    late = client.post(reverse("case-code", kwargs={"agency": "testville"}), {"code": code})
    assert "That code is not right" in late.content.decode()  # locked after 5 wrong tries
    for _ in range(CODES_PER_REPORT_PER_HOUR + 2):
        client.post(find, {"report_number": "2026-777001", "last4": "0134"})
    assert Notification.objects.filter(kind="access_code").count() == CODES_PER_REPORT_PER_HOUR


def test_choices_are_kept_by_later_versions_and_honoured_by_the_rules(client, agency):
    report = case(agency)
    party = Party.objects.get(report=report, party_id="1")
    client.get(link_for(party))
    saved = client.post(reverse("case-choices"), {"language": "es", "channel": "email"})
    assert "Sus opciones están guardadas." in saved.content.decode()
    party.refresh_from_db()
    assert (party.language, party.preferred_channel) == ("es", "email")

    amended = make_record(
        report_number="2026-777001",
        offenses=["220"],
        parties=[
            {
                "party_id": "1",
                "role": "victim",
                "first_name": "Ana",
                "phone": "(520) 555-0134",
                "email": "ana@example.org",
                "language": "en",
                "date_of_birth": "1980-05-17",
            },
        ],
    )
    ingest(agency, [IncomingRecord.from_object(0, amended)], source="api")
    party.refresh_from_db()
    assert party.language == "es"  # the person's choice, not the RMS's
    text = Decision.objects.filter(party=party, channel="sms").latest("pk")
    assert not text.send and text.reason_codes == ["prefers_other_channel"]
    email = Notification.objects.filter(party=party, channel="email").latest("created_at")
    assert email.language == "es"
    assert AuditEvent.objects.get(action="case_page.choices_changed").detail == {
        "party": "1",
        "language": "es",
        "channel": "email",
    }


def test_stop_opts_out_every_contact_and_a_call_back_reaches_the_inbox(client, agency):
    report = case(agency)
    party = Party.objects.get(report=report, party_id="1")
    client.get(link_for(party))
    asked = client.post(reverse("case-call-back"), {"note": "About my stolen laptop"})
    assert "We will call you back" in asked.content.decode()
    reply = InboundMessage.objects.get(provider="case-page")
    assert reply.report == report and reply.party == party and reply.handled_at is None
    assert "About my stolen laptop" in reply.body and "2026-777001" in reply.body

    stopped = client.post(reverse("case-stop"))
    assert "You will get no more messages from us." in stopped.content.decode()
    assert OptOut.objects.filter(agency=agency, revoked_at=None).count() == 2
    assert not Notification.objects.filter(party=party, status="pending").exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"case_page.opened", "case_page.call_back_asked", "case_page.opted_out"} <= actions


def test_without_a_session_the_page_asks_to_open_it_again(client, agency):
    answer = client.get(reverse("case-mine"))
    assert "Open your case page again" in answer.content.decode()
    assert client.get("/case/s/not-a-token").status_code == 404
    assert client.post(reverse("case-stop")).status_code == 404


def test_a_lookup_searches_only_the_agency_in_its_address(client, agency):
    from tests.agency_data import agency_data
    from victim_notify.agencies.setup import load_agency

    load_agency(agency_data(slug="otherville", name="Otherville PD", short_name="Otherville"))
    case(agency)
    client.post(
        reverse("case-find", kwargs={"agency": "otherville"}),
        {"report_number": "2026-777001", "last4": "0134"},
    )
    assert not Notification.objects.filter(kind="access_code").exists()
    assert client.get("/case/nowhere/").status_code == 404
