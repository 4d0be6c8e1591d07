"""The dashboard: counts, rates, the chart and why people were not told, for the agency's own
reports only, filtered by division and dates, with nothing personal on the page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency, Division
from victim_notify.intake.models import IntakeWatch
from victim_notify.messages import sender
from victim_notify.messages.models import MessageKind, Notification
from victim_notify.providers.models import ProviderHealth
from victim_notify.replies.inbound import receive
from victim_notify.rules.reasons import known_codes
from victim_notify.staff.dashboard_figures import reason_label

pytestmark = pytest.mark.django_db

# Noon in Phoenix: "today" is the same day in the agency's time zone and in UTC.
NOW = dt.datetime(2026, 12, 4, 19, 0, tzinfo=dt.UTC)
LONG_AGO = dt.datetime(2026, 10, 1, 19, 0, tzinfo=dt.UTC)
URL = "/staff/dashboard"

# What no one reading the dashboard may see: the victims' names, phones and emails, the
# officer's name, a reply's text, report numbers.
PERSONAL = [
    "Marisol",
    "Quintero",
    "555-0141",
    "5550141",
    "5550145",
    "quintero.family",
    "Dana Whitfield",
    "outside my house",
    "T-0",
]


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def send_all() -> None:
    while sender.send_due("dashboard-tests"):
        pass


def reply(agency: Agency, phone: str, body: str) -> None:
    receive(
        channel="sms",
        to_address=agency.sms_from,
        from_address=phone,
        body=body,
        provider="test",
        provider_message_id=f"{phone}-{body}",
    )


@pytest.fixture
def activity(agency: Agency) -> Agency:
    """West: a text, an email, a text cancelled by a STOP before it went, a domestic-violence
    case and a juvenile victim without a guardian (neither told). East (made live): a text.
    A text two months ago. Replies: a thank-you in the West, an urgent one in the East."""
    Division.objects.filter(agency=agency, code="E").update(go_live_date=dt.date(2020, 1, 1))
    with time_machine.travel(LONG_AGO, tick=False):
        take_in(
            agency,
            make_record(
                reported_at="2026-09-30T10:00:00",
                occurred_at="2026-09-30T09:00:00",
                victim={"phone": "520-555-0149"},
            ),
        )
        send_all()
    take_in(
        agency,
        make_record(victim={"phone": "520-555-0141", "first_name": "Marisol"}),
        make_record(victim={"phone": "", "email": "quintero.family@example.com"}),
        make_record(offenses=["DV"], victim={"phone": "520-555-0143"}),
        make_record(victim={"phone": "520-555-0144", "juvenile": True}),
        make_record(victim={"phone": "520-555-0146"}),
        make_record(division="E", victim={"phone": "520-555-0145"}),
    )
    reply(agency, "+15205550146", "STOP")
    send_all()
    reply(agency, "+15205550141", "Thank you")
    reply(agency, "+15205550145", "he is outside my house right now")
    return agency


def page(client: Client, **query: object) -> str:
    response = client.get(URL, query)
    assert response.status_code == 200
    return response.content.decode()


def row(html: str, attribute: str, value: str) -> list[str]:
    """The cells of the table row marked data-ATTRIBUTE="VALUE", as text."""
    found = re.search(rf'<tr data-{attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {attribute}={value}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.S)
    ]


def status_counts(html: str, status: str) -> tuple[int, int, int]:
    *_, texts, emails, total = row(html, "status", status)
    return int(texts), int(emails), int(total)


def reasons(html: str) -> dict[str, tuple[str, int]]:
    table = html.split('id="not-notified"', 1)[1]
    return {
        code: (re.sub(r"<[^>]+>", "", label).strip(), int(n))
        for code, label, n in re.findall(
            r'<tr data-reason="([\w]+)"><th scope="row">(.*?)</th><td>.*?</td>'
            r'<td class="number">(\d+)</td>',
            table,
            re.S,
        )
    }


def test_shows_the_last_30_days_of_report_notices_by_status(activity, signed_in):
    html = page(signed_in(Role.SUPERVISOR))
    # The development outbox confirms emails too; a real mail server never does.
    assert status_counts(html, "delivered") == (2, 1, 3)
    assert status_counts(html, "cancelled") == (1, 0, 1)
    assert status_counts(html, "pending") == (0, 0, 0)
    # The old text, the opt-out confirmation and the answer to the urgent reply are not counted.
    assert (
        Notification.objects.filter(agency=activity).exclude(kind=MessageKind.REPORT_FILED).exists()
    )
    assert row(html, "status", "delivered")[0].startswith("Delivered")
    assert "Text delivery rate: <strong>100.0%</strong> (2 delivered of 2" in html


def test_the_chart_is_inline_svg_with_a_title_and_a_table_of_its_numbers(activity, signed_in):
    html = page(signed_in(Role.SUPERVISOR))
    svg = html[html.index('<div class="chart">') : html.index("</svg>")]
    assert '<svg role="img" aria-label="Report notices per day.' in svg
    assert "<title>Report notices per day</title>" in svg
    assert "Texts</text>" in svg or ">Texts<" in svg  # the legend is text, not paths
    days = html.split("Report notices per day, as a table", 1)[1].split("</details>", 1)[0]
    assert days.count("<tr>") == 31  # the header and 30 days
    assert re.search(
        r"Dec\. 4, 2026</th><td class=\"number\">3</td>"
        r"<td class=\"number\">1</td><td class=\"number\">4</td>",
        days,
    )
    months = html.split('id="per-month"', 1)[1].split("</table>", 1)[0]
    assert "November 2026" in months and "December 2026" in months


def test_why_people_were_not_notified_largest_first_with_labels(activity, signed_in):
    html = page(signed_in(Role.SUPERVISOR))
    found = reasons(html)
    assert found["excluded_offense_domestic_violence"] == (
        "Excluded offense: domestic violence",
        1,
    )
    assert found["minor_without_guardian"] == ("A minor with no parent or guardian listed", 1)
    counts = [n for _, n in found.values()]
    assert counts == sorted(counts, reverse=True)
    assert found["no_email"][1] >= 2  # the texted victims gave no email


def test_replies_opt_outs_and_the_link_to_the_inbox(activity, signed_in):
    html = page(signed_in(Role.SUPERVISOR))
    replies = html.split('id="replies-and-opt-outs"', 1)[1].split("</section>", 1)[0]
    assert "<dt>Replies received</dt><dd>3</dd>" in replies  # the STOP too
    assert "<dt>Urgent replies</dt><dd>1</dd>" in replies
    assert re.search(r"<dt>Urgent, not yet handled</dt><dd>1 <span", replies)
    assert re.search(r"<dt>Opt-outs recorded</dt><dd>1 ", replies)
    assert 'href="/staff/replies"' in replies


def test_the_division_filter_changes_every_count(activity, signed_in):
    client = signed_in(Role.SUPERVISOR)
    west = Division.objects.get(agency=activity, code="W")
    east = Division.objects.get(agency=activity, code="E")

    html = page(client, division=west.pk)
    assert status_counts(html, "delivered") == (1, 1, 2)
    assert status_counts(html, "cancelled") == (1, 0, 1)
    assert "excluded_offense_domestic_violence" in reasons(html)
    assert "<dt>Replies received</dt><dd>1</dd>" in html
    assert re.search(r"<dt>Urgent, not yet handled</dt><dd>0</dd>", html)
    assert re.search(r"<dt>Opt-outs recorded</dt><dd>1 ", html)

    html = page(client, division=east.pk)
    assert status_counts(html, "delivered") == (1, 0, 1)
    assert status_counts(html, "cancelled") == (0, 0, 0)
    assert "excluded_offense_domestic_violence" not in reasons(html)
    assert "<dt>Replies received</dt><dd>1</dd>" in html
    assert re.search(r"<dt>Urgent, not yet handled</dt><dd>1 ", html)
    assert re.search(r"<dt>Opt-outs recorded</dt><dd>0 ", html)
    assert f'<option value="{east.pk}" selected>' in html


def test_the_dates_leave_out_older_messages_and_can_bring_them_back(activity, signed_in):
    client = signed_in(Role.SUPERVISOR)
    assert status_counts(page(client), "delivered") == (2, 1, 3)
    html = page(client, start="2026-09-01", end="2026-12-04")
    assert status_counts(html, "delivered") == (3, 1, 4)
    assert "October 2026" in html
    html = page(client, start="2026-10-01", end="2026-10-01")
    assert status_counts(html, "delivered") == (1, 0, 1)
    assert "excluded_offense_domestic_violence" not in reasons(html)


def test_a_day_is_counted_in_the_agency_time_zone(activity, signed_in):
    # 01:00 UTC on Dec 5 is still Dec 4 in Phoenix (UTC-7).
    with time_machine.travel(dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC), tick=False):
        take_in(activity, make_record(victim={"phone": "520-555-0147"}))
        send_all()
        client = signed_in(Role.SUPERVISOR)
    html = page(client, start="2026-12-04", end="2026-12-04")
    assert status_counts(html, "delivered") == (3, 1, 4)
    html = page(client, start="2026-12-05", end="2026-12-05")
    assert status_counts(html, "delivered") == (0, 0, 0)


def test_a_from_date_after_the_to_date_is_refused_with_a_message(activity, signed_in):
    html = page(signed_in(Role.SUPERVISOR), start="2026-12-04", end="2026-11-01")
    assert "must not be after" in html
    assert "data-status=" not in html


def test_quarantine_and_provider_health_in_words(activity, signed_in):
    take_in(activity, make_record(offenses=["23X"]))
    ProviderHealth.objects.create(
        provider="outbox-sms",
        up=False,
        consecutive_failures=5,
        down_since=NOW - dt.timedelta(hours=2),
        last_error="503 from the gateway while sending to +15205550141",
    )
    ProviderHealth.objects.create(provider="twilio", up=False)  # not one of the agency's
    html = page(signed_in(Role.AGENCY_ADMIN))
    assert "1 record could not be accepted" in html
    assert 'href="/staff/quarantine"' in html
    sms = row(html, "provider", "outbox-sms")
    assert sms[:3] == ["Text", "outbox-sms", "Down"]
    assert sms[3].startswith("Dec. 4, 2026, 10")  # 17:00 UTC in Phoenix
    assert sms[5] == "503 from the gateway while sending to [phone]"
    assert row(html, "provider", "outbox-email")[:3] == ["Email", "outbox-email", "Up"]
    assert 'data-provider="twilio"' not in html


def test_each_feed_shows_when_it_was_last_heard_from_and_whether_it_is_quiet(activity, signed_in):
    take_in(activity, make_record())  # through the API: heard now
    IntakeWatch.objects.create(
        agency=activity,
        source="file",
        last_heard_at=NOW - dt.timedelta(hours=6),
        quiet_since=NOW - dt.timedelta(hours=6),
        alarm_raised_at=NOW - dt.timedelta(hours=2),
    )
    html = page(signed_in(Role.SUPERVISOR))
    assert row(html, "feed", "api")[:2] == ["API", "Arriving"]
    assert row(html, "feed", "file")[:2] == ["File", "Quiet for longer than usual"]
    assert row(html, "feed", "file")[2] == "Dec. 4, 2026, 6 a.m."  # 13:00 UTC in Phoenix


def test_an_analyst_sees_the_figures_but_nothing_personal_and_no_links(activity, signed_in):
    take_in(activity, make_record(offenses=["23X"], victim={"first_name": "Marisol"}))
    html = page(signed_in(Role.ANALYST))
    assert status_counts(html, "delivered") == (2, 1, 3)
    for words in PERSONAL:
        assert words not in html, words
    assert 'href="/staff/replies"' not in html
    assert 'href="/staff/quarantine"' not in html


def test_the_number_of_queries_does_not_grow_with_the_messages(activity, signed_in):
    client = signed_in(Role.SUPERVISOR)
    page(client)  # the first request loads what is cached for the process
    with CaptureQueriesContext(connection) as few:
        page(client)
    take_in(activity, *[make_record(victim={"phone": f"520-555-017{n}"}) for n in range(8)])
    send_all()
    with CaptureQueriesContext(connection) as many:
        html = page(client)
    assert status_counts(html, "delivered") == (10, 1, 11)
    assert len(many) == len(few)


def test_viewing_the_dashboard_is_not_audited(activity, signed_in):
    client = signed_in(Role.ANALYST)
    before = AuditEvent.objects.count()
    page(client)
    page(client, start="2026-09-01")
    assert AuditEvent.objects.count() == before


def test_a_role_without_the_dashboard_gets_403(activity, signed_in):
    assert signed_in(Role.AUDITOR).get(URL).status_code == 403


def test_signed_out_goes_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/staff/login")


def test_another_agency_figures_never_appear(activity, other_agency, signed_in):
    take_in(
        other_agency,
        make_record(offenses=["09A"], victim={"phone": "520-555-0160"}),
        *[make_record(victim={"phone": f"520-555-016{n}"}) for n in range(1, 5)],
    )
    send_all()
    other_west = Division.objects.get(agency=other_agency, code="W")
    client = signed_in(Role.SUPERVISOR)
    html = page(client)
    assert status_counts(html, "delivered") == (2, 1, 3)
    assert "excluded_offense_death" not in reasons(html)
    # Another agency's division is not a choice: no figures, and nothing of theirs.
    html = page(client, division=other_west.pk)
    assert "data-status=" not in html
    assert "Select a valid choice" in html


def test_every_reason_code_reads_as_words_without_details_of_one_report():
    for code in known_codes():
        label = reason_label(code)
        assert "{" not in label and "_" not in label, code
    assert reason_label("excluded_offense_death") == (
        "Excluded offense: a homicide or death investigation"
    )
