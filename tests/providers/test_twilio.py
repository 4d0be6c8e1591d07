"""The Twilio provider, through the official SDK, against the local fake of the Messages API."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.fakes.twilio_api import FakeTwilio
from victim_notify.providers.base import (
    OutcomeUnknown,
    OutgoingMessage,
    PermanentFailure,
    TransientFailure,
)
from victim_notify.providers.twilio import TwilioProvider


def text(**changes: str) -> OutgoingMessage:
    values = {
        "notification_id": uuid.uuid4(),
        "channel": "sms",
        "to": "+15205550134",
        "sender": "+15205550100",
        "sender_name": "Testville Police",
        "reply_to": "",
        "subject": "",
        "body": "Testville Police: report T-000001. Reply STOP to opt out.",
        "html": "",
    }
    values.update(changes)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def fake():
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as running:
        yield running


@pytest.fixture
def provider(fake):
    made = TwilioProvider(
        TWILIO_SID,
        TWILIO_TOKEN,
        api_url=fake.base_url,
        timeout=2,
        status_callback_base="https://vn.example/hooks/twilio/status",
    )
    yield made
    made.close()


def test_text_is_created_with_the_notification_id_in_the_status_callback(fake, provider):
    message = text()
    accepted = provider.send(message)
    [received] = fake.messages
    assert accepted.provider_message_id == received.sid and accepted.provider_status == "queued"
    assert (received.to, received.from_, received.body) == (
        message.to,
        message.sender,
        message.body,
    )
    assert (
        received.status_callback
        == f"https://vn.example/hooks/twilio/status/{message.notification_id}"
    )


def test_wrong_credentials_are_retried_later_not_dropped(fake):
    provider = TwilioProvider(TWILIO_SID, "wrong", api_url=fake.base_url, timeout=2)
    with pytest.raises(TransientFailure) as failure:
        provider.send(text())
    assert failure.value.code == "20003"


@pytest.mark.parametrize(("setup", "code"), [("invalid", "21211"), ("unsubscribed", "21610")])
def test_numbers_twilio_refuses_are_permanent_failures(fake, provider, setup, code):
    getattr(fake, f"{setup}_numbers").add("+15205550134")
    with pytest.raises(PermanentFailure) as failure:
        provider.send(text())
    assert failure.value.code == code
    assert fake.messages == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient(fake, provider, status):
    fake.fail_next(1, status=status)
    with pytest.raises(TransientFailure):
        provider.send(text())
    provider.send(text())  # and the next one goes through
    assert len(fake.messages) == 1


def test_no_answer_in_time_is_an_unknown_outcome_to_look_up_not_to_resend(fake, provider):
    fake.hang_next(1, seconds=4)
    with pytest.raises(OutcomeUnknown) as failure:
        provider.send(text())
    assert failure.value.code == "no_answer"
    fake.hang_next(1, seconds=4)
    [(_, result)] = list(provider.send_many([text(body="hang again")]))
    assert isinstance(result, OutcomeUnknown)


def test_refused_connection_is_transient(fake, provider):
    fake.stop()
    with pytest.raises(TransientFailure) as failure:
        provider.send(text())
    assert failure.value.code == "connection"
    [(_, result)] = list(provider.send_many([text()]))
    assert isinstance(result, TransientFailure) and result.code == "connection"


def test_outage_is_transient(fake, provider):
    fake.stop()
    with pytest.raises(TransientFailure):
        provider.send(text())


def test_find_tells_whether_twilio_has_a_message(fake, provider):
    handed = text()
    accepted = provider.send(handed)
    provider.send(text(body="Testville Police: report T-000002. Reply STOP to opt out."))
    assert provider.find(handed).provider_message_id == accepted.provider_message_id
    assert provider.find(text(body="Testville Police: report T-000003.")) is None


def test_many_texts_in_flight_each_sent_once(fake, provider):
    messages = [text(body=f"report T-{i:06d}") for i in range(50)]
    results = list(provider.send_many(messages))
    assert all(not isinstance(result, Exception) for _, result in results)
    assert sorted(m.body for m in fake.messages) == sorted(m.body for m in messages)
