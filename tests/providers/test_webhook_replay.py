"""Webhooks someone captured and sends again: every webhook endpoint checks its signature, and a
validly signed request replayed does nothing the second time (signatures computed with the
official twilio RequestValidator, through the real views).

Twilio's webhooks carry no timestamp and no nonce (the signature covers only the URL and the
form), so a replayed request cannot be told from the first by its age: each is made idempotent
by the provider's message id and what it reports instead. None of our webhooks carries a
timestamp to check against a tolerance window."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from twilio.request_validator import RequestValidator

from tests.conftest import TWILIO_SID, TWILIO_TOKEN, make_record
from tests.fakes.twilio_api import FakeTwilio
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import DeliveryEvent, MessageKind, Notification, Status
from victim_notify.providers import registry
from victim_notify.replies.models import InboundMessage

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


def signed(client, path: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def status_callback(note: Notification, status: str, error: str = "") -> dict[str, str]:
    params = {"MessageSid": note.provider_message_id, "MessageStatus": status}
    params["AccountSid"] = TWILIO_SID
    if error:
        params["ErrorCode"] = error
    return params


def _webhook_paths() -> list[str]:
    """Every URL under /hooks/, with a made-up value for each parameter."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("hooks/"):
                found.append("/" + route.replace("<uuid:notification_id>", str(uuid.uuid4())))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_webhook_refuses_a_request_without_a_good_signature(client, twilio):
    paths = _webhook_paths()
    assert len(paths) >= 2
    params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "Body": "STOP"}
    for path in paths:
        assert client.post(path, params).status_code == 403, path
        assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE="x").status_code == 403, path
        # Signed for another address (a request captured elsewhere and sent here).
        elsewhere = "https://other.example" + path
        other = RequestValidator(TWILIO_TOKEN).compute_signature(elsewhere, params)
        assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=other).status_code == 403
    assert not InboundMessage.objects.exists() and not DeliveryEvent.objects.exists()


def test_webhooks_are_refused_when_no_auth_token_is_configured(client, twilio, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"MessageSid": "SM" + "3" * 32, "From": "+15205550134", "Body": "STOP"}
    assert signed(client, "/hooks/twilio/inbound", params).status_code == 403


def test_a_replayed_status_callback_is_recorded_once(client, agency, twilio):
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    send_all()
    note = Notification.objects.get()
    for _ in range(3):
        assert signed(client, f"/hooks/twilio/status/{note.pk}", status_callback(note, "sent"))
    assert DeliveryEvent.objects.count() == 1


def test_a_replayed_failure_does_not_undo_the_retry_or_send_a_third_time(client, agency, twilio):
    """The dangerous replay: an old "undelivered" for the first try, sent again after the retry
    went out, would put the message back in the queue and text the victim again."""
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    send_all()
    note = Notification.objects.get()
    first_try = status_callback(note, "undelivered", "30003")
    path = f"/hooks/twilio/status/{note.pk}"
    assert signed(client, path, first_try).status_code == 204
    note.refresh_from_db()
    assert note.status == Status.PENDING
    with time_machine.travel(note.not_before + dt.timedelta(seconds=1), tick=False):
        send_all()
    note.refresh_from_db()
    assert note.status == Status.SENT and note.provider_message_id != first_try["MessageSid"]
    assert len(twilio.messages) == 2

    assert signed(client, path, first_try).status_code == 204  # the replay
    note.refresh_from_db()
    assert note.status == Status.SENT
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1), tick=False):
        send_all()
    assert len(twilio.messages) == 2
    assert DeliveryEvent.objects.filter(provider_status="undelivered").count() == 1


def test_a_replayed_inbound_stop_is_one_opt_out_and_one_confirmation(client, agency, twilio):
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    send_all()
    params = {
        "MessageSid": "SM" + "4" * 32,
        "AccountSid": TWILIO_SID,
        "From": "+15205550134",
        "To": "+15205550100",
        "Body": "STOP",
    }
    for _ in range(3):
        assert signed(client, "/hooks/twilio/inbound", params).status_code == 200
    assert InboundMessage.objects.count() == 1
    assert Notification.objects.filter(kind=MessageKind.OPT_OUT_CONFIRMATION).count() == 1
