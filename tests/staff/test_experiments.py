"""The experiments pages: progress and the analysis report as totals only, never a person;
creating and changing an experiment is configuration."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.utils import timezone

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency
from victim_notify.surveys.importing import import_answers
from victim_notify.surveys.models import Experiment, Participant, Response
from victim_notify.surveys.setup import create_experiment

pytestmark = pytest.mark.django_db

PEOPLE = [("Zebulon", "Quartermaine", f"(520) 555-{300 + i:04d}") for i in range(4)]


@pytest.fixture
def pilot(agency: Agency) -> Experiment:
    """An experiment with four victims enrolled from reports and answers imported for more."""
    experiment = create_experiment(agency, "pilot", "Notification pilot", dt.date(2026, 1, 1))
    take_in(
        agency,
        *(
            make_record(
                victim={
                    "first_name": first,
                    "last_name": last,
                    "phone": phone,
                    "email": f"zq{i}@example.com",
                }
            )
            for i, (first, last, phone) in enumerate(PEOPLE)
        ),
    )
    rows = ["participant,group,division,opened,question,answer"]
    rows += [f"a{i},A,W,yes,preferred_channel,{'text' if i < 8 else 'email'}" for i in range(12)]
    rows += [f"b{i},B,E,,preferred_channel,{'text' if i < 4 else 'email'}" for i in range(10)]
    result = import_answers(experiment, "\n".join(rows) + "\n")
    assert not result.errors
    return experiment


def no_person_in(page: str) -> None:
    for first, last, phone in PEOPLE:
        digits = "".join(c for c in phone if c.isdigit())
        assert first not in page and last not in page
        assert phone not in page and digits not in page and f"+1{digits}" not in page
    assert "example.com" not in page


def test_list_shows_progress_by_group_for_an_analyst(signed_in, pilot):  # type: ignore[no-untyped-def]
    enrolled = Participant.objects.filter(experiment=pilot)
    group_a = enrolled.filter(group="A").count()
    group_b = enrolled.filter(group="B").count()
    assert group_a + group_b == 26
    page = signed_in(Role.ANALYST).get("/staff/experiments").content.decode()
    assert "Notification pilot" in page and "pilot" in page and "90%" in page
    assert f"<td>{group_a}</td>" in page and f"<td>{group_b}</td>" in page
    assert "<td>22</td>" in page  # people who answered
    assert "Running" in page
    assert "New experiment" not in page  # analysts do not configure
    no_person_in(page)


def test_report_renders_inside_the_staff_app_with_charts_and_no_person(signed_in, pilot):  # type: ignore[no-untyped-def]
    response = signed_in(Role.ANALYST).get(f"/staff/experiments/{pilot.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<html") == 1 and page.count("<h1") == 1
    assert "Findings (all randomized victims)" in page
    assert "Group A was" in page and "likely to ask for text messages" in page
    assert page.count("<svg") >= 2
    assert f"/staff/experiments/{pilot.pk}/export?format=csv" in page
    no_person_in(page)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids must be unique in the page"
    viewed = AuditEvent.objects.get(action="experiment.report_viewed")
    assert viewed.object_id == str(pilot.pk) and viewed.actor_label == "analyst.testville"


def test_downloads_of_the_figures_are_audited(signed_in, pilot):  # type: ignore[no-untyped-def]
    analyst = signed_in(Role.ANALYST)
    response = analyst.get(f"/staff/experiments/{pilot.pk}/export?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert any(r["key"] == "preferred_channel=text" for r in rows)
    figures = json.loads(analyst.get(f"/staff/experiments/{pilot.pk}/export?format=json").content)
    assert figures["allocation"]["imported"] == 22
    no_person_in(response.content.decode() + json.dumps(figures))
    assert analyst.get(f"/staff/experiments/{pilot.pk}/export?format=xlsx").status_code == 404
    formats = AuditEvent.objects.filter(action="experiment.exported").values_list(
        "detail", flat=True
    )
    assert sorted(d["format"] for d in formats) == ["csv", "json"]


def test_another_agencys_experiment_is_not_found(signed_in, other_agency):  # type: ignore[no-untyped-def]
    theirs = create_experiment(other_agency, "theirs", "Their pilot", dt.date(2026, 1, 1))
    supervisor = signed_in(Role.SUPERVISOR)
    assert "Their pilot" not in supervisor.get("/staff/experiments").content.decode()
    for url in (
        f"/staff/experiments/{theirs.pk}",
        f"/staff/experiments/{theirs.pk}/edit",
        f"/staff/experiments/{theirs.pk}/export?format=csv",
    ):
        assert supervisor.get(url).status_code == 404
    response = supervisor.post(f"/staff/experiments/{theirs.pk}/edit", {"share_notified": 50})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.share_notified == 90


def test_an_analyst_cannot_create_or_change_experiments(signed_in, pilot):  # type: ignore[no-untyped-def]
    analyst = signed_in(Role.ANALYST)
    new = {"name": "Next", "slug": "next", "starts_on": "2027-06-01", "share_notified": 80}
    assert analyst.get("/staff/experiments/new").status_code == 403
    assert analyst.post("/staff/experiments/new", new).status_code == 403
    assert analyst.post(f"/staff/experiments/{pilot.pk}/edit", {}).status_code == 403
    assert not Experiment.objects.filter(slug="next").exists()


def test_roles_without_experiments_get_403(signed_in, pilot):  # type: ignore[no-untyped-def]
    for role in (Role.ADVOCATE, Role.CLERK, Role.AUDITOR):
        client = signed_in(role)
        assert client.get("/staff/experiments").status_code == 403
        assert client.get(f"/staff/experiments/{pilot.pk}").status_code == 403


def test_a_supervisor_creates_an_experiment_with_the_standard_questions(signed_in, agency):  # type: ignore[no-untyped-def]
    supervisor = signed_in(Role.SUPERVISOR)
    response = supervisor.post(
        "/staff/experiments/new",
        {"name": "Spring", "slug": "spring", "starts_on": "2027-03-01", "share_notified": 80},
    )
    experiment = Experiment.objects.get(agency=agency, slug="spring")
    assert response["Location"] == f"/staff/experiments/{experiment.pk}"
    assert experiment.share_notified == 80 and experiment.questions.exists()
    changed = AuditEvent.objects.get(action="config.experiment_changed")
    assert changed.object_id == str(experiment.pk) and changed.detail["created"] is True


def test_a_new_experiment_with_bad_settings_gets_field_errors(signed_in, pilot):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    overlapping = {"name": "Again", "slug": "again", "starts_on": "2026-05-01"}
    page = admin.post(
        "/staff/experiments/new", overlapping | {"share_notified": 50}
    ).content.decode()
    assert "Overlaps the experiment" in page
    page = admin.post(
        "/staff/experiments/new", overlapping | {"share_notified": 100}
    ).content.decode()
    assert "less than or equal to 99" in page
    page = admin.post(
        "/staff/experiments/new",
        {"name": "Same", "slug": "pilot", "starts_on": "2030-01-01", "share_notified": 50},
    ).content.decode()
    assert "already exists" in page
    assert Experiment.objects.count() == 1
    assert not AuditEvent.objects.filter(action="config.experiment_changed").exists()


def test_editing_end_date_share_and_delay_is_audited_with_what_changed(signed_in, pilot):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    url = f"/staff/experiments/{pilot.pk}/edit"
    assert 'name="ends_on"' in admin.get(url).content.decode()
    response = admin.post(
        url, {"ends_on": "2026-06-30", "share_notified": 80, "survey_delay_days": 7}
    )
    assert response.status_code == 302
    pilot.refresh_from_db()
    assert pilot.ends_on == dt.date(2026, 6, 30) and pilot.share_notified == 80
    detail = AuditEvent.objects.get(action="config.experiment_changed").detail
    assert detail == {
        "ends_on": {"from": None, "to": "2026-06-30"},
        "share_notified": {"from": 90, "to": 80},
    }
    page = admin.post(
        url, {"ends_on": "2025-01-01", "share_notified": 80, "survey_delay_days": 7}
    ).content.decode()
    assert "cannot end before it starts" in page
    assert "Finished" in admin.get("/staff/experiments").content.decode()


def _enrol(
    experiment: Experiment,
    key: str,
    group: str,
    assignment: str,
    status: str,
    answers: dict[str, str],
) -> None:
    now = timezone.now()
    person = Participant.objects.create(
        experiment=experiment,
        person_key=key,
        group=group,
        assignment=assignment,
        assigned_at=now,
        survey_status=status,
    )
    for question, value in answers.items():
        Response.objects.create(
            participant=person, question_key=question, value=value, source="sms", received_at=now
        )


def test_list_and_report_count_the_same_people_randomized_and_people_who_answered(  # type: ignore[no-untyped-def]
    signed_in, agency
):
    experiment = create_experiment(agency, "mixed", "Mixed enrolment", dt.date(2026, 1, 1))
    three = {"preferred_channel": "text", "service_rating": "4", "trust": "5"}
    # Randomized: 3 in A (2 answered three questions each), 2 in B (1 answered twice).
    _enrol(experiment, "a1", "A", "random", "completed", three)
    _enrol(experiment, "a2", "A", "random", "completed", three)
    _enrol(experiment, "a3", "A", "random", "no_response", {})
    _enrol(experiment, "b1", "B", "random", "partial", {"preferred_channel": "email", "trust": "2"})
    _enrol(experiment, "b2", "B", "random", "asked", {"trust": ""})  # unreadable: no answer
    # Imported with their group: 1 in B, answered.
    _enrol(experiment, "i1", "B", "imported", "no_response", {"preferred_channel": "text"})
    # Not randomized (division not live yet): in the list's old count, never in the report's.
    for i in range(4):
        _enrol(experiment, f"r{i}", "B", "rollout", "completed", three)

    analyst = signed_in(Role.ANALYST)
    listed = analyst.get("/staff/experiments")
    row = listed.context["rows"][0]
    report = analyst.get(f"/staff/experiments/{experiment.pk}")
    figures = report.context["f"]

    assert (
        (row["A"], row["B"]) == (figures["allocation"]["A"], figures["allocation"]["B"]) == (3, 3)
    )
    answered = figures["response"]["A"]["responded"] + figures["response"]["B"]["responded"]
    assert row["answered"] == report.context["answered"] == answered == 4
    assert row["not_randomized"] == figures["allocation"]["rollout"] == 4
    list_page, report_page = listed.content.decode(), report.content.decode()
    for label in ("Group A: people randomized", "People who answered", "Not randomized"):
        assert label in list_page and label in report_page
    assert "<td>3</td>" in list_page and "<td>4</td>" in list_page
    assert "<td>7</td>" not in list_page  # Group B with the rollout people
    assert "<td>21</td>" not in list_page  # every answer row, not people
