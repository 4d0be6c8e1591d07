"""The SMS survey end to end: enrolment at intake, the first question N days later inside
allowed hours, answers through Twilio's signed webhook, the re-ask, STOP, the web form."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from tests.conftest import make_record
from tests.replies.test_twilio_inbound import VICTIM, text_in, twilio_settings  # noqa: F401
from victim_notify.contacts.models import OptOut
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.replies.models import InboundMessage, Intent
from victim_notify.surveys.conversation import close_quiet_surveys, start_due_surveys
from victim_notify.surveys.models import Participant, SurveyStatus
from victim_notify.surveys.setup import create_experiment

pytestmark = pytest.mark.django_db

REPORTED = dt.datetime(2026, 12, 1, 17, 15, tzinfo=dt.UTC)  # 10:15 in Phoenix


def send_all() -> None:
    while sender.send_due("w"):
        pass


def texts_to_victim() -> list[Notification]:
    return list(
        Notification.objects.filter(
            contact__value__matches=VICTIM,
            kind__in=[MessageKind.SURVEY_QUESTION, MessageKind.SURVEY_THANKS],
        ).order_by("created_at")
    )


@pytest.fixture
def enrolled(agency):
    agency.quiet_hours_start, agency.quiet_hours_end = dt.time(21), dt.time(8)
    agency.save()
    create_experiment(agency, "pilot", "Pilot", dt.date(2026, 1, 1), share_notified=50)
    record = make_record(reported_at="2026-12-01T10:15:00", victim={"email": "ana@example.com"})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    return Participant.objects.get()


def test_the_survey_starts_seven_days_later_and_walks_through_every_question(client, enrolled):
    assert start_due_surveys(REPORTED + dt.timedelta(days=6)) == 0  # not due yet
    with time_machine.travel(REPORTED + dt.timedelta(days=7, minutes=1), tick=True):
        assert start_due_surveys() == 1
        send_all()
        [first] = texts_to_victim()
        assert first.status == Status.DELIVERED
        assert "4 short questions about your report" in first.body
        assert "Reply STOP to opt out" in first.body
        assert re.search(r"/s/[\w-]{16}", first.body)  # the same survey as a web form
        assert "Reply 1 for text message" in first.body
        for answer in ["Texto", "5!!", "sí", "nope"]:
            text_in(client, answer)
            send_all()
    enrolled.refresh_from_db()
    assert enrolled.survey_status == SurveyStatus.COMPLETED
    given = dict(enrolled.responses.values_list("question_key", "value"))
    assert given == {
        "preferred_channel": "text",
        "service_rating": "5",
        "trust": "yes",
        "likely_to_call": "no",
    }
    messages = texts_to_victim()
    assert [m.kind for m in messages] == [MessageKind.SURVEY_QUESTION] * 4 + [
        MessageKind.SURVEY_THANKS
    ]
    assert "call 911" in messages[-1].body
    # "sí" answered the trust question: it did not become an opt-in, and no auto-reply went.
    assert set(InboundMessage.objects.values_list("intent", flat=True)) == {Intent.SURVEY_ANSWER}
    assert not Notification.objects.filter(kind=MessageKind.AUTO_REPLY).exists()


def test_an_unreadable_answer_is_asked_again_once_then_skipped(client, enrolled):
    with time_machine.travel(REPORTED + dt.timedelta(days=7, hours=1), tick=True):
        start_due_surveys()
        send_all()
        text_in(client, "I don't know really")
        send_all()
        again = texts_to_victim()[-1]
        assert again.body.startswith("Sorry, we could not read that answer.")
        assert "Reply 1 for text message" in again.body
        text_in(client, "whatever")
        send_all()
    enrolled.refresh_from_db()
    assert enrolled.current_question == 1  # skipped to the rating
    assert "Reply 1 (very poor) to 5 (excellent)" in texts_to_victim()[-1].body
    raw = list(enrolled.responses.values_list("raw", "value"))
    assert raw == [("I don't know really", ""), ("whatever", "")]  # kept, not counted


def test_the_first_question_waits_for_allowed_hours(enrolled):
    late = dt.datetime(2026, 12, 9, 5, 30, tzinfo=dt.UTC)  # 22:30 in Phoenix
    start_due_surveys(late)
    [first] = texts_to_victim()
    assert first.not_before == dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)  # 08:00 local


def test_stop_ends_the_survey_and_nothing_more_is_sent(client, enrolled):
    with time_machine.travel(REPORTED + dt.timedelta(days=7, hours=1), tick=True):
        start_due_surveys()
        send_all()
        text_in(client, "1")
        text_in(client, "STOP")
        send_all()
    enrolled.refresh_from_db()
    assert enrolled.survey_status == SurveyStatus.STOPPED
    second = texts_to_victim()[-1]
    assert second.status == Status.CANCELLED and second.status_reason_codes == ["opted_out"]
    assert OptOut.objects.filter(contact__value__matches=VICTIM).exists()


def test_someone_who_opted_out_before_is_not_surveyed_and_is_counted(client, enrolled):
    text_in(client, "STOP")
    start_due_surveys(REPORTED + dt.timedelta(days=8))
    enrolled.refresh_from_db()
    # The text is opted out, so the survey goes to their email, as an invitation to the form.
    assert enrolled.survey_channel == "email"
    [invitation] = Notification.objects.filter(kind=MessageKind.SURVEY_INVITATION)
    assert invitation.contact.value == "ana@example.com"
    assert "/s/" + enrolled.web_key in invitation.body


def test_an_amendment_that_makes_the_report_unsafe_stops_the_survey(agency, enrolled):
    record = make_record(
        report_number=enrolled.report.report_number,
        reported_at="2026-12-01T10:15:00",
        domestic_violence=True,
        victim={"email": "ana@example.com"},
    )
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    start_due_surveys(REPORTED + dt.timedelta(days=8))
    enrolled.refresh_from_db()
    assert enrolled.survey_status == SurveyStatus.UNREACHABLE
    assert "domestic_violence_flag" in enrolled.survey_status_reason
    assert not texts_to_victim()


def test_the_web_form_takes_the_remaining_answers_and_ends_the_texts(client, enrolled):
    with time_machine.travel(REPORTED + dt.timedelta(days=7, hours=1), tick=True):
        start_due_surveys()
        send_all()
        text_in(client, "2")  # email, by text
        page = client.get(f"/s/{enrolled.web_key}")
        assert page.status_code == 200
        html = page.content.decode()
        assert (
            "<legend>1. How would you like to get updates about a police report in the "
            "future?</legend>" in html
        )  # without the texting instructions
        assert 'value="email" checked' in html  # what they already answered
        response = client.post(
            f"/s/{enrolled.web_key}",
            {
                "preferred_channel": "letter",
                "service_rating": "4",
                "trust": "2",
                "likely_to_call": "yes",
            },
        )
        assert response.status_code == 200 and "Thank you" in response.content.decode()
        send_all()
    enrolled.refresh_from_db()
    assert enrolled.survey_status == SurveyStatus.COMPLETED
    given = dict(enrolled.responses.exclude(value="").values_list("question_key", "value"))
    assert given["preferred_channel"] == "email"  # the first answer stands
    assert given["service_rating"] == "4" and given["likely_to_call"] == "yes"
    pending = texts_to_victim()[-1]  # the second question, not yet sent when the form came
    assert pending.status in {Status.CANCELLED, Status.DELIVERED}


def test_the_web_form_rejects_a_made_up_answer_and_keeps_the_rest(client, enrolled):
    response = client.post(
        f"/s/{enrolled.web_key}", {"preferred_channel": "pigeon", "service_rating": "4"}
    )
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and "Please choose one of the answers." in html
    assert 'value="4" checked' in html
    assert not enrolled.responses.exists()


def test_an_unknown_survey_link_is_not_found(client, enrolled):
    assert client.get("/s/not-a-real-key-000").status_code == 404


def test_a_survey_left_unanswered_closes_as_no_response(enrolled):
    start_due_surveys(REPORTED + dt.timedelta(days=7, hours=1))
    assert close_quiet_surveys(REPORTED + dt.timedelta(days=9)) == 0
    assert close_quiet_surveys(REPORTED + dt.timedelta(days=10, hours=2)) == 1
    enrolled.refresh_from_db()
    assert enrolled.survey_status == SurveyStatus.NO_RESPONSE


def test_both_groups_get_the_same_survey(agency):
    create_experiment(agency, "pilot", "Pilot", dt.date(2026, 1, 1), share_notified=50)
    records = [make_record(victim={"phone": f"(520) 555-{1000 + i}"}) for i in range(20)]
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")
    start_due_surveys(REPORTED + dt.timedelta(days=8))
    firsts = Notification.objects.filter(kind=MessageKind.SURVEY_QUESTION)
    groups = {n.contact.value: n for n in firsts}
    by_group = {p.group for p in Participant.objects.filter(phone__value__matches=list(groups))}
    assert by_group == {"A", "B"} and len(groups) == 20
    bodies = {re.sub(r"T-\d+|/s/[\w-]+", "", n.body) for n in firsts}
    assert len(bodies) == 1  # word for word the same, but for the report number and link
