"""The survey report through its real interfaces: answers imported from a CSV or given by
text, `victim-notify survey report` writing HTML, JSON and CSV, and the anonymized export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import make_record
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import Engagement, MessageKind, Notification
from victim_notify.privacy.keys import blind_index
from victim_notify.surveys import statistics
from victim_notify.surveys.analysis import analyse
from victim_notify.surveys.assignment import draw
from victim_notify.surveys.models import Participant, Response
from victim_notify.surveys.setup import create_experiment

pytestmark = pytest.mark.django_db


def run(*args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def experiment(agency):
    return create_experiment(agency, "pilot", "Notification pilot", dt.date(2026, 1, 1))


def survey_csv(rows: list[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["participant", "group", "division", "opened", "question", "answer"])
    writer.writerows(rows)
    return out.getvalue()


def known_answers() -> list[tuple[str, ...]]:
    """Group A: 60 of 100 ask for texts; Group B: 30 of 60. Ratings drawn with a seed."""
    rng = random.Random(4)
    rows = []
    for i in range(100):
        rows.append(
            (
                f"a{i}",
                "A",
                "W",
                "yes" if i % 3 else "no",
                "preferred_channel",
                "text" if i < 60 else "email",
            )
        )
        rows.append((f"a{i}", "A", "W", "", "service_rating", str(rng.choice([3, 4, 4, 5, 5]))))
    for i in range(60):
        rows.append((f"b{i}", "B", "E", "", "preferred_channel", "Texto" if i < 30 else "2"))
        rows.append((f"b{i}", "B", "E", "", "service_rating", str(rng.choice([2, 3, 4, 4, 5]))))
    return rows


def test_import_keeps_good_rows_and_names_each_bad_line(tmp_path, experiment):
    path = tmp_path / "phone-survey.csv"
    path.write_text(
        survey_csv(
            [
                ("p1", "A", "W", "yes", "preferred_channel", "text please"),
                ("p2", "C", "W", "", "trust", "4"),  # line 3: no such group
                ("p3", "B", "E", "", "favourite_colour", "blue"),  # line 4: no such question
                ("p4", "B", "E", "", "likely_to_call", "maybe"),  # line 5: cannot be read
                ("p1", "B", "W", "", "trust", "5"),  # line 6: p1 was in Group A
                ("p5", "B", "E", "sometimes", "trust", "3"),  # line 7: opened must be yes/no
                ("p6", "B", "E", "", "likely_to_call", "nope"),
                ("p6", "B", "E", "", "trust", ""),  # asked, not answered
            ]
        )
    )
    out, err = run("survey", "import", "pilot", str(path))
    assert "2 answers imported for 2 new participants" in out
    assert f"{path}:3: group must be A or B, not 'C'" in err
    assert f"{path}:4: unknown question 'favourite_colour'" in err
    assert f"{path}:5: the answer 'maybe' to likely_to_call could not be read" in err
    assert f"{path}:6: participant 'p1' was in Group A on an earlier row, not B" in err
    assert f"{path}:7: opened must be yes, no or empty" in err
    given = dict(Response.objects.values_list("participant__person_key", "value"))
    assert given == {"import:p1": "text", "import:p6": "no"}
    # Importing the same file again adds nothing.
    out, _ = run("survey", "import", "pilot", str(path))
    assert "0 answers imported for 0 new participants, 2 already there" in out


def test_import_refuses_a_file_without_the_columns(tmp_path, experiment):
    path = tmp_path / "bad.csv"
    path.write_text("id,answer\n1,yes\n")
    with pytest.raises(CommandError, match="nothing could be imported"):
        run("survey", "import", "pilot", str(path))


def test_report_gives_rates_intervals_and_the_case_study_sentence(tmp_path, experiment):
    path = tmp_path / "answers.csv"
    path.write_text(survey_csv(known_answers()))
    run("survey", "import", "pilot", str(path))
    out, _ = run("survey", "report", "pilot", "--out", str(tmp_path), "--json")
    figures = json.loads(out)
    texts = next(r for r in figures["outcomes"] if r["key"] == "preferred_channel=text")
    expected = statistics.compare_proportions(60, 100, 30, 60)
    assert (texts["n_a"], texts["x_a"], texts["n_b"], texts["x_b"]) == (100, 60, 60, 30)
    assert texts["difference_ci"] == pytest.approx(list(expected.difference_ci))
    assert texts["relative"] == pytest.approx(0.2)
    assert texts["sentence"] == (
        "Group A was 20.0% more likely to ask for text messages than Group B."
    )
    assert texts["p_holm"] >= texts["p_value"]
    rating = next(r for r in figures["outcomes"] if r["key"] == "service_rating")
    assert rating["kind"] == "mean" and rating["mann_whitney_p"] is not None
    assert rating["sentence"].startswith("Group A rated the agency's customer service")
    assert figures["allocation"]["imported"] == 160
    assert figures["opened"] == {"yes": 66, "no": 34}
    html = (tmp_path / "pilot.html").read_text()
    assert "Group A was 20.0% more likely to ask for text messages than Group B." in html
    assert html.count("<svg") >= 2
    rows = list(csv.DictReader(io.StringIO((tmp_path / "pilot.csv").read_text())))
    itt = [r for r in rows if r["section"] == "intention_to_treat"]
    assert {r["key"] for r in itt} >= {"preferred_channel=text", "service_rating"}


def test_a_difference_chance_could_explain_says_so(tmp_path, experiment):
    rows = [(f"a{i}", "A", "W", "", "likely_to_call", "yes" if i < 5 else "no") for i in range(10)]
    rows += [(f"b{i}", "B", "W", "", "likely_to_call", "yes" if i < 4 else "no") for i in range(10)]
    path = tmp_path / "small.csv"
    path.write_text(survey_csv(rows))
    run("survey", "import", "pilot", str(path))
    figures = analyse(experiment)
    calls = next(r for r in figures["outcomes"] if r["key"] == "likely_to_call:yes")
    assert calls["verdict"].startswith("Not distinguishable from chance")
    assert "only 10 answers" in figures["small_sample_warning"]
    assert "includes no difference at all" in calls["verdict"]


def test_opened_means_a_person_opened_clicked_or_replied_and_a_bare_text_is_unknown(client, agency):
    experiment = create_experiment(agency, "all", "All", dt.date(2026, 1, 1), share_notified=99)
    # Group assignment draws on the keyed hash of the contact, as enrolment makes it.
    people = [
        blind_index("contact", contact)
        for contact in ("+15205550150", "open@example.com", "never@example.com")
    ]
    experiment.seed = next(  # a seed that puts all three in Group A, so the test is stable
        seed
        for seed in (f"s{i}" for i in range(100))
        if all(draw(seed, person) < 0.99 for person in people)
    )
    experiment.save()
    ingest(
        agency,
        [
            IncomingRecord.from_object(0, make_record(victim={"phone": "(520) 555-0150"})),
            IncomingRecord.from_object(
                1, make_record(victim={"phone": "", "email": "open@example.com"})
            ),
            IncomingRecord.from_object(
                2, make_record(victim={"phone": "", "email": "never@example.com"})
            ),
        ],
        source="api",
    )
    while sender.send_due("w"):
        pass
    opened = Notification.objects.get(contact__value__matches="open@example.com")
    Engagement.objects.create(notification=opened, kind="open", machine=False, agent="browser")
    proxy = Notification.objects.get(contact__value__matches="never@example.com")
    Engagement.objects.create(notification=proxy, kind="open", machine=True, agent="proxy")
    figures = analyse(experiment)
    by_key = {p.person_key: p for p in Participant.objects.filter(experiment=experiment, group="A")}
    assert len(by_key) == 3
    assert figures["opened"] == {"unknown": 1, "yes": 1, "no": 1}


def test_export_names_nobody_and_coarsens_dates_to_weeks(tmp_path, agency, experiment):
    records = [
        make_record(
            victim={
                "phone": f"(520) 555-{200 + i:04d}",
                "email": f"v{i}@example.com",
                "first_name": "Zebulon",
                "last_name": "Quartermaine",
            }
        )
        for i in range(6)
    ]
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")
    for p in Participant.objects.all():
        Response.objects.create(
            participant=p,
            question_key="trust",
            raw="4 Zebulon",
            value="4",
            source="sms",
            received_at=dt.datetime(2026, 12, 9, tzinfo=dt.UTC),
        )
    out_path = tmp_path / "export.csv"
    run("survey", "export", "pilot", "--out", str(out_path))
    text = out_path.read_text()
    # Phone fragments with characters no hex pseudonym has ("555" alone may be in one).
    for secret in ["Zebulon", "Quartermaine", "555-02", "5205550", "example.com", "T-0"]:
        assert secret not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6 and {r["answer"] for r in rows} == {"4"}
    assert {r["report_week"] for r in rows} == {"2026-11-30"}  # the Monday of Dec 1, 2026
    again = list(csv.DictReader(io.StringIO(run("survey", "export", "pilot")[0])))
    assert [r["participant"] for r in again] == [r["participant"] for r in rows]


def test_the_phased_rollout_gives_pilot_versus_rest_and_a_difference_in_differences(agency):
    from victim_notify.agencies.models import Division

    Division.objects.filter(agency=agency, code="E").update(go_live_date=dt.date(2026, 11, 1))
    experiment = create_experiment(
        agency, "roll", "Rollout", dt.date(2026, 1, 1), share_notified=99
    )
    rng = random.Random(7)
    records = []
    for i in range(400):
        division = "W" if i % 2 else "E"
        day = "2026-10-10" if i < 200 else "2026-11-20"
        records.append(
            make_record(
                division=division,
                reported_at=f"{day}T10:00:00",
                occurred_at=f"{day}T09:00:00",
                victim={"phone": f"(520) 555-{3000 + i}"},
            )
        )
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")
    for p in Participant.objects.filter(experiment=experiment):
        late_after = p.division_code == "E" and p.reported_at.date() >= dt.date(2026, 11, 1)
        calls = rng.random() < (0.2 if late_after else 0.6)
        Response.objects.create(
            participant=p,
            question_key="likely_to_call",
            value="yes" if calls else "no",
            source="sms",
            received_at=p.reported_at + dt.timedelta(days=7),
        )
    rollout = analyse(experiment)["rollout"]
    assert rollout["phased"] and rollout["pilot"] == ["W"] and rollout["rest"] == ["E"]
    assert {
        p.assignment
        for p in Participant.objects.filter(
            division_code="E", reported_at__lt=dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        )
    } == {"rollout"}
    [did] = [r for r in rollout["difference_in_differences"] if r["key"] == "likely_to_call:yes"]
    assert did["estimate"] < 0 and did["ci"][1] < 0  # the calls dropped where it went live
    controls = Participant.objects.filter(group="B", assignment="random").count()
    assert did["n"] == 400 - controls  # the randomized Group B is not part of the rollout
    assert did["estimate"] == pytest.approx(-0.4, abs=0.15)


def test_report_for_an_unknown_experiment_is_a_clear_error():
    with pytest.raises(CommandError, match="no experiment 'nope'"):
        run("survey", "report", "nope")


def test_create_from_the_command_line_checks_the_settings(agency):
    out, _ = run(
        "survey",
        "create",
        "spring",
        "--agency",
        "testville",
        "--name",
        "Spring",
        "--starts-on",
        "2027-03-01",
        "--share-notified",
        "80",
    )
    assert "created spring" in out
    with pytest.raises(CommandError, match="share_notified: Both groups need people"):
        run(
            "survey",
            "create",
            "bad",
            "--agency",
            "testville",
            "--name",
            "Bad",
            "--starts-on",
            "2028-01-01",
            "--share-notified",
            "100",
        )
    with pytest.raises(CommandError, match="Overlaps the experiment 'Spring'"):
        run(
            "survey",
            "create",
            "twice",
            "--agency",
            "testville",
            "--name",
            "Twice",
            "--starts-on",
            "2027-06-01",
        )
    assert MessageKind.REPORT_FILED in agency.experiments.get(slug="spring").experimental_kinds


def test_staff_open_the_report_in_the_admin_and_the_view_is_recorded(client, experiment):
    from django.contrib.auth import get_user_model

    from tests.conftest import verified_login
    from victim_notify.accounts.models import AuditEvent

    url = f"/admin/surveys/experiment/{experiment.pk}/report/"
    assert client.get(url).status_code == 302  # to the login page
    chief = get_user_model().objects.create_superuser("chief", "c@example.com", "pw-12345678")
    verified_login(client, chief)
    page = client.get(url)
    assert page.status_code == 200 and "Findings (all randomized victims)" in page.content.decode()
    assert AuditEvent.objects.filter(action="survey_report.viewed", actor_label="chief").exists()


def test_the_coverage_study_prints_from_the_command_line():
    out, _ = run("survey", "coverage", "--runs", "40")
    assert "How often the 95% interval contained the true effect" in out
    assert "difference (Newcombe)" in out and "after Holm" in out
