"""The audit log page: the agency's own entries, filtered, exported and checked for tampering;
reading, exporting and checking are audited too."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.audit import record
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency
from victim_notify.intake.models import Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(agency: Agency, other_agency: Agency, staff_of) -> dict[str, AuditEvent]:  # type: ignore[no-untyped-def]
    clerk = staff_of(Role.CLERK).user
    return {
        "viewed": record(
            "report.viewed",
            actor_label="clerk.testville",
            actor=clerk,
            agency=agency,
            target=clerk,
            detail={"report": 41},
            remote_addr="10.1.2.3",
        ),
        "held": record("notification.held", actor_label="supervisor.testville", agency=agency),
        "elsewhere": record("report.elsewhere", actor_label="someone.other", agency=other_agency),
    }


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_lists_only_this_agencys_entries_newest_first_and_records_the_view(signed_in, trail):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    page = admin.get("/staff/audit").content.decode()
    assert "report.viewed" in page and "notification.held" in page
    assert "report.elsewhere" not in page and "someone.other" not in page
    assert page.index("notification.held") < page.index("report.viewed")
    assert "10.1.2.3" in page and "report: 41" in page
    viewed = AuditEvent.objects.filter(action="audit.viewed")
    assert viewed.count() == 1 and viewed.get().actor_label == "agency_admin.testville"


def test_times_are_shown_in_the_agencys_timezone(signed_in, trail):  # type: ignore[no-untyped-def]
    AuditEvent.objects.filter(pk=trail["held"].pk).update(
        at=dt.datetime(2026, 7, 1, 18, 30, 5, tzinfo=dt.UTC)
    )
    page = signed_in(Role.AUDITOR).get("/staff/audit").content.decode()
    assert "2026-07-01 11:30:05" in page  # Phoenix is UTC-7


def test_filters_by_action_actor_object_and_dates(signed_in, trail):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    page = admin.get("/staff/audit", {"action": "notification.held"}).content.decode()
    assert "<code>notification.held</code>" in page and "<code>report.viewed</code>" not in page
    page = admin.get("/staff/audit", {"actor": "CLERK.testville"}).content.decode()
    assert "<code>report.viewed</code>" in page and "supervisor.testville" not in page
    clerk_id = trail["viewed"].object_id
    page = admin.get(
        "/staff/audit", {"object_type": "auth.user", "object_id": clerk_id}
    ).content.decode()
    assert "<code>report.viewed</code>" in page and "<code>notification.held</code>" not in page
    today = timezone.localdate(timezone=ZoneInfo("America/Phoenix"))
    tomorrow, yesterday = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
    page = admin.get("/staff/audit", {"date_from": str(tomorrow)}).content.decode()
    assert "<code>report.viewed</code>" not in page and "No entries match." in page
    page = admin.get(
        "/staff/audit", {"date_from": str(yesterday), "date_to": str(today)}
    ).content.decode()
    assert "<code>report.viewed</code>" in page and "<code>notification.held</code>" in page
    # Filters that cannot be read show, and export, nothing rather than everything.
    page = admin.get("/staff/audit", {"date_from": "yesterday"}).content.decode()
    assert "Enter a valid date." in page and "<code>report.viewed</code>" not in page
    assert len(csv_rows(admin.get("/staff/audit/export", {"date_to": "soon"}).content)) == 0
    # The action list offers this agency's actions only.
    assert 'value="report.elsewhere"' not in page and 'value="report.viewed"' in page


def test_pages_hold_100_entries(signed_in, agency):  # type: ignore[no-untyped-def]
    for n in range(130):
        record("report.viewed", actor_label="clerk.testville", agency=agency, detail={"n": n})
    admin = signed_in(Role.AGENCY_ADMIN)
    first = admin.get("/staff/audit", {"action": "report.viewed"}).content.decode()
    assert first.count("<code>report.viewed</code>") == 100 and "Page 1 of 2" in first
    second = admin.get("/staff/audit", {"action": "report.viewed", "page": 2}).content.decode()
    assert second.count("<code>report.viewed</code>") == 30
    assert "n: 0" in second and "n: 129" not in second


def test_export_is_the_filtered_entries_as_csv_and_is_audited(signed_in, trail):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    response = admin.get("/staff/audit/export", {"action": "report.viewed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response.content)
    assert [(r["id"], r["action"], r["actor"]) for r in rows] == [
        (str(trail["viewed"].pk), "report.viewed", "clerk.testville")
    ]
    everything = csv_rows(admin.get("/staff/audit/export").content)
    actions = {r["action"] for r in everything}
    assert {"report.viewed", "notification.held"} <= actions and "report.elsewhere" not in actions
    exported = AuditEvent.objects.filter(action="audit.exported").order_by("id")
    assert exported.count() == 2
    assert exported[0].detail == {"count": 1, "filters": {"action": "report.viewed"}}


def test_an_auditor_reads_the_log_but_not_the_dashboard(signed_in, trail):  # type: ignore[no-untyped-def]
    auditor = signed_in(Role.AUDITOR)
    assert auditor.get("/staff/audit").status_code == 200
    assert auditor.get("/staff/audit/export").status_code == 200
    assert auditor.get("/staff/dashboard").status_code == 403


def test_roles_without_the_audit_capability_get_403(signed_in, trail):  # type: ignore[no-untyped-def]
    for role in (Role.SUPERVISOR, Role.ANALYST):
        client = signed_in(role)
        assert client.get("/staff/audit").status_code == 403
        assert client.get("/staff/audit/export").status_code == 403
        assert client.post("/staff/audit/verify").status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="audit.").exists()


def test_check_reports_an_intact_trail_then_the_tampered_entry(signed_in, trail):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    assert "Check the trail" in admin.get("/staff/audit").content.decode()
    response = admin.post("/staff/audit/verify")
    assert response.status_code == 302 and response["Location"] == "/staff/audit"
    page = admin.get("/staff/audit").content.decode()
    assert "The trail is intact" in page
    assert AuditEvent.objects.get(action="audit.verified").detail["intact"] is True

    tampered = trail["viewed"].pk
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_auditevent SET actor_label = %s WHERE id = %s",
            ["somebody.else", tampered],
        )
    fragment = admin.post("/staff/audit/verify", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert "Broken" in fragment and f"broken at entry #{tampered}" in fragment
    assert "changed after it was written" in fragment
    latest = AuditEvent.objects.filter(action="audit.verified").latest("id")
    assert latest.detail["intact"] is False and latest.detail["first_bad_id"] == tampered


def test_the_check_is_only_run_on_request_and_not_by_get(signed_in, trail):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    page = admin.get("/staff/audit").content.decode()
    assert "The trail is intact" not in page
    assert admin.get("/staff/audit/verify").status_code == 405
    assert not AuditEvent.objects.filter(action="audit.verified").exists()


@pytest.fixture
def reports(agency: Agency, other_agency: Agency) -> dict[str, Report]:
    take_in(agency, make_record(report_number="2612-0000048"))
    take_in(agency, make_record(report_number="2612-0000049"))
    take_in(other_agency, make_record(report_number="2612-0000048"))
    return {
        "wanted": Report.objects.get(agency=agency, report_number="2612-0000048"),
        "other": Report.objects.get(agency=agency, report_number="2612-0000049"),
        "elsewhere": Report.objects.get(agency=other_agency, report_number="2612-0000048"),
    }


def about_reports(agency: Agency, other_agency: Agency, reports: dict[str, Report]) -> None:
    """One entry per way an entry can concern a report; each actor label says which."""
    wanted, other = reports["wanted"], reports["other"]
    record("report.viewed", actor_label="viewer.wanted", agency=agency, target=wanted)
    record("report.viewed", actor_label="viewer.other", agency=agency, target=other)
    record("party.viewed", actor_label="party.wanted", agency=agency, detail={"report": wanted.pk})
    record(
        "report.search",
        actor_label="search.wanted",
        agency=agency,
        detail={"kind": "name", "terms_hash": "ab12", "results": [other.pk, wanted.pk]},
    )
    # Ids that contain the wanted id's digits are other reports.
    lookalikes = [int(f"{wanted.pk}0"), int(f"1{wanted.pk}")]
    record(
        "report.search",
        actor_label="search.lookalike",
        agency=agency,
        detail={"kind": "name", "terms_hash": "cd34", "results": lookalikes},
    )
    record(
        "report.viewed",
        actor_label="viewer.elsewhere",
        agency=other_agency,
        target=reports["elsewhere"],
    )


def test_report_number_filter_finds_views_party_actions_and_searches_of_that_report_only(  # type: ignore[no-untyped-def]
    signed_in, agency, other_agency, reports
):
    about_reports(agency, other_agency, reports)
    auditor = signed_in(Role.AUDITOR)
    page = auditor.get("/staff/audit", {"report_number": " 2612-0000048 "}).content.decode()
    for found in ("viewer.wanted", "party.wanted", "search.wanted"):
        assert found in page
    for not_found in ("viewer.other", "search.lookalike", "viewer.elsewhere"):
        assert not_found not in page
    assert "3 entries" in page
    rows = csv_rows(auditor.get("/staff/audit/export", {"report_number": "2612-0000048"}).content)
    assert {r["actor"] for r in rows} == {"viewer.wanted", "party.wanted", "search.wanted"}
    viewed = AuditEvent.objects.filter(action="audit.viewed").latest("id")
    assert viewed.detail["filters"] == {"report_number": "2612-0000048"}


def test_an_unknown_report_number_says_so_and_shows_nothing(
    signed_in, agency, other_agency, reports
):  # type: ignore[no-untyped-def]
    about_reports(agency, other_agency, reports)
    take_in(other_agency, make_record(report_number="2612-0000050"))
    auditor = signed_in(Role.AUDITOR)
    for number in ("2612-9999999", "2612-0000050"):  # nowhere; only another agency's
        text = auditor.get("/staff/audit", {"report_number": number}).content.decode()
        assert "Your agency has no report with this number." in text
        assert "No entries match." in text and "viewer.other" not in text


def test_an_auditor_sees_report_numbers_and_usernames_without_links(  # type: ignore[no-untyped-def]
    signed_in, staff_of, agency, other_agency, reports
):
    about_reports(agency, other_agency, reports)
    clerk = staff_of(Role.CLERK).user
    record("user.enabled", actor_label="agency_admin.testville", agency=agency, target=clerk)
    wanted = reports["wanted"]
    page = signed_in(Role.AUDITOR).get("/staff/audit").content.decode()
    assert "Report 2612-0000048" in page and "Report 2612-0000049" in page
    assert "Staff member clerk.testville" in page
    assert "report: 2612-0000048" in page  # the party entry's detail
    assert "results: 2612-0000049, 2612-0000048" in page  # the search's results
    assert f"/staff/reports/{wanted.pk}" not in page and f"/staff/users/{clerk.pk}" not in page
    # Another agency's report is never named, even with the same id in a detail.
    assert "viewer.elsewhere" not in page


def test_an_administrator_gets_links_to_the_objects_pages(  # type: ignore[no-untyped-def]
    signed_in, staff_of, agency, other_agency, reports
):
    about_reports(agency, other_agency, reports)
    clerk = staff_of(Role.CLERK).user
    record("user.enabled", actor_label="agency_admin.testville", agency=agency, target=clerk)
    page = signed_in(Role.AGENCY_ADMIN).get("/staff/audit").content.decode()
    wanted = reports["wanted"].pk
    assert f'<a href="/staff/reports/{wanted}">Report 2612-0000048</a>' in page
    assert f'<a href="/staff/users/{clerk.pk}">Staff member clerk.testville</a>' in page


def test_objects_the_page_cannot_name_show_their_type_and_id(signed_in, agency):  # type: ignore[no-untyped-def]
    record(
        "config.agency_changed", actor_label="supervisor.testville", agency=agency, target=agency
    )
    page = signed_in(Role.AUDITOR).get("/staff/audit").content.decode()
    assert f"agencies.agency #{agency.pk}" in page and "Changed agency settings" in page


def test_action_filter_lists_each_action_once_with_a_readable_label(signed_in, agency):  # type: ignore[no-untyped-def]
    for _ in range(6):
        record("login.failed", actor_label="guesser", agency=agency)
    record("report.search", actor_label="clerk.testville", agency=agency)
    record("brand.new_thing", actor_label="clerk.testville", agency=agency)
    page = signed_in(Role.AUDITOR).get("/staff/audit").content.decode()
    assert page.count('<option value="login.failed"') == 1
    assert '<option value="login.failed">Failed sign-in</option>' in page
    assert '<option value="report.search">Searched reports</option>' in page
    assert '<option value="brand.new_thing">brand.new_thing</option>' in page
    # The table gives the label and the code.
    assert "Failed sign-in<br><code>login.failed</code>" in page
    assert "brand.new_thing<br><code>brand.new_thing</code>" in page


def test_the_address_is_shown_under_the_time_in_a_five_column_table(signed_in, trail):  # type: ignore[no-untyped-def]
    page = signed_in(Role.AUDITOR).get("/staff/audit").content.decode()
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert head.count('<th scope="col"') == 5 and "Time and address" in head
    assert 'class="audit-address"' in page and "staff/audit.css" in page
