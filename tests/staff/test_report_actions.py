"""Staff actions on a report's messages and people: hold, release, cancel, correct a contact
and send again, mark do-not-contact. Each one is checked by what the sender then does."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.contacts.models import OptOutSource
from victim_notify.contacts.optouts import contact_for, opt_out
from victim_notify.intake.models import Party, Report
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.providers.models import DevOutboxMessage
from victim_notify.rules.models import Decision

pytestmark = pytest.mark.django_db

OLD_PHONE, NEW_PHONE = "+15205550134", "+15205550188"


@pytest.fixture
def record():
    return make_record()


@pytest.fixture
def text(agency, record) -> Notification:
    take_in(agency, record)
    return Notification.objects.get(channel="sms")


def send_everything() -> None:
    while sender.send_due("staff-tests"):
        pass


def url(name: str, **kwargs: object) -> str:
    return reverse(f"staff:{name}", kwargs=kwargs)


def page_of(note: Notification) -> str:
    return url("report", report_id=note.report_id)


def test_held_text_stays_pending_through_the_sender_until_released(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    page = client.get(page_of(text)).content.decode()
    assert url("notification-hold", notification_id=text.pk) in page

    response = client.post(url("notification-hold", notification_id=text.pk))

    assert response.status_code == 302
    assert response["Location"] == f"{page_of(text)}#message-{text.pk}"
    send_everything()
    text.refresh_from_db()
    assert text.status == Status.PENDING and "staff_hold" in text.status_reason_codes
    assert not DevOutboxMessage.objects.filter(notification_id=text.pk).exists()
    shown = client.get(page_of(text)).content.decode()
    assert "Held by staff" in shown and "The message is held" in shown
    assert url("notification-release", notification_id=text.pk) in shown

    client.post(url("notification-release", notification_id=text.pk))
    send_everything()

    text.refresh_from_db()
    assert text.status == Status.DELIVERED and text.status_reason_codes == []
    sent = DevOutboxMessage.objects.filter(notification_id=text.pk)
    assert any(m.recipient == OLD_PHONE for m in sent)
    actions = list(
        AuditEvent.objects.filter(action__startswith="notification.")
        .order_by("pk")
        .values_list("action", "object_id")
    )
    assert actions == [("notification.held", str(text.pk)), ("notification.released", str(text.pk))]


def test_a_held_text_keeps_the_age_it_had_left(signed_in, text):
    left = text.expires_at - text.created_at
    client = signed_in(Role.SUPERVISOR)
    client.post(url("notification-hold", notification_id=text.pk))
    client.post(url("notification-release", notification_id=text.pk))
    text.refresh_from_db()
    assert abs((text.expires_at - text.not_before) - left).total_seconds() < 60


def test_a_sent_text_cannot_be_held(signed_in, text):
    send_everything()
    client = signed_in(Role.ADVOCATE)
    response = client.post(url("notification-hold", notification_id=text.pk), follow=True)
    assert "Only a message waiting to be sent can be changed" in response.content.decode()
    text.refresh_from_db()
    assert text.status == Status.DELIVERED
    assert not AuditEvent.objects.filter(action="notification.held").exists()


def test_cancelled_text_is_never_sent_and_the_reason_is_a_fixed_code(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    assert client.post(url("notification-cancel", notification_id=text.pk)).status_code == 302
    text.refresh_from_db()
    assert text.status == Status.PENDING  # no reason given: nothing done

    client.post(
        url("notification-cancel", notification_id=text.pk), {"reason": "staff_victim_asked"}
    )
    send_everything()

    text.refresh_from_db()
    assert text.status == Status.CANCELLED
    assert text.status_reason_codes == ["staff_cancelled", "staff_victim_asked"]
    assert not DevOutboxMessage.objects.exists()
    event = AuditEvent.objects.get(action="notification.cancelled")
    assert event.detail == {"report": text.report_id, "reason": "staff_victim_asked"}
    page = client.get(page_of(text)).content.decode()
    assert "a member of staff cancelled it" in page and "The person asked not to get it" in page


def test_a_held_text_can_be_cancelled(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    client.post(url("notification-hold", notification_id=text.pk))
    client.post(url("notification-cancel", notification_id=text.pk), {"reason": "staff_other"})
    text.refresh_from_db()
    assert text.status == Status.CANCELLED


def test_a_clerk_reads_the_report_but_cannot_act(signed_in, text):
    party = text.party
    client = signed_in(Role.CLERK)
    page = client.get(page_of(text)).content.decode()
    assert "/hold" not in page and "/cancel" not in page and "/do-not-contact" not in page

    for name, kwargs in [
        ("notification-hold", {"notification_id": text.pk}),
        ("notification-release", {"notification_id": text.pk}),
        ("notification-cancel", {"notification_id": text.pk}),
        ("party-contact", {"party_id": party.pk}),
        ("party-do-not-contact", {"party_id": party.pk}),
    ]:
        response = client.post(url(name, **kwargs), {"reason": "staff_other", "phone": NEW_PHONE})
        assert response.status_code == 403, name
    assert client.get(url("party-contact", party_id=party.pk)).status_code == 403
    text.refresh_from_db()
    party.refresh_from_db()
    assert text.status == Status.PENDING and not party.do_not_contact


def test_actions_only_answer_post(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    assert client.get(url("notification-hold", notification_id=text.pk)).status_code == 405
    assert client.get(url("party-do-not-contact", party_id=text.party_id)).status_code == 405


def test_corrected_phone_gets_a_new_text_and_the_old_phone_none(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    form = client.get(url("party-contact", party_id=text.party_id))
    assert form.status_code == 200 and "(520) 555-0134" in form.content.decode()

    response = client.post(
        url("party-contact", party_id=text.party_id), {"phone": "520 555 0188", "email": ""}
    )

    assert response.status_code == 302
    text.refresh_from_db()
    assert text.status == Status.CANCELLED
    assert text.status_reason_codes == ["staff_contact_corrected"]
    new = Notification.objects.get(channel="sms", status=Status.PENDING)
    assert new.contact.value == NEW_PHONE and new.party_id == text.party_id
    assert new.decision.send and new.decision.channel == "sms"
    send_everything()
    assert list(DevOutboxMessage.objects.values_list("recipient", flat=True)) == [NEW_PHONE]
    event = AuditEvent.objects.get(action="party.contact_corrected")
    assert event.detail["fields"] == ["phone"]
    assert "0188" not in json.dumps(event.detail) and "0134" not in json.dumps(event.detail)
    page = client.get(page_of(text)).content.decode()
    assert "1 new message is queued" in page and "(520) 555-0188" in page


def test_corrected_contact_after_a_failure_is_sent_and_the_old_one_is_not_retried(
    signed_in, agency
):
    take_in(agency, make_record(victim={"phone": "520-555-0199"}))
    old = Notification.objects.get(channel="sms")
    Notification.objects.filter(pk=old.pk).update(
        status=Status.FAILED_PERMANENT, provider_error_code="21211"
    )
    client = signed_in(Role.ADVOCATE)
    client.post(url("party-contact", party_id=old.party_id), {"phone": NEW_PHONE, "email": ""})
    send_everything()
    assert list(DevOutboxMessage.objects.values_list("recipient", flat=True)) == [NEW_PHONE]
    old.refresh_from_db()
    assert old.status == Status.FAILED_PERMANENT


def test_corrected_contact_follows_the_rules_an_opted_out_phone_gets_nothing(signed_in, text):
    agency = text.agency
    opt_out(
        agency, contact_for(agency, phone=NEW_PHONE), source=OptOutSource.COMMAND, actor_label="t"
    )
    client = signed_in(Role.ADVOCATE)
    response = client.post(
        url("party-contact", party_id=text.party_id), {"phone": NEW_PHONE, "email": ""}, follow=True
    )
    assert not Notification.objects.filter(status=Status.PENDING).exists()
    decision = Decision.objects.filter(channel="sms").latest("pk")
    assert not decision.send and "opted_out" in decision.reason_codes
    assert "No new message will be sent" in response.content.decode()


def test_corrected_contact_that_is_not_valid_is_refused(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    response = client.post(
        url("party-contact", party_id=text.party_id), {"phone": "12", "email": "not-an-email"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This is not a valid phone number." in page
    assert "This is not a valid email address." in page
    text.refresh_from_db()
    assert text.status == Status.PENDING
    assert not AuditEvent.objects.filter(action="party.contact_corrected").exists()


def test_adding_an_email_sends_an_email_and_leaves_the_text_alone(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    client.post(
        url("party-contact", party_id=text.party_id),
        {"phone": "(520) 555-0134", "email": "Ana@Example.com"},
    )
    text.refresh_from_db()
    assert text.status == Status.PENDING
    email = Notification.objects.get(channel="email")
    assert email.contact.value == "ana@example.com" and email.status == Status.PENDING
    assert AuditEvent.objects.get(action="party.contact_corrected").detail["fields"] == ["email"]


def test_do_not_contact_cancels_waiting_messages_and_survives_a_new_version(
    signed_in, agency, record, text
):
    party = text.party
    client = signed_in(Role.SUPERVISOR)

    response = client.post(url("party-do-not-contact", party_id=party.pk), follow=True)

    text.refresh_from_db()
    party.refresh_from_db()
    assert party.do_not_contact
    assert text.status == Status.CANCELLED
    assert text.status_reason_codes == ["staff_do_not_contact"]
    page = response.content.decode()
    assert "Not contacted: staff marked this person do not contact." in page
    assert "Do not contact (set by staff)" in page
    event = AuditEvent.objects.get(action="party.do_not_contact_set")
    assert event.object_id == str(party.pk)

    # The RMS sends a new version with different facts: still nobody writes to them.
    take_in(agency, record | {"offenses": ["220"]})
    send_everything()

    party.refresh_from_db()
    assert Report.objects.get(pk=party.report_id).version == 2
    assert party.do_not_contact
    assert not Notification.objects.exclude(status=Status.CANCELLED).exists()
    assert not DevOutboxMessage.objects.exists()
    latest = Decision.objects.filter(party=party, report_version=2).get()
    assert latest.reason_codes == ["staff_do_not_contact"] and not latest.send


def test_do_not_contact_can_be_undone_and_the_rules_decide_again(signed_in, text):
    party = text.party
    client = signed_in(Role.ADVOCATE)
    client.post(url("party-do-not-contact", party_id=party.pk))
    client.post(url("party-do-not-contact", party_id=party.pk), {"do_not_contact": "off"})

    party.refresh_from_db()
    assert not party.do_not_contact
    again = Notification.objects.get(status=Status.PENDING)
    assert again.contact.value == OLD_PHONE and again.pk != text.pk
    assert list(
        AuditEvent.objects.filter(action__startswith="party.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["party.do_not_contact_set", "party.do_not_contact_cleared"]


def test_do_not_contact_is_a_rule_the_sender_checks_at_hand_off(text):
    Party.objects.filter(pk=text.party_id).update(do_not_contact=True)
    send_everything()
    text.refresh_from_db()
    assert text.status == Status.CANCELLED
    assert text.status_reason_codes == ["staff_do_not_contact"]


def test_do_not_contact_explains_its_scope_and_shows_who_set_it_and_why(signed_in, text):
    party = text.party
    client = signed_in(Role.SUPERVISOR)
    before = client.get(page_of(text)).content.decode()
    assert "about this report, now and in later versions of it" in before
    assert "does not stop messages to their phone or email about other reports" in before
    assert "STOP reply" in before and 'name="reason"' in before

    response = client.post(
        url("party-do-not-contact", party_id=party.pk), {"reason": "safety"}, follow=True
    )

    page = response.content.decode()
    event = AuditEvent.objects.get(action="party.do_not_contact_set")
    assert event.detail == {"report": party.report_id, "cancelled": 1, "reason": "safety"}
    assert "Set by supervisor.testville on" in page
    assert "supervisor.testville marked Ana Ruiz (victim) do not contact" in page
    assert "Reason given: Contact could put the person at risk" in page


def test_do_not_contact_reason_is_a_fixed_code_never_free_text(signed_in, text):
    client = signed_in(Role.ADVOCATE)
    client.post(url("party-do-not-contact", party_id=text.party_id), {"reason": "her ex Bob Smith"})
    event = AuditEvent.objects.get(action="party.do_not_contact_set")
    assert "reason" not in event.detail
    assert "Bob" not in json.dumps(event.detail)
