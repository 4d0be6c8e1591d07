"""The Reports pages: search (audited without the terms), a report's timeline, the email as
sent in a locked-down frame, and who may see what."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.audit import terms_hash
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.intake.models import Party, Report
from victim_notify.messages import sender
from victim_notify.messages.delivery import record_status
from victim_notify.messages.models import Notification
from victim_notify.replies.inbound import receive
from victim_notify.rules.models import Decision

pytestmark = pytest.mark.django_db

SEARCHES = [
    ("number", "{number}"),
    ("name", "ana RUIZ"),
    ("name", "ruiz, ana"),
    ("name", "Ruiz"),
    ("phone", "+1 520-555-0134"),
    ("email", "Ana.Ruiz@Example.COM"),
]


@pytest.fixture
def report(agency):
    take_in(agency, make_record(victim={"email": "ana.ruiz@example.com"}))
    return Report.objects.get(agency=agency)


@pytest.mark.parametrize(("kind", "terms"), SEARCHES)
def test_search_finds_the_report_and_audits_a_hash_not_the_terms(signed_in, report, kind, terms):
    take_in(
        report.agency,
        make_record(victim={"first_name": "Bo", "last_name": "Lee", "phone": "520-555-0177"}),
    )
    terms = terms.format(number=report.report_number.lower())
    client = signed_in(Role.CLERK)

    response = client.post(reverse("staff:reports"), {"by": kind, "q": terms})

    assert response.status_code == 200
    assert report.report_number in response.content.decode()
    assert response.context["results"][0].report == report
    assert len(response.context["results"]) == 1
    event = AuditEvent.objects.get(action="report.search")
    assert event.detail == {
        "kind": kind,
        "terms_hash": terms_hash(kind, terms),
        "results": [report.pk],
    }
    # Nothing but the hash carries the terms (a hex digest may hold "0134" by chance).
    written = json.dumps({k: v for k, v in event.detail.items() if k != "terms_hash"}).lower()
    for word in ("ana", "ruiz", "0134", "example"):
        assert word not in written
    assert all(c in "0123456789abcdef" for c in event.detail["terms_hash"])


def test_search_results_summarise_parties_and_messages(signed_in, report):
    client = signed_in(Role.ADVOCATE)
    response = client.post(reverse("staff:reports"), {"by": "number", "q": report.report_number})
    row = response.context["results"][0]
    assert (row.parties, row.sent, row.waiting, row.stopped, row.not_written_to) == (1, 0, 2, 0, 0)
    assert "23F" in row.offense and "West" in response.content.decode()


def test_search_never_finds_another_agencys_report(signed_in, report, other_agency):
    take_in(other_agency, make_record(victim={"first_name": "Zed", "last_name": "Other"}))
    client = signed_in(Role.CLERK)
    response = client.post(reverse("staff:reports"), {"by": "name", "q": "zed other"})
    assert response.context["results"] == []
    assert "No report matches" in response.content.decode()
    assert AuditEvent.objects.get(action="report.search").detail["results"] == []


def test_a_phone_that_is_not_a_number_is_refused_and_not_searched(signed_in, report):
    client = signed_in(Role.CLERK)
    response = client.post(reverse("staff:reports"), {"by": "phone", "q": "call me"})
    assert "not a phone number" in response.content.decode()
    assert not AuditEvent.objects.filter(action="report.search").exists()


def test_reports_page_lists_latest_report_numbers_without_names(signed_in, report):
    response = signed_in(Role.CLERK).get(reverse("staff:reports"))
    page = response.content.decode()
    assert report.report_number in page
    assert "Ruiz" not in page and "555" not in page
    assert not AuditEvent.objects.filter(action="report.search").exists()


def test_timeline_shows_versions_decisions_text_delivery_and_reply(signed_in, agency):
    record = make_record()
    take_in(agency, record)
    take_in(agency, record | {"occurred_at": "2026-12-01T09:45:00"})  # version 2
    sender.send_due("test")
    report = Report.objects.get(agency=agency)
    text = Notification.objects.get(report=report, channel="sms")
    record_status(
        source="twilio", notification_id=text.pk, provider_status="delivered", error_code=""
    )
    receive(
        channel="sms",
        to_address=agency.sms_from,
        from_address="+15205550134",
        body="Who is my detective?",
        provider="test",
        provider_message_id="reply-1",
    )
    client = signed_in(Role.CLERK)

    response = client.get(reverse("staff:report", kwargs={"report_id": report.pk}))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Version 1 received" in page and "Version 2 received" in page
    decision = Decision.objects.filter(report=report, channel="sms").first()
    assert escape(decision.sentence) in page
    assert escape(text.body) in page
    assert 'class="bubble"' in page and "segment" in page
    assert "Provider report on the Text" in page and "delivered" in page
    assert "Who is my detective?" in page
    assert page.index("Version 1 received") < page.index("Version 2 received")
    assert page.index("Version 2 received") < page.index("Who is my detective?")
    viewed = AuditEvent.objects.get(action="report.viewed")
    assert viewed.object_id == str(report.pk) and viewed.object_type == "intake.report"
    # A clerk reads: no action buttons.
    assert "/do-not-contact" not in page and "/contact" not in page


def test_email_is_served_for_a_sandboxed_frame_with_a_strict_policy(signed_in, report):
    email = Notification.objects.get(report=report, channel="email")
    client = signed_in(Role.CLERK)
    page = client.get(reverse("staff:report", kwargs={"report_id": report.pk})).content.decode()
    url = reverse("staff:notification-email", kwargs={"notification_id": email.pk})
    assert f'sandbox="" loading="lazy" src="{url}"' in page
    assert escape(email.subject) in page

    response = client.get(url)

    assert response.status_code == 200
    assert response.content.decode() == email.html
    assert response["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    )
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    event = AuditEvent.objects.get(action="notification.viewed")
    assert event.object_id == str(email.pk)


def test_a_text_is_shown_as_plain_words_never_as_markup(signed_in, report):
    text = Notification.objects.get(report=report, channel="sms")
    url = reverse("staff:notification-email", kwargs={"notification_id": text.pk})
    response = signed_in(Role.CLERK).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == text.body
    assert response["Content-Security-Policy"].startswith("sandbox;")


def test_another_agencys_report_message_and_person_are_not_found(signed_in, other_agency):
    take_in(other_agency, make_record(victim={"email": "zed@example.com"}))
    theirs = Report.objects.get(agency=other_agency)
    note = Notification.objects.filter(report=theirs).first()
    party = Party.objects.get(report=theirs)
    client = signed_in(Role.AGENCY_ADMIN)

    gets = [
        reverse("staff:report", kwargs={"report_id": theirs.pk}),
        reverse("staff:notification-email", kwargs={"notification_id": note.pk}),
        reverse("staff:party-contact", kwargs={"party_id": party.pk}),
    ]
    posts = [
        reverse("staff:notification-hold", kwargs={"notification_id": note.pk}),
        reverse("staff:notification-release", kwargs={"notification_id": note.pk}),
        reverse("staff:notification-cancel", kwargs={"notification_id": note.pk}),
        reverse("staff:party-contact", kwargs={"party_id": party.pk}),
        reverse("staff:party-do-not-contact", kwargs={"party_id": party.pk}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"reason": "staff_other"}).status_code == 404, url
    note.refresh_from_db()
    assert (
        note.status == "pending"
        and not AuditEvent.objects.filter(action__startswith="notification.").exists()
    )


def test_an_analyst_cannot_open_reports(signed_in, report):
    client = signed_in(Role.ANALYST)
    assert client.get(reverse("staff:reports")).status_code == 403
    assert client.get(reverse("staff:report", kwargs={"report_id": report.pk})).status_code == 403


def test_signed_out_visitor_is_sent_to_sign_in(client, report):
    response = client.get(reverse("staff:report", kwargs={"report_id": report.pk}))
    assert response.status_code == 302 and "/staff/login" in response["Location"]


def test_a_report_nobody_is_written_to_counts_the_people_not_written_to(signed_in, agency):
    record = make_record(offenses=["DV"])
    record["parties"].append(
        {
            "party_id": "2",
            "role": "victim",
            "first_name": "Eli",
            "last_name": "Moss",
            "phone": "520-555-0161",
        }
    )
    take_in(agency, record)
    report = Report.objects.get(agency=agency)
    assert not Decision.objects.filter(report=report, send=True).exists()

    response = signed_in(Role.ADVOCATE).get(reverse("staff:reports"))

    row = response.context["recent"][0]
    assert (row.sent, row.waiting, row.stopped, row.not_written_to) == (0, 0, 0, 2)
    assert "2 people not written to" in response.content.decode()
    assert "0 not sent" not in response.content.decode()


def test_decisions_name_the_person_and_explain_relationship_codes(signed_in, agency):
    record = make_record()
    record["parties"][0]["relationships"] = [{"party_id": "S1", "code": "PA"}]
    record["parties"].append({"party_id": "S1", "role": "suspect"})
    take_in(agency, record)
    report = Report.objects.get(agency=agency)
    sentences = " ".join(Decision.objects.filter(report=report).values_list("sentence", flat=True))
    assert "related (PA)" in sentences

    page = signed_in(Role.CLERK).get(reverse("staff:report", kwargs={"report_id": report.pk}))
    page = page.content.decode()

    assert "Decision for Ana Ruiz (victim)" in page
    assert "Decision for Suspect (no name given)" in page
    assert "Decision for S1" not in page and "Decision for 1" not in page
    assert "Relationship codes in the decisions below" in page
    assert "<code>PA</code></dt><dd>the victim was a parent</dd>" in page


def test_decision_sentence_names_the_other_party_instead_of_its_key(signed_in, agency):
    record = make_record()
    record["parties"].append(
        {
            "party_id": "V2",
            "role": "victim",
            "first_name": "Eli",
            "last_name": "Moss",
            "phone": "(520) 555-0134",
        }
    )
    take_in(agency, record)
    report = Report.objects.get(agency=agency)
    assert Decision.objects.filter(report=report, sentence__contains="party 1").exists()

    page = signed_in(Role.CLERK).get(reverse("staff:report", kwargs={"report_id": report.pk}))

    assert "for Ana Ruiz (victim) on this report" in page.content.decode()
    assert "party 1 " not in page.content.decode()


def test_decision_sentences_read_in_the_staff_members_language(signed_in, agency):
    record = make_record(offenses=["DV"])
    take_in(agency, record)
    report = Report.objects.get(agency=agency)
    stored = Decision.objects.get(report=report)
    assert stored.sentence == (  # kept in English, as decided
        "Not contacted: offense DV is domestic violence, which the agency does not notify."
    )
    client = signed_in(Role.CLERK)
    client.post("/i18n/setlang/", {"language": "es", "next": "/staff/"})
    page = client.get(reverse("staff:report", kwargs={"report_id": report.pk})).content.decode()
    assert (
        "Sin contacto: el delito DV es violencia doméstica, sobre la cual la agencia no notifica."
        in page
    )


def test_handled_reply_time_is_not_followed_by_a_second_period(signed_in, agency):
    take_in(agency, make_record())
    sender.send_due("test")
    receive(
        channel="sms",
        to_address=agency.sms_from,
        from_address="+15205550134",
        body="Thanks",
        provider="test",
        provider_message_id="reply-2",
    )
    from django.utils import timezone

    from victim_notify.replies.models import InboundMessage

    InboundMessage.objects.update(
        handled_at=timezone.now().replace(hour=23, minute=18), handled_by_name="Sam Advocate"
    )
    report = Report.objects.get(agency=agency)
    page = signed_in(Role.CLERK).get(reverse("staff:report", kwargs={"report_id": report.pk}))
    page = page.content.decode()
    assert "Handled by Sam Advocate on" in page and "m.." not in page
