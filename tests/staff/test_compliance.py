"""The compliance view: what is late, at risk, due and met; staff record that a victim was
told another way (audited); another agency's obligations never show."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.cases.models import CaseEvent, Obligation
from victim_notify.intake.models import Report

pytestmark = pytest.mark.django_db


def obligation(
    agency: Any, number: str, due_in: dt.timedelta, first_name: str = "Ana"
) -> Obligation:
    take_in(agency, make_record(report_number=number, victim={"first_name": first_name}))
    report = Report.objects.get(agency=agency, report_number=number)
    event = CaseEvent.objects.create(
        agency=agency,
        report=report,
        kind="suspect_arrested",
        event_id=number,
        occurred_at=timezone.now() - dt.timedelta(days=1),
    )
    return Obligation.objects.create(
        event=event, party=report.parties.get(), deadline_at=timezone.now() + due_in
    )


def test_the_clock_shows_each_standing_and_a_victim_told_another_way_is_met(
    signed_in, agency, other_agency
):
    late = obligation(agency, "C-1", -dt.timedelta(hours=2))
    obligation(agency, "C-2", dt.timedelta(hours=3))
    obligation(agency, "C-3", dt.timedelta(days=4))
    obligation(other_agency, "THEIRS-1", -dt.timedelta(hours=1), first_name="Zelda")
    client = signed_in(Role.ADVOCATE)

    page = client.get(reverse("staff:compliance")).content.decode()
    assert 'data-count="late">1<' in page and 'data-count="at_risk">1<' in page
    assert 'data-count="due">1<' in page and 'data-count="met">0<' in page
    assert "THEIRS-1" not in page and "Zelda" not in page
    assert page.index("C-1") < page.index("C-2") < page.index("C-3")  # by deadline

    dashboard = client.get(reverse("staff:dashboard")).content.decode()
    assert 'data-deadlines="late">1<' in dashboard and 'data-deadlines="due">1<' in dashboard
    only_late = client.get(reverse("staff:compliance") + "?show=late").content.decode()
    assert "C-1" in only_late and "C-2" not in only_late

    told = client.post(
        reverse("staff:compliance-told", kwargs={"obligation_id": late.pk}),
        {"note": "Advocate called her at 14:10"},
    )
    assert told.status_code == 302
    late.refresh_from_db()
    assert late.met_how == "staff" and late.met_note == "Advocate called her at 14:10"
    event = AuditEvent.objects.get(action="compliance.told_another_way")
    assert event.detail == {"event": "suspect_arrested", "party": "1"}
    met = client.get(reverse("staff:compliance") + "?show=met").content.decode()
    assert "C-1" in met and "Advocate called her at 14:10" in met


def test_marking_told_needs_a_note_and_a_clerk_cannot(signed_in, agency):
    item = obligation(agency, "C-9", dt.timedelta(hours=3))
    url = reverse("staff:compliance-told", kwargs={"obligation_id": item.pk})
    signed_in(Role.SUPERVISOR).post(url, {"note": ""})
    item.refresh_from_db()
    assert item.met_at is None
    assert signed_in(Role.CLERK).post(url, {"note": "x"}).status_code == 403
