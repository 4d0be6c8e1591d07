"""Assignment through the real intake path: eligibility first, then the group, then the
decision; per person, reproducible, and never for someone a safety rule holds back."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import make_record
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages.models import MessageKind, Notification
from victim_notify.privacy.keys import blind_index
from victim_notify.rules.models import Decision
from victim_notify.surveys.assignment import draw, group_for
from victim_notify.surveys.models import Assignment, Group, Participant
from victim_notify.surveys.setup import create_experiment

pytestmark = pytest.mark.django_db


def take_in(agency, *records):
    return ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
    )


def phone(n: int) -> str:
    return f"(520) 555-{n:04d}"


@pytest.fixture
def experiment(agency):
    return create_experiment(
        agency, "pilot", "Notification pilot", dt.date(2026, 1, 1), share_notified=50
    )


def test_each_person_is_assigned_once_and_group_b_gets_no_notice_but_a_reason(agency, experiment):
    take_in(agency, *(make_record(victim={"phone": phone(100 + i)}) for i in range(40)))
    participants = list(Participant.objects.all())
    assert len(participants) == 40
    assert {p.assignment for p in participants} == {Assignment.RANDOM}
    by_group = {g: [p for p in participants if p.group == g] for g in Group.values}
    assert by_group["A"] and by_group["B"]  # 50/50 over 40 people: both groups have someone
    for p in by_group["B"]:
        decision = Decision.objects.get(party=p.party, channel="sms")
        assert not decision.send and decision.reason_codes == ["control_group"]
        assert "Group B of the experiment 'Notification pilot'" in decision.sentence
        assert not Notification.objects.filter(party=p.party, kind=MessageKind.REPORT_FILED)
        # The notice the law requires is never withheld.
        [rights] = Notification.objects.filter(party=p.party, kind=MessageKind.RIGHTS_NOTICE)
        assert "30 days" in rights.body and p.report.report_number in rights.body
    for p in by_group["A"]:
        assert Notification.objects.filter(party=p.party, kind=MessageKind.REPORT_FILED).exists()
        assert not Notification.objects.filter(party=p.party, kind=MessageKind.RIGHTS_NOTICE)


def test_assignment_is_the_seeded_hash_of_the_person(agency, experiment):
    take_in(agency, *(make_record(victim={"phone": phone(200 + i)}) for i in range(30)))
    for p in Participant.objects.all():
        # The keyed hash of the phone, not the phone (docs/privacy.md).
        assert p.person_key == blind_index("contact", p.phone.value)
        expected = "A" if draw(experiment.seed, p.person_key) < 0.5 else "B"
        assert p.group == expected == group_for(experiment, p.person_key)


@pytest.mark.parametrize("share, group", [(1, "B"), (99, "A")])
def test_a_repeat_victim_stays_in_their_group_whatever_contact_comes_with_them(
    agency, share, group
):
    experiment = create_experiment(agency, "x", "X", dt.date(2026, 1, 1), share_notified=share)
    key = blind_index("contact", "+15205550300")  # keyed by this install's random index key
    experiment.seed = next(  # a seed that puts the person in `group`, for the test
        seed
        for seed in (f"s{i}" for i in range(1000))
        if (draw(seed, key) < share / 100) == (group == "A")
    )
    experiment.save()
    assert group_for(experiment, key) == group
    take_in(agency, make_record(victim={"phone": phone(300), "email": "lee@example.com"}))
    [first] = Participant.objects.all()
    assert (first.person_key, first.group) == (key, group)
    # Later reports: the same person by email only, then by phone only.
    take_in(agency, make_record(victim={"phone": "", "email": "LEE@example.com"}))
    take_in(agency, make_record(victim={"phone": phone(300)}))
    assert Participant.objects.count() == 1
    reachable = [
        d for d in Decision.objects.all() if not {"no_phone", "no_email"} & set(d.reason_codes)
    ]
    assert len(reachable) == 4  # text and email, then email, then text
    for decision in reachable:
        assert decision.send == (group == "A")
        assert (decision.reason_codes == ["control_group"]) == (group == "B")


def test_safety_exclusions_are_never_randomized(agency, experiment):
    take_in(
        agency,
        make_record(offenses=["11A"], victim={"phone": phone(400)}),  # sexual offense
        make_record(domestic_violence=True, victim={"phone": phone(401)}),
        make_record(victim={"phone": phone(402), "date_of_birth": "2015-01-01"}),  # a minor
        make_record(status="draft", victim={"phone": phone(403)}),
    )
    assert not Participant.objects.exists()


def test_a_division_not_live_yet_is_the_rollouts_comparison_group_not_randomized(
    agency, experiment
):
    take_in(agency, make_record(division="E", victim={"phone": phone(500)}))
    [p] = Participant.objects.all()
    assert (p.group, p.assignment, p.division_code) == ("B", Assignment.ROLLOUT, "E")
    decision = Decision.objects.get(party=p.party)
    assert decision.reason_codes == ["division_not_live"]  # the usual reason, not the experiment's
    assert not Notification.objects.filter(party=p.party).exists()


def test_reports_outside_the_experiments_dates_are_not_enrolled(agency):
    create_experiment(agency, "later", "Later", dt.date(2027, 1, 1), ends_on=dt.date(2027, 3, 31))
    take_in(agency, make_record(victim={"phone": phone(600)}))
    assert not Participant.objects.exists()
    assert Notification.objects.filter(kind=MessageKind.REPORT_FILED).count() == 1


def test_the_stratum_and_survey_time_are_recorded_with_the_assignment(agency, experiment):
    take_in(agency, make_record(offenses=["220"], victim={"phone": phone(700)}))
    [p] = Participant.objects.all()
    assert p.stratum == "division=W offense_group=other"
    assert p.survey_due_at == p.reported_at + dt.timedelta(days=7)
    assert p.survey_status == "waiting"
