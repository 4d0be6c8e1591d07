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

from victim_notify.accounts.audit import record
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency

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
