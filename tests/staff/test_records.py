"""Retention periods and legal holds in the staff app: administrators set how long personal data
is kept and hold a report from its page; every change is audited; the purge obeys both."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency
from victim_notify.intake.models import Report
from victim_notify.messages.models import Notification
from victim_notify.privacy.purge import purge

pytestmark = pytest.mark.django_db

RECORDS = reverse("staff:records")


@pytest.fixture
def report(agency: Agency) -> Report:
    take_in(agency, make_record())
    return Report.objects.get()


def age(report: Report, days: int) -> None:
    """As if the report's last activity (its version, its messages) was `days` ago."""
    then = timezone.now() - dt.timedelta(days=days)
    Report.objects.filter(pk=report.pk).update(updated_at=then)
    Notification.objects.filter(report=report).update(created_at=then)


def hold_url(report: Report) -> str:
    return reverse("staff:report-legal-hold", kwargs={"report_id": report.pk})


def report_page(client, report: Report) -> str:  # type: ignore[no-untyped-def]
    return client.get(reverse("staff:report", kwargs={"report_id": report.pk})).content.decode()


def test_an_administrator_sets_the_retention_periods_and_the_change_is_audited(
    signed_in, agency
) -> None:
    client = signed_in(Role.AGENCY_ADMIN)
    assert "Keeping personal data" in client.get(reverse("staff:config")).content.decode()
    response = client.post(
        RECORDS,
        {"retain_reports_days": 2555, "retain_quarantine_days": 90, "retain_replies_days": 180},
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert (agency.retain_reports_days, agency.retain_quarantine_days) == (2555, 90)
    assert agency.retain_replies_days == 180
    (event,) = AuditEvent.objects.filter(action="config.agency_changed")
    assert event.detail["values"]["retain_reports_days"] == {"old": 365, "new": 2555}


@pytest.mark.parametrize("days", ["0", "29", "3651", "", "a year"])
def test_a_retention_period_out_of_bounds_is_refused_and_nothing_changes(
    signed_in, agency, days
) -> None:
    response = signed_in(Role.AGENCY_ADMIN).post(
        RECORDS,
        {"retain_reports_days": days, "retain_quarantine_days": 90, "retain_replies_days": 90},
    )
    assert response.status_code == 200
    assert 'class="field__error"' in response.content.decode()
    agency.refresh_from_db()
    assert (agency.retain_reports_days, agency.retain_quarantine_days) == (365, 365)


def test_a_supervisor_may_configure_but_not_change_retention_or_holds(signed_in, report) -> None:
    client = signed_in(Role.SUPERVISOR)
    assert "Keeping personal data" not in client.get(reverse("staff:config")).content.decode()
    assert client.get(RECORDS).status_code == 403
    assert client.post(hold_url(report), {"reason": "court order"}).status_code == 403
    assert "Place a legal hold" not in report_page(client, report)
    report.refresh_from_db()
    assert not report.legal_hold


def test_a_hold_placed_from_the_report_page_stops_the_purge_until_it_is_released(
    signed_in, agency, report
) -> None:
    client = signed_in(Role.AGENCY_ADMIN)
    assert "Place a legal hold" in report_page(client, report)

    response = client.post(hold_url(report), {"action": "place", "reason": "Case 26-CV-0113"})

    assert response.status_code == 302 and response["Location"].endswith("#legal-hold")
    report.refresh_from_db()
    assert report.legal_hold and report.legal_hold_reason == "Case 26-CV-0113"
    (placed,) = AuditEvent.objects.filter(action="privacy.legal_hold_placed")
    assert placed.actor_label == f"{Role.AGENCY_ADMIN}.{agency.slug}"
    assert placed.detail == {"reason": "Case 26-CV-0113"}
    page = report_page(client, report)
    assert "On legal hold" in page and "Case 26-CV-0113" in page
    assert report.report_number in client.get(RECORDS).content.decode()

    age(report, 400)
    body = client.get(RECORDS).content.decode()
    assert "0 reports' personal data will be purged" in body
    assert "1 more is past its period but on legal hold" in body
    assert purge().reports == 0
    report.refresh_from_db()
    assert report.purged_at is None

    client.post(hold_url(report), {"action": "release"})
    report.refresh_from_db()
    assert not report.legal_hold
    assert AuditEvent.objects.filter(action="privacy.legal_hold_released").count() == 1
    assert "1 report's personal data will be purged" in client.get(RECORDS).content.decode()
    assert purge().reports == 1
    report.refresh_from_db()
    assert report.purged_at is not None
    assert "personal data was purged" in report_page(client, report)


def test_a_hold_needs_a_reason_and_a_purged_report_cannot_be_held(signed_in, report) -> None:
    client = signed_in(Role.AGENCY_ADMIN)
    client.post(hold_url(report), {"action": "place", "reason": "  "})
    report.refresh_from_db()
    assert not report.legal_hold
    assert not AuditEvent.objects.filter(action="privacy.legal_hold_placed").exists()

    age(report, 400)
    purge()
    response = client.post(hold_url(report), {"action": "place", "reason": "too late"}, follow=True)
    assert "already purged" in response.content.decode()
    report.refresh_from_db()
    assert not report.legal_hold


def test_another_agencys_report_cannot_be_held(signed_in, other_agency) -> None:
    take_in(other_agency, make_record())
    theirs = Report.objects.get(agency=other_agency)
    response = signed_in(Role.AGENCY_ADMIN).post(hold_url(theirs), {"reason": "curious"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.legal_hold
