"""The case-updates settings page: which events victims are told of, their legal deadlines,
the RMS statuses that mean an event, enhanced rights and the holidays the clock skips. A
change is saved, audited with its old and new values and seen by the workers' cached
configuration; bad input is refused by field and saves nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.config import cached_config
from victim_notify.agencies.models import CASE_EVENT_KINDS, Agency
from victim_notify.cases.models import Holiday

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]
URL = "/staff/config/case-updates"


def page_form(agency: Agency, **changes: Any) -> dict[str, Any]:
    """The form as the page fills it for `agency`, with `changes` applied (None: left out,
    as a browser leaves out an unticked box)."""
    statuses: dict[str, list[str]] = {}
    for status, kind in agency.case_event_statuses.items():
        statuses.setdefault(kind, []).append(status)
    data: dict[str, Any] = {
        "enhanced_rights_categories": list(agency.enhanced_rights_categories),
        "holidays": "\n".join(f"{h.date} {h.name}" for h in Holiday.objects.filter(agency=agency)),
    }
    for kind in CASE_EVENT_KINDS:
        days = agency.notice_deadlines.get(kind) or []
        data[f"tell_{kind}"] = "on" if kind in agency.case_update_kinds else None
        data[f"days_{kind}"] = days[0] if days else ""
        data[f"enhanced_{kind}"] = days[1] if len(days) > 1 else ""
        data[f"statuses_{kind}"] = ", ".join(statuses.get(kind, []))
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_page_shows_each_event_with_its_settings(signed_in: SignIn, agency: Agency) -> None:
    agency.case_event_statuses = {"cleared by arrest": "suspect_arrested"}
    agency.save()
    Holiday.objects.create(agency=agency, date=dt.date(2026, 12, 25), name="Christmas Day")
    body = signed_in(Role.SUPERVISOR).get(URL).content.decode()
    assert body.count("<tr>") == len(CASE_EVENT_KINDS) + 1  # the head and one row each
    tell = 'name="tell_warrant_issued" aria-label="Tell victims: Warrant issued"'
    assert f'{tell} id="id_tell_warrant_issued" checked' in body
    assert 'name="days_suspect_arrested" value="5"' in body
    assert 'name="enhanced_suspect_arrested" value="1"' in body
    assert 'value="cleared by arrest"' in body
    assert "2026-12-25 Christmas Day</textarea>" in body


def test_a_change_is_saved_audited_and_seen_by_the_workers(
    signed_in: SignIn, agency: Agency
) -> None:
    Holiday.objects.create(agency=agency, date=dt.date(2026, 11, 26), name="Thanksgiving")
    cached_config(agency.pk)
    form = page_form(
        agency,
        tell_warrant_issued=None,
        days_suspect_arrested="3",
        enhanced_suspect_arrested="",
        days_property_recovered="",
        enhanced_property_recovered="",
        statuses_suspect_arrested="Cleared by Arrest, ARRESTED",
        statuses_case_suspended="inactive",
        enhanced_rights_categories=["sexual_offense", "domestic_violence"],
        holidays="2026-12-25 Christmas Day\n\n2027-01-01  New Year's Day\n",
    )
    client = signed_in(Role.SUPERVISOR)
    response = client.post(URL, form)
    assert response.status_code == 302

    agency.refresh_from_db()
    assert "warrant_issued" not in agency.case_update_kinds
    assert "suspect_arrested" in agency.case_update_kinds
    assert agency.notice_deadlines["suspect_arrested"] == [3]
    assert "property_recovered" not in agency.notice_deadlines  # no legal deadline
    assert agency.case_event_statuses == {
        "cleared by arrest": "suspect_arrested",
        "arrested": "suspect_arrested",
        "inactive": "case_suspended",
    }
    assert agency.enhanced_rights_categories == ["domestic_violence", "sexual_offense"]
    assert [str(h) for h in Holiday.objects.filter(agency=agency)] == [
        "2026-12-25 Christmas Day",
        "2027-01-01 New Year's Day",
    ]
    # The workers see it at once: an approved report may now move on to an arrest status.
    assert "cleared by arrest" in cached_config(agency.pk).policy.later_statuses

    [event] = AuditEvent.objects.filter(action="config.case_updates_changed")
    assert set(event.detail["fields"]) == {
        "case_update_kinds",
        "notice_deadlines",
        "case_event_statuses",
        "enhanced_rights_categories",
        "holidays",
    }
    assert event.detail["values"]["holidays"]["old"] == ["2026-11-26 Thanksgiving"]

    # Sent again unchanged: nothing to save, nothing audited.
    client.post(URL, page_form(agency))
    assert AuditEvent.objects.filter(action="config.case_updates_changed").count() == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"holidays": "2026-12-25 Christmas\n25/12/2026 Boxing"}, "line 2: 25/12/2026 Boxing"),
        ({"holidays": "2026-02-30 Nope"}, "line 1: 2026-02-30 Nope"),
        ({"statuses_case_closed": "Approved"}, "is the status of an approved report"),
        (
            {"statuses_case_closed": "closed", "statuses_case_suspended": "closed"},
            "already means another event",
        ),
        ({"days_case_closed": "2", "enhanced_case_closed": "4"}, "no later than the usual"),
        ({"days_case_closed": "", "enhanced_case_closed": "1"}, "deadline for everyone first"),
        ({"days_case_closed": "0"}, "greater than or equal to 1"),
        ({"enhanced_rights_categories": ["burglary"]}, "not one of the available choices"),
    ],
)
def test_bad_input_is_refused_by_field_and_saves_nothing(
    signed_in: SignIn, agency: Agency, changes: dict[str, Any], error: str
) -> None:
    before = Agency.objects.get(pk=agency.pk)
    response = signed_in(Role.SUPERVISOR).post(URL, page_form(agency, **changes))
    body = response.content.decode()
    assert response.status_code == 200 and 'class="field__error"' in body and error in body
    after = Agency.objects.get(pk=agency.pk)
    for name in ("case_update_kinds", "notice_deadlines", "case_event_statuses"):
        assert getattr(after, name) == getattr(before, name)
    assert not Holiday.objects.filter(agency=agency).exists()
    assert not AuditEvent.objects.filter(action="config.case_updates_changed").exists()
