"""The replies inbox in the staff app: urgent first, filters, marking handled with and without
htmx, the audit trail, and who may see it."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.urls import reverse

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency
from victim_notify.contacts.models import Contact, ContactKind
from victim_notify.contacts.normalise import display_phone
from victim_notify.intake.models import Report
from victim_notify.replies.models import InboundMessage, Intent

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
NOON = dt.datetime(2026, 12, 1, 19, 0, tzinfo=dt.UTC)  # 12:00 in Phoenix


def reply(
    agency: Agency,
    body: str,
    *,
    minutes_ago: int = 0,
    channel: str = "sms",
    urgent_terms: list[str] | None = None,
    handled: bool = False,
    report: Report | None = None,
) -> InboundMessage:
    n = next(_ids)
    kind = ContactKind.PHONE if channel == "sms" else ContactKind.EMAIL
    value = f"+1520555{n:04d}" if channel == "sms" else f"person{n}@example.com"
    message = InboundMessage.objects.create(
        agency=agency,
        channel=channel,
        contact=Contact.objects.create(kind=kind, value=value),
        to_address=agency.sms_from,
        body=body,
        provider="test",
        provider_message_id=f"m{n}",
        intent=Intent.MESSAGE,
        urgent=bool(urgent_terms),
        urgent_terms=urgent_terms or [],
        report=report,
        handled_at=NOON if handled else None,
        handled_by_name="someone.earlier" if handled else "",
        handled_note="Called back" if handled else "",
    )
    # received_at is set on creation; place it in time for ordering.
    InboundMessage.objects.filter(pk=message.pk).update(
        received_at=NOON - dt.timedelta(minutes=minutes_ago)
    )
    message.refresh_from_db()
    return message


def bodies(html: str) -> list[str]:
    return re.findall(r'<p class="reply-body">([^<]*)</p>', html)


def handle_url(message: InboundMessage) -> str:
    return reverse("staff:reply-handle", kwargs={"reply_id": message.pk})


def test_urgent_replies_come_first_then_the_newest(signed_in, agency):
    reply(agency, "Thanks, got it", minutes_ago=30)
    reply(agency, "Who is my detective?", minutes_ago=5)
    reply(agency, "He is outside my house now", minutes_ago=60, urgent_terms=["offender_here"])

    page = signed_in(Role.ADVOCATE).get(reverse("staff:replies")).content.decode()

    assert bodies(page) == ["He is outside my house now", "Who is my detective?", "Thanks, got it"]


def test_an_urgent_reply_says_urgent_and_why_in_words_with_its_report(signed_in, agency):
    take_in(agency, make_record(report_number="T-REPLY-1"))
    report = Report.objects.get(report_number="T-REPLY-1")
    urgent = reply(agency, "he said he will hurt me", urgent_terms=["threat"], report=report)

    page = signed_in(Role.ADVOCATE).get(reverse("staff:replies")).content.decode()

    row = page[page.index(f'id="reply-{urgent.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="urgent"' in page
    assert "Urgent" in row and "a threat" in row
    assert f'href="{reverse("staff:report", kwargs={"report_id": report.pk})}">T-REPLY-1<' in row
    assert display_phone(urgent.contact.value) in row  # as people write it: (520) 555-0004
    assert "12:00" in row  # 19:00 UTC is noon in the agency's time zone (Phoenix)
    assert page.count("Urgent, not handled") == 1


def test_the_count_of_urgent_replies_waiting_is_at_the_top(signed_in, agency):
    reply(agency, "help", urgent_terms=["help"])
    reply(agency, "there is a fire", urgent_terms=["fire"])
    reply(agency, "he has a knife", urgent_terms=["weapon"], handled=True)
    reply(agency, "thanks")

    response = signed_in(Role.ADVOCATE).get(reverse("staff:replies"))

    assert response.context["urgent_waiting"] == 2
    assert response.context["waiting"] == 3


def test_filters_show_handled_all_urgent_only_and_a_channel(signed_in, agency):
    reply(agency, "open text", minutes_ago=1)
    reply(agency, "open email", minutes_ago=2, channel="email")
    reply(agency, "urgent text", minutes_ago=3, urgent_terms=["injury"])
    reply(agency, "done text", minutes_ago=4, handled=True)
    client = signed_in(Role.SUPERVISOR)
    url = reverse("staff:replies")

    assert bodies(client.get(url).content.decode()) == ["urgent text", "open text", "open email"]
    assert bodies(client.get(url, {"state": "handled"}).content.decode()) == ["done text"]
    assert len(bodies(client.get(url, {"state": "all"}).content.decode())) == 4
    assert bodies(client.get(url, {"urgent": "on"}).content.decode()) == ["urgent text"]
    assert bodies(client.get(url, {"channel": "email"}).content.decode()) == ["open email"]


def test_the_inbox_shows_fifty_a_page(signed_in, agency):
    for minute in range(51):
        reply(agency, f"reply {minute}", minutes_ago=minute)
    client = signed_in(Role.ADVOCATE)

    first = client.get(reverse("staff:replies")).content.decode()
    second = client.get(reverse("staff:replies"), {"page": 2}).content.decode()

    assert len(bodies(first)) == 50
    assert bodies(second) == ["reply 50"]
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_viewing_the_inbox_is_audited_with_counts_only(signed_in, agency):
    reply(agency, "a private message about my case")
    client = signed_in(Role.ADVOCATE)

    client.get(reverse("staff:replies"))

    event = AuditEvent.objects.get(action="replies.viewed")
    assert event.detail == {"count": 1, "page": 1}
    assert event.agency == agency


def test_marking_handled_with_a_plain_post_records_who_when_and_the_note(
    signed_in, staff_of, agency
):
    message = reply(agency, "Can I get a copy of the report?")
    client = signed_in(Role.ADVOCATE)

    response = client.post(
        handle_url(message), {"note": "Sent the records request link", "next": "/staff/replies"}
    )

    assert response.status_code == 302 and response["Location"] == "/staff/replies"
    message.refresh_from_db()
    advocate = staff_of(Role.ADVOCATE).user
    assert message.handled_at is not None
    assert message.handled_by == advocate
    assert message.handled_by_name == advocate.username
    assert message.handled_note == "Sent the records request link"
    event = AuditEvent.objects.get(action="reply.handled")
    assert (event.object_type, event.object_id) == ("replies.inboundmessage", str(message.pk))
    assert event.detail == {}
    assert "records request" not in str(event.detail)
    assert "Marked handled" in client.get("/staff/replies").content.decode()


def test_marking_handled_with_htmx_returns_only_the_row(signed_in, agency):
    message = reply(agency, "Thank you officer")
    client = signed_in(Role.ADVOCATE)

    response = client.post(handle_url(message), {"note": ""}, HTTP_HX_REQUEST="true")

    html = response.content.decode().strip()
    assert response.status_code == 200
    assert html.startswith(f'<tr id="reply-{message.pk}"')
    assert "<html" not in html and "Handled" in html and "Mark handled" not in html
    message.refresh_from_db()
    assert message.handled_at is not None and message.handled_note == ""


def test_the_handle_form_targets_its_row_for_htmx(signed_in, agency):
    message = reply(agency, "ok")

    page = signed_in(Role.ADVOCATE).get(reverse("staff:replies")).content.decode()

    assert f'hx-post="{handle_url(message)}"' in page
    assert 'hx-target="closest tr"' in page and 'hx-swap="outerHTML"' in page
    assert f'action="{handle_url(message)}"' in page  # and without JavaScript


def test_an_urgent_reply_needs_a_note(signed_in, agency):
    message = reply(agency, "someone is hurt", urgent_terms=["injury"])
    client = signed_in(Role.ADVOCATE)

    by_htmx = client.post(handle_url(message), {"note": "  "}, HTTP_HX_REQUEST="true")
    plain = client.post(handle_url(message), {"note": ""}, follow=True)

    assert "needs a note" in by_htmx.content.decode()
    assert "Mark handled" in by_htmx.content.decode()
    assert "needs a note" in plain.content.decode()
    message.refresh_from_db()
    assert message.handled_at is None
    assert not AuditEvent.objects.filter(action="reply.handled").exists()

    client.post(handle_url(message), {"note": "Called 911 dispatch"}, HTTP_HX_REQUEST="true")
    message.refresh_from_db()
    assert message.handled_note == "Called 911 dispatch"


def test_a_reply_already_handled_is_not_changed(signed_in, agency):
    message = reply(agency, "thanks", handled=True)
    client = signed_in(Role.ADVOCATE)

    response = client.post(handle_url(message), {"note": "me too"}, HTTP_HX_REQUEST="true")

    assert "Already marked handled by someone.earlier" in response.content.decode()
    message.refresh_from_db()
    assert (message.handled_by_name, message.handled_note) == ("someone.earlier", "Called back")
    assert not AuditEvent.objects.filter(action="reply.handled").exists()


def test_a_reply_of_another_agency_is_not_found(signed_in, agency, other_agency):
    theirs = reply(other_agency, "not yours")
    client = signed_in(Role.ADVOCATE)

    assert client.post(handle_url(theirs), {"note": "x"}).status_code == 404
    assert "not yours" not in client.get(reverse("staff:replies")).content.decode()
    theirs.refresh_from_db()
    assert theirs.handled_at is None


def test_an_analyst_may_not_open_the_inbox_or_handle_a_reply(signed_in, agency):
    message = reply(agency, "thanks")
    client = signed_in(Role.ANALYST)

    assert client.get(reverse("staff:replies")).status_code == 403
    assert client.post(handle_url(message), {"note": "x"}).status_code == 403
    message.refresh_from_db()
    assert message.handled_at is None


def test_handling_is_post_only(signed_in, agency):
    message = reply(agency, "thanks")

    assert signed_in(Role.ADVOCATE).get(handle_url(message)).status_code == 405
