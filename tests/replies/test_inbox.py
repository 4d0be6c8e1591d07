"""The replies inbox, over the API and in the admin: urgent first, mark handled, by whom."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from tests.agency_data import agency_data
from victim_notify.accounts.models import AuditEvent
from victim_notify.agencies.models import ApiToken
from victim_notify.agencies.setup import load_agency
from victim_notify.replies.inbound import receive
from victim_notify.replies.models import InboundMessage

pytestmark = pytest.mark.django_db


def reply(
    agency, body: str, sender: str = "+15205550134", sid: str | None = None
) -> InboundMessage:
    message = receive(
        channel="sms",
        to_address=agency.sms_from,
        from_address=sender,
        body=body,
        provider="test",
        provider_message_id=sid or f"{body}-{sender}",
    )
    assert message is not None
    return message


@pytest.fixture
def inbox(agency):
    return [
        reply(agency, "Thank you", sid="a"),
        reply(agency, "he is outside my house right now", sender="+15205550135", sid="b"),
        reply(agency, "Ok thanks", sender="+15205550136", sid="c"),
    ]


def api(client, agency, method: str, path: str, **data):  # type: ignore[no-untyped-def]
    _, token = ApiToken.issue(agency, "inbox")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "get":
        return client.get(f"/api/v1{path}", data, **headers)
    return client.post(f"/api/v1{path}", data, content_type="application/json", **headers)


def test_urgent_replies_come_first_then_unhandled_newest_first(client, agency, inbox):
    body = api(client, agency, "get", "/replies").json()
    assert body[0]["body"] == "he is outside my house right now"
    assert body[0]["urgent"] and body[0]["urgent_terms"]
    assert [r["body"] for r in body[1:]] == ["Ok thanks", "Thank you"]


def test_marking_handled_records_who_when_and_a_note(client, agency, inbox):
    urgent = inbox[1]
    answer = api(
        client,
        agency,
        "post",
        f"/replies/{urgent.pk}/handled",
        by="Sgt. Lopez",
        note="Called her; a unit was sent.",
    ).json()
    assert answer["handled_by"] == "Sgt. Lopez" and answer["handled_at"]
    urgent.refresh_from_db()
    assert urgent.handled_note == "Called her; a unit was sent."
    assert AuditEvent.objects.filter(action="reply.handled", object_id=str(urgent.pk)).exists()
    body = api(client, agency, "get", "/replies", handled=False).json()
    assert urgent.body not in [r["body"] for r in body]


def test_another_agencys_token_sees_none_of_these_replies(client, agency, inbox):
    other = load_agency(agency_data(slug="elsewhere", sms_from="+15205550199"))
    assert api(client, other, "get", "/replies").json() == []
    assert api(client, other, "post", f"/replies/{inbox[0].pk}/handled", by="x").status_code == 404


def test_the_admin_inbox_and_its_mark_handled_action(admin_client, agency, inbox):
    page = admin_client.get(reverse("admin:replies_inboundmessage_changelist"))
    rows = list(page.context["cl"].result_list)
    assert rows[0].urgent
    admin_client.post(
        reverse("admin:replies_inboundmessage_changelist"),
        {
            "action": "mark_handled",
            ACTION_CHECKBOX_NAME: [str(inbox[1].pk)],
            "apply": "1",
            "note": "Patrol sent",
        },
    )
    inbox[1].refresh_from_db()
    assert inbox[1].handled_at and inbox[1].handled_by_name == "admin"
    assert inbox[1].handled_note == "Patrol sent"
