"""What providers say after taking a message: Twilio status callbacks (signed), classified
failures, dead contacts not tried again, carrier opt-outs, and the other channel once."""

from __future__ import annotations

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from tests.conftest import TWILIO_SID, TWILIO_TOKEN, make_record
from tests.fakes.twilio_api import FakeTwilio
from victim_notify.contacts.models import Contact, OptOut, OptOutSource
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import DeliveryEvent, Notification, Status
from victim_notify.providers import registry
from victim_notify.rules.models import Decision

pytestmark = pytest.mark.django_db

PUBLIC = "https://vn.example"


@pytest.fixture
def twilio(settings):
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        settings.SMS_PROVIDERS = ["twilio"]
        settings.TWILIO_ACCOUNT_SID = TWILIO_SID
        settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
        settings.TWILIO_API_URL = fake.base_url
        settings.PUBLIC_URL = PUBLIC
        registry.reset()
        yield fake


def send_all() -> None:
    while sender.send_due("w"):
        pass


def callback(client, note: Notification, status: str, error: str = "", *, forged: bool = False):
    path = f"/hooks/twilio/status/{note.pk}"
    params = {
        "MessageSid": note.provider_message_id or "SMunknown",
        "MessageStatus": status,
        "AccountSid": TWILIO_SID,
    }
    if error:
        params["ErrorCode"] = error
    signature = RequestValidator("not the token" if forged else TWILIO_TOKEN).compute_signature(
        PUBLIC + path, params
    )
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def sent_text(agency, twilio):
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    send_all()
    note = Notification.objects.get()
    assert note.status == Status.SENT and note.provider == "twilio"
    assert note.provider_message_id.startswith("SM")
    return note


def test_delivered_callback(client, sent_text):
    assert callback(client, sent_text, "delivered").status_code == 204
    sent_text.refresh_from_db()
    assert sent_text.status == Status.DELIVERED and sent_text.provider_status == "delivered"
    assert DeliveryEvent.objects.get().provider_status == "delivered"


def test_a_forged_callback_changes_nothing(client, sent_text):
    assert callback(client, sent_text, "failed", "30006", forged=True).status_code == 403
    sent_text.refresh_from_db()
    assert sent_text.status == Status.SENT and not DeliveryEvent.objects.exists()


def test_callbacks_out_of_order_never_undo_a_final_status(client, sent_text):
    callback(client, sent_text, "delivered")
    callback(client, sent_text, "sent")
    callback(client, sent_text, "undelivered", "30003")
    sent_text.refresh_from_db()
    assert sent_text.status == Status.DELIVERED
    assert DeliveryEvent.objects.count() == 3  # every report is kept beside our status


def test_a_landline_is_not_tried_again_on_the_next_report(client, agency, sent_text):
    callback(client, sent_text, "undelivered", "30006")
    sent_text.refresh_from_db()
    assert (sent_text.status, sent_text.provider_error_code) == (Status.FAILED_PERMANENT, "30006")
    contact = Contact.objects.get(pk=sent_text.contact_id)
    assert contact.undeliverable_code == "30006" and contact.undeliverable_at
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    latest = Decision.objects.filter(channel="sms").latest("pk")
    assert not latest.send and latest.reason_codes == ["contact_undeliverable"]


def test_an_unreachable_handset_is_retried(client, sent_text):
    callback(client, sent_text, "undelivered", "30003")
    sent_text.refresh_from_db()
    assert sent_text.status == Status.PENDING and sent_text.provider_error_code == "30003"
    assert not Contact.objects.get(pk=sent_text.contact_id).undeliverable_at


def test_a_carrier_opt_out_becomes_an_opt_out(client, sent_text):
    callback(client, sent_text, "failed", "21610")
    opt_out = OptOut.objects.get()
    assert opt_out.source == OptOutSource.PROVIDER and opt_out.contact_id == sent_text.contact_id


def test_a_number_twilio_refuses_at_once_is_marked_and_opted_out(agency, twilio):
    twilio.unsubscribed_numbers.add("+15205550134")
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    send_all()
    note = Notification.objects.get()
    assert note.status == Status.FAILED_PERMANENT and note.provider_error_code == "21610"
    assert OptOut.objects.get().source == OptOutSource.PROVIDER


def test_a_callback_that_beats_the_worker_still_counts(client, agency, twilio):
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    [note_id] = sender.claim("slow", 10, timezone.now())
    note = Notification.objects.get(pk=note_id)
    path = f"/hooks/twilio/status/{note.pk}"
    params = {"MessageSid": "SMearly", "MessageStatus": "delivered", "AccountSid": TWILIO_SID}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, params)
    client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
    note.refresh_from_db()
    assert note.status == Status.DELIVERED and note.provider_message_id == "SMearly"


@pytest.mark.django_db(transaction=True)
def test_an_email_follows_a_text_that_failed_for_good(client, agency, twilio, settings):
    agency.email_only_without_text = True
    agency.save()
    ingest(
        agency,
        [IncomingRecord.from_object(0, make_record(victim={"email": "ana@example.com"}))],
        source="api",
    )
    email_decision = Decision.objects.get(channel="email")
    assert not email_decision.send and email_decision.reason_codes == ["text_first"]
    send_all()
    text = Notification.objects.get(channel="sms")
    callback(client, text, "undelivered", "30006")
    email = Notification.objects.get(channel="email")
    assert email.facts_key == text.facts_key and email.status == Status.PENDING
    assert Decision.objects.get(channel="email", send=True).reason_codes == [
        "eligible",
        "fallback_after_failure",
    ]
    callback(client, text, "undelivered", "30006")  # a repeated report does not add another
    assert Notification.objects.filter(channel="email").count() == 1
