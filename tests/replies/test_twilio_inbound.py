"""Texts people send back, through Twilio's webhook, signed with the SDK's own validator, and
what the system does with each: opt-outs, help, opt-ins, the automatic answer, urgent ones."""

from __future__ import annotations

import uuid

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import TWILIO_TOKEN, make_record
from victim_notify.contacts.models import OptOut, OptOutSource
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.replies.models import InboundMessage, Intent

pytestmark = pytest.mark.django_db

PUBLIC = "https://vn.example"
VICTIM = "+15205550134"
AGENCY_NUMBER = "+15205550100"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.PUBLIC_URL = PUBLIC


def signed_post(
    client, path: str, params: dict[str, str], *, url: str | None = None, tamper: bool = False
):
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url or PUBLIC + path, params)
    body = dict(params, Body=params.get("Body", "") + " extra") if tamper else params
    return client.post(path, body, HTTP_X_TWILIO_SIGNATURE=signature)


def text_in(
    client, body: str, *, sid: str | None = None, sender_number: str = VICTIM, **extra: str
):
    params = {
        "MessageSid": sid or f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender_number,
        "To": AGENCY_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    return signed_post(client, "/hooks/twilio/inbound", params)


def answers(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("created_at"))


@pytest.fixture
def notified(agency):
    """The victim got the report's text, so their replies link to it."""
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    while sender.send_due("w"):
        pass
    return Notification.objects.get(kind=MessageKind.REPORT_FILED)


def test_a_genuine_stop_opts_out_confirms_once_then_silence(client, notified):
    response = text_in(client, "Stop.")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response" in response.content
    reply = InboundMessage.objects.get()
    assert (reply.intent, reply.report_id, reply.party_id) == (
        Intent.OPT_OUT,
        notified.report_id,
        notified.party_id,
    )
    assert OptOut.objects.filter(contact=notified.contact, revoked_at=None).count() == 1
    [confirmation] = answers(MessageKind.OPT_OUT_CONFIRMATION)
    assert "START" in confirmation.body and confirmation.contact_id == notified.contact_id

    text_in(client, "STOP")
    text_in(client, "thanks")
    assert len(answers(MessageKind.OPT_OUT_CONFIRMATION)) == 1
    assert answers(MessageKind.AUTO_REPLY) == []  # silence after an opt-out


@pytest.mark.parametrize(
    "words", ["please stop texting me", "No más mensajes por favor", "don't text me again"]
)
def test_opt_out_in_free_words(client, notified, words):
    text_in(client, words)
    assert InboundMessage.objects.get().intent == Intent.OPT_OUT
    assert OptOut.objects.filter(contact=notified.contact, revoked_at=None).exists()


def test_stop_cancels_a_message_still_waiting_to_go(client, agency):
    agency.post_approval_delay_minutes = 30
    agency.save()
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    waiting = Notification.objects.get()
    text_in(client, "STOP")
    waiting.refresh_from_db()
    assert waiting.status == Status.CANCELLED and waiting.status_reason_codes == ["opted_out"]


def test_a_forged_or_misaddressed_request_is_refused_and_nothing_kept(client, notified):
    params = {"MessageSid": "SMforged", "From": VICTIM, "To": AGENCY_NUMBER, "Body": "STOP"}
    assert signed_post(client, "/hooks/twilio/inbound", params, tamper=True).status_code == 403
    wrong_url = "https://attacker.example/hooks/twilio/inbound"
    assert signed_post(client, "/hooks/twilio/inbound", params, url=wrong_url).status_code == 403
    assert client.post("/hooks/twilio/inbound", params).status_code == 403
    assert not InboundMessage.objects.exists() and not OptOut.objects.exists()


def test_help_gets_the_help_text_opening_with_911(client, notified):
    text_in(client, "HELP")
    [help_text] = answers(MessageKind.HELP)
    assert help_text.body.startswith("Emergency? Call 911.")
    assert "(520) 555-0150" in help_text.body  # the report's investigative section


def test_ayuda_gets_the_spanish_help_text(client, agency):
    text_in(client, "ayuda", sender_number="+15205550199")
    [help_text] = answers(MessageKind.HELP)
    assert help_text.body.startswith("¿Emergencia? Llame al 911.")


def test_start_opts_back_in_and_yes_only_when_opted_out(client, notified):
    text_in(client, "yes")
    assert InboundMessage.objects.get().intent == Intent.MESSAGE  # not opted out: just a reply
    text_in(client, "STOP")
    text_in(client, "Sí")
    assert InboundMessage.objects.order_by("-received_at").first().intent == Intent.OPT_IN
    assert not OptOut.objects.filter(contact=notified.contact, revoked_at=None).exists()
    assert len(answers(MessageKind.OPT_IN_CONFIRMATION)) == 1


def test_an_ordinary_reply_gets_one_automatic_answer_a_day(client, notified):
    text_in(client, "Thank you very much for all your help.")
    text_in(client, "Thanks")
    [answer] = answers(MessageKind.AUTO_REPLY)
    assert "cannot take messages" in answer.body and "911" in answer.body
    assert notified.report.report_number in answer.body
    assert [r.intent for r in InboundMessage.objects.all()] == [Intent.MESSAGE] * 2


def test_an_urgent_reply_gets_the_911_answer_and_reaches_the_on_duty_staff(client, notified):
    agency = notified.agency
    agency.on_duty_email = "watch@testville.example"
    agency.save()
    text_in(client, "he is back outside my house right now")
    reply = InboundMessage.objects.get()
    assert reply.urgent and reply.urgent_terms
    [answer] = answers(MessageKind.URGENT_ANSWER)
    assert answer.body.startswith("If you are in danger, call 911 now.")
    [alert] = answers(MessageKind.STAFF_ALERT)
    assert alert.contact.value == "watch@testville.example" and alert.channel == "email"
    assert "he is back outside my house right now" in alert.body
    assert "Matched: offender there or coming" in alert.body  # words staff read, not rule keys
    assert notified.report.report_number in alert.subject
    assert answers(MessageKind.AUTO_REPLY) == []
    while sender.send_due("w"):
        pass
    answer.refresh_from_db()
    assert answer.status == Status.DELIVERED  # answers go at once, quiet hours or not


def test_someone_told_in_english_who_writes_in_spanish_is_answered_in_spanish(client, notified):
    assert notified.language == "en"
    text_in(client, "ya regresó y está afuera de mi casa")
    [answer] = answers(MessageKind.URGENT_ANSWER)
    assert answer.language == "es"
    assert "911" in answer.body and "If you are in danger" not in answer.body


def test_the_case_study_statement_is_not_an_emergency(client, notified):
    text_in(client, "Thank you. I will call if assailant comes back.")
    assert not InboundMessage.objects.get().urgent
    assert len(answers(MessageKind.AUTO_REPLY)) == 1


def test_twilio_advanced_opt_out_is_recorded_without_a_second_confirmation(client, notified):
    text_in(client, "STOP", OptOutType="STOP")
    assert OptOut.objects.get().source == OptOutSource.PROVIDER
    assert answers(MessageKind.OPT_OUT_CONFIRMATION) == []


def test_the_same_webhook_twice_is_one_reply(client, notified):
    text_in(client, "Thanks", sid="SMsame")
    text_in(client, "Thanks", sid="SMsame")
    assert InboundMessage.objects.count() == 1
    assert len(answers(MessageKind.AUTO_REPLY)) == 1


def test_an_opt_out_on_a_shared_number_holds_for_every_agency_using_it(client, agency):
    from tests.agency_data import agency_data
    from victim_notify.agencies.setup import load_agency

    other = load_agency(agency_data(slug="otherville", name="Otherville Police Department"))
    assert other.sms_from == agency.sms_from
    text_in(client, "STOP")
    assert set(OptOut.objects.values_list("agency__slug", flat=True)) == {"testville", "otherville"}
