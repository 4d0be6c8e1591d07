"""Case-status events from the RMS: told to the victims the report's rules allow, in their
language and once; never in a case the policy excludes (an arrest in a domestic-violence case
goes by no channel), but its deadline still counts; the compliance clock in working days with
the agency's holidays, met when the message is handed over, supervisors warned before it is
missed; "still open" updates at the agency's cadence."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import make_record
from tests.intake.factories import token_for
from tests.staff.conftest import make_staff
from victim_notify.accounts.models import Role
from victim_notify.cases.clock import AT_RISK, DUE, LATE, MET, standing, working_deadline
from victim_notify.cases.models import CaseEvent, Holiday, Obligation
from victim_notify.cases.notify import settle_obligations, still_open_updates, warn_supervisors
from victim_notify.intake.models import Report
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.providers.models import DevOutboxMessage

pytestmark = pytest.mark.django_db
PHOENIX = zoneinfo.ZoneInfo("America/Phoenix")


def report(agency: Any, **record: Any) -> Report:
    data = make_record(**record)
    ingest(agency, [IncomingRecord.from_object(0, data)], source="api")
    return Report.objects.get(report_number=data["report_number"])


def post(client: Any, agency: Any, body: Any) -> Any:
    return client.post(
        "/api/v1/events",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(agency)}"},
    )


def post_event(client: Any, agency: Any, report_number: str, kind: str, at: str = "") -> Any:
    """One event through the API, at `at` (ISO 8601) or now."""
    body = {"report_number": report_number, "kind": kind}
    return post(client, agency, body | {"occurred_at": at or timezone.now().isoformat()})


def put_the_victim_in_group_b(agency: Any) -> None:
    """An experiment whose seed puts make_record's victim (by their phone's keyed hash, as
    enrolment draws it) in Group B."""
    from victim_notify.privacy.keys import blind_index
    from victim_notify.surveys.assignment import draw
    from victim_notify.surveys.setup import create_experiment

    experiment = create_experiment(agency, "x", "X", dt.date(2026, 1, 1), share_notified=50)
    key = blind_index("contact", "+15205550134")
    experiment.seed = next(s for s in (f"s{i}" for i in range(1000)) if draw(s, key) >= 0.5)
    experiment.save()


def send_everything_due() -> None:
    while sender.send_due("w"):
        pass


def test_a_detective_assigned_is_told_by_text_and_email_once(client, agency):
    case = report(agency, victim={"email": "ana@example.org"})
    send_everything_due()
    event = {
        "report_number": case.report_number,
        "kind": "detective_assigned",
        "occurred_at": "2026-12-02T09:00:00",
        "event_id": "RMS-EV-1",
        "detective_name": "Det. Maria Soto",
        "detective_phone": "520-555-0166",
    }
    answer = post(client, agency, event)
    assert answer.status_code == 200
    assert answer.json() | {"rejected": []} == {
        "received": 1,
        "accepted": 1,
        "unchanged": 0,
        "notifications_queued": 2,
        "rejected": [],
    }
    assert post(client, agency, event).json()["unchanged"] == 1  # the same event again

    send_everything_due()

    text = Notification.objects.get(kind="detective_assigned", channel="sms")
    assert text.status == Status.DELIVERED
    assert DevOutboxMessage.objects.get(notification_id=text.pk).body == (
        f"Testville Police: Report {case.report_number} (Theft From Motor Vehicle) is now "
        "assigned to Detective Det. Maria Soto, who you can reach at (520) 555-0166."
    )
    email = Notification.objects.get(kind="detective_assigned", channel="email")
    assert email.subject == f"Report {case.report_number}: a detective is assigned"
    assert email.body.startswith("Hello Ana,")


def test_an_arrest_is_told_in_the_victims_language(client, agency):
    case = report(agency, victim={"language": "es"})
    send_everything_due()  # the first notice: a case message waits a minute behind one pending
    post_event(client, agency, case.report_number, "suspect_arrested", "2026-12-03T14:30:00")
    send_everything_due()
    note = Notification.objects.get(kind="suspect_arrested")
    body = DevOutboxMessage.objects.get(notification_id=note.pk).body
    assert body.startswith(f"Testville Police: En el reporte {case.report_number}, se arrestó")
    assert "diciembre" in body and "Preguntas: Property Crimes (520) 555-0150." in body


def test_an_arrest_in_an_excluded_case_goes_by_no_channel_but_its_deadline_counts(client, agency):
    case = report(agency, offenses=["DV"], victim={"email": "ana@example.org"})
    answer = post_event(
        client, agency, case.report_number, "suspect_arrested", "2026-12-03T14:30:00"
    ).json()

    assert answer["accepted"] == 1 and answer["notifications_queued"] == 0
    assert not Notification.objects.filter(kind="suspect_arrested").exists()
    (obligation,) = Obligation.objects.all()
    assert obligation.enhanced  # domestic violence: enhanced rights, 1 working day
    assert timezone.localtime(obligation.deadline_at, PHOENIX).strftime("%a %d %H:%M") == (
        "Fri 04 23:59"
    )


def test_a_minor_victims_guardian_is_told(client, agency):
    case = report(
        agency,
        parties=[
            {
                "party_id": "1",
                "role": "victim",
                "first_name": "Leo",
                "date_of_birth": "2015-01-01",
                "phone": "(520) 555-0134",
            },
            {"party_id": "2", "role": "guardian", "first_name": "Rosa", "phone": "(520) 555-0135"},
        ],
    )
    send_everything_due()
    post_event(client, agency, case.report_number, "property_recovered", "2026-12-03T14:30:00")
    told = set(
        Notification.objects.filter(kind="property_recovered").values_list(
            "party__party_id", flat=True
        )
    )
    assert told == {"2"}
    send_everything_due()
    assert settle_obligations() == 1  # the minor's notice is met by the message to the guardian
    obligation = Obligation.objects.get()
    assert obligation.party.party_id == "1" and obligation.met_how == "notified"


def test_obligations_are_settled_in_chunks_each_by_its_own_message(client, agency):
    cases = [report(agency) for _ in range(3)]
    untold = report(agency, offenses=["11A"])  # excluded: no message can meet it
    send_everything_due()
    for case in [*cases, untold]:
        post_event(client, agency, case.report_number, "case_closed")
    send_everything_due()
    assert settle_obligations(chunk=2) == 3
    assert settle_obligations(chunk=2) == 0
    for obligation in Obligation.objects.select_related("event__report"):
        if obligation.event.report == untold:
            assert obligation.met_at is None
            continue
        sent = Notification.objects.get(facts_key=obligation.event.facts_key, channel="sms")
        assert obligation.met_at == sent.handed_over_at


def test_bad_events_are_refused_with_their_fields_named(client, agency):
    case = report(agency)
    good = {
        "report_number": case.report_number,
        "kind": "case_closed",
        "occurred_at": "2026-12-03T14:30:00",
    }
    answer = post(
        client,
        agency,
        [
            good,
            good | {"report_number": "NOPE-1"},
            good | {"kind": "initial_appearance"},
            good | {"kind": "case_reopened"},
            good | {"occured_at": "typo"},
            good | {"occurred_at": "2099-01-01T00:00:00"},
        ],
    ).json()

    assert answer["accepted"] == 1
    errors = {r["index"]: r["errors"] for r in answer["rejected"]}
    assert errors[1] == [
        {"pointer": "/report_number", "message": "no such report: send the report first"}
    ]
    assert errors[2] == [
        {"pointer": "/appearance_at", "message": "required for an initial appearance"}
    ]
    assert errors[3][0]["pointer"] == "/kind"
    assert errors[4] == [
        {"pointer": "/occured_at", "message": "unknown field (check its spelling)"}
    ]
    assert errors[5] == [{"pointer": "/occurred_at", "message": "is in the future"}]

    single = post(client, agency, good | {"report_number": "NOPE-1"})
    assert single.status_code == 422 and single["Content-Type"] == "application/problem+json"


def test_working_days_skip_weekends_and_the_agencys_holidays():
    friday_evening = dt.datetime(2026, 12, 18, 17, 0, tzinfo=PHOENIX)
    christmas = dt.date(2026, 12, 25)
    five = working_deadline(friday_evening, 5, PHOENIX, {christmas})
    # Mon 21, Tue 22, Wed 23, Thu 24, (Fri 25 a holiday), Mon 28.
    assert five.astimezone(PHOENIX) == dt.datetime(2026, 12, 28, 23, 59, 59, tzinfo=PHOENIX)
    assert working_deadline(friday_evening, 1, PHOENIX, ()).astimezone(PHOENIX).date() == (
        dt.date(2026, 12, 21)
    )
    assert working_deadline(friday_evening, 0, PHOENIX, ()).astimezone(PHOENIX).date() == (
        dt.date(2026, 12, 18)
    )


def test_standing_on_the_clock():
    deadline = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)
    day = dt.timedelta(hours=24)
    assert standing(deadline, None, deadline - 2 * day, day) == DUE
    assert standing(deadline, None, deadline - day / 2, day) == AT_RISK
    assert standing(deadline, None, deadline + day, day) == LATE
    assert standing(deadline, deadline, deadline + day, day) == MET


def test_the_clock_is_met_by_the_message_and_supervisors_hear_of_what_is_at_risk(client, agency):
    Holiday.objects.create(agency=agency, date=dt.date(2026, 12, 7), name="Staff day")
    supervisor = make_staff(agency, Role.SUPERVISOR)
    supervisor.user.email = "sup@testville.example"
    supervisor.user.save()
    make_staff(agency, Role.ADVOCATE)  # not warned
    with time_machine.travel(dt.datetime(2026, 12, 3, 12, tzinfo=PHOENIX)):  # approved before
        told = report(agency)
        untold = report(agency, offenses=["11A"])  # a sexual offense: excluded, enhanced
        send_everything_due()
    with time_machine.travel(dt.datetime(2026, 12, 4, 10, tzinfo=PHOENIX)):  # a Friday
        for case in (told, untold):
            post_event(
                client, agency, case.report_number, "referred_to_prosecutor", "2026-12-04T09:00:00"
            )
        send_everything_due()
        assert settle_obligations() == 1

    met = Obligation.objects.get(event__report=told)
    assert met.met_how == "notified" and not met.enhanced
    # 5 working days from Friday Dec 4, Monday Dec 7 a holiday: Monday Dec 14.
    assert timezone.localtime(met.deadline_at, PHOENIX).date() == dt.date(2026, 12, 14)
    pending = Obligation.objects.get(event__report=untold)
    # Enhanced: 1 working day, and Monday is a holiday: Tuesday Dec 8.
    assert timezone.localtime(pending.deadline_at, PHOENIX).date() == dt.date(2026, 12, 8)

    with time_machine.travel(dt.datetime(2026, 12, 7, 10, tzinfo=PHOENIX)):
        assert warn_supervisors() == 0  # not yet within 24 hours
    with time_machine.travel(dt.datetime(2026, 12, 8, 9, tzinfo=PHOENIX)):
        assert warn_supervisors() == 1
        assert warn_supervisors() == 0  # once
    warning = Notification.objects.get(kind="staff_alert")
    assert warning.contact.value == "sup@testville.example"
    assert f"Report {untold.report_number}: Referred to the prosecutor" in warning.body
    assert told.report_number not in warning.body


def test_still_open_updates_go_at_the_agencys_cadence_and_stop_when_the_case_closes(client, agency):
    agency.still_open_days = 28
    agency.save()
    case = report(agency)
    send_everything_due()
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(days=20)):
        assert still_open_updates() == 0  # news within 28 days
    with time_machine.travel(start + dt.timedelta(days=29)):
        assert still_open_updates() == 1
        send_everything_due()
        assert still_open_updates() == 0  # told this period
    note = Notification.objects.get(kind="still_open")
    body = DevOutboxMessage.objects.get(notification_id=note.pk).body
    assert f"Report {case.report_number} (Theft From Motor Vehicle) is still open." in body
    with time_machine.travel(start + dt.timedelta(days=60)):
        post_event(client, agency, case.report_number, "case_closed")
    with time_machine.travel(start + dt.timedelta(days=90)):
        assert still_open_updates() == 0
    assert CaseEvent.objects.count() == 1


def test_a_new_version_whose_status_tells_of_an_event_is_that_event(agency):
    agency.case_event_statuses = {
        "Cleared by Arrest": "suspect_arrested",
        "inactive": "case_suspended",
    }
    agency.full_clean()
    agency.save()
    assert agency.case_event_statuses == {
        "cleared by arrest": "suspect_arrested",
        "inactive": "case_suspended",
    }
    record = make_record(victim={"email": "ana@example.org"})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    send_everything_due()
    assert CaseEvent.objects.count() == 0  # approved is not an event

    arrested = record | {"status": "Cleared by Arrest"}
    summary = ingest(agency, [IncomingRecord.from_object(0, arrested)], source="csv")
    assert summary.count("amended") == 1 and summary.notifications_queued == 2
    event = CaseEvent.objects.get()
    assert (event.kind, event.source, event.event_id) == (
        "suspect_arrested",
        "csv",
        "status:cleared by arrest:v2",
    )
    assert Obligation.objects.get().event == event  # its legal deadline counts too
    send_everything_due()
    text = Notification.objects.get(kind="suspect_arrested", channel="sms")
    assert text.status == Status.DELIVERED  # a status that tells of an event counts as approved
    body = DevOutboxMessage.objects.get(notification_id=text.pk).body
    assert body.startswith(
        f"Testville Police: In report {record['report_number']}, a suspect was arrested on"
    )

    # The same version again, and a later one that keeps the status: no second arrest.
    ingest(agency, [IncomingRecord.from_object(0, arrested)], source="csv")
    ingest(
        agency,
        [IncomingRecord.from_object(0, arrested | {"officer": {"name": "Lee Park"}})],
        source="csv",
    )
    assert CaseEvent.objects.count() == 1
    assert Notification.objects.filter(kind="suspect_arrested").count() == 2

    ingest(agency, [IncomingRecord.from_object(0, arrested | {"status": "inactive"})], source="csv")
    assert CaseEvent.objects.filter(kind="case_suspended").count() == 1


def test_a_case_event_never_overtakes_the_reports_first_notice(agency):
    agency.post_approval_delay_minutes = 15
    agency.case_event_statuses = {"closed": "case_closed"}
    agency.save()
    moment = timezone.now()
    record = make_record()
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api", now=moment)
    closed = record | {"status": "closed"}
    ingest(agency, [IncomingRecord.from_object(0, closed)], source="api", now=moment)

    first = Notification.objects.get(kind="report_filed")
    told = Notification.objects.get(kind="case_closed")
    assert first.not_before == moment + dt.timedelta(minutes=15)
    assert told.not_before == first.not_before + dt.timedelta(minutes=1)
    assert first.status == told.status == Status.PENDING  # closed after approval: both go


def test_a_report_never_approved_is_not_told_of_by_its_later_status(agency):
    agency.case_event_statuses = {"closed": "case_closed"}
    agency.save()
    record = make_record(status="closed")  # e.g. unfounded: closed without being approved
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    ingest(agency, [IncomingRecord.from_object(0, record | {"status": "pending"})], source="api")
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    assert Report.objects.get().approved_at is None
    assert not Notification.objects.exists() and not CaseEvent.objects.exists()


def test_a_held_first_notice_does_not_hold_the_case_event_with_it(agency):
    from victim_notify.staff.report_actions import hold

    agency.post_approval_delay_minutes = 15
    agency.case_event_statuses = {"closed": "case_closed"}
    agency.save()
    moment = timezone.now()
    record = make_record()
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api", now=moment)
    assert hold(Notification.objects.get(kind="report_filed"), moment)
    ingest(agency, [IncomingRecord.from_object(0, record | {"status": "closed"})], source="api")
    # Only the wait after approval, which holds every message about a new report.
    assert Notification.objects.get(kind="case_closed").not_before == moment + dt.timedelta(
        minutes=15
    )


def test_a_status_toggled_back_and_forth_tells_of_its_event_once(client, agency):
    agency.case_event_statuses = {"cleared by arrest": "suspect_arrested"}
    agency.save()
    record = make_record()
    for status in ("approved", "cleared by arrest", "approved", "cleared by arrest"):
        ingest(agency, [IncomingRecord.from_object(0, record | {"status": status})], source="api")
    assert CaseEvent.objects.count() == 1
    assert Notification.objects.filter(kind="suspect_arrested").count() == 1


def test_a_status_after_the_same_event_from_the_events_api_is_not_told_again(client, agency):
    agency.case_event_statuses = {"cleared by arrest": "suspect_arrested"}
    agency.save()
    record = make_record()
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    post_event(client, agency, record["report_number"], "suspect_arrested")
    cleared = record | {"status": "cleared by arrest"}
    ingest(agency, [IncomingRecord.from_object(0, cleared)], source="api")
    assert CaseEvent.objects.get().source == "api"
    assert Notification.objects.filter(kind="suspect_arrested").count() == 1


def test_a_pending_case_message_survives_a_new_version_of_the_report(client, agency):
    record = make_record()
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    post_event(client, agency, record["report_number"], "warrant_issued")
    amended = record | {"officer": {"name": "Lee Park"}}
    ingest(agency, [IncomingRecord.from_object(0, amended)], source="api")
    assert Notification.objects.get(kind="warrant_issued").status == Status.PENDING


def test_a_message_that_cannot_be_made_keeps_the_event_its_deadline_and_the_batch(agency):
    from victim_notify.messages.models import MessageTemplate

    agency.case_event_statuses = {"closed": "case_closed"}
    agency.save()
    MessageTemplate.objects.filter(agency=agency, kind="case_closed").delete()  # none to use
    records = [make_record(), make_record()]
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")
    closed = [r | {"status": "closed"} for r in records]
    summary = ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(closed)], source="api"
    )
    assert summary.count("amended") == 2 and summary.notifications_queued == 0
    assert CaseEvent.objects.filter(kind="case_closed").count() == 2
    assert Obligation.objects.count() == 2  # staff see them on the Deadlines page
    assert set(Report.objects.values_list("status", flat=True)) == {"closed"}


def test_case_settings_that_make_no_sense_are_refused(agency):
    from django.core.exceptions import ValidationError

    for field, value in [
        ("case_event_statuses", {"closed": "case_reopened"}),
        ("case_event_statuses", ["closed"]),
        ("case_event_statuses", {"assigned": "detective_assigned"}),  # needs the detective
        ("case_update_kinds", ["suspect_arrested", "parole_hearing"]),
        ("notice_deadlines", {"suspect_arrested": [0]}),
        ("notice_deadlines", {"suspect_arrested": "5"}),
        ("enhanced_rights_categories", ["burglary"]),
    ]:
        setattr(agency, field, value)
        with pytest.raises(ValidationError) as refused:
            agency.full_clean()
        assert field in refused.value.message_dict, field
        agency.refresh_from_db()


def test_a_version_naming_a_detective_tells_the_victims_who_to_call(agency):
    record = make_record(victim={"email": "ana@example.org"})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    send_everything_due()
    assigned = record | {"detective": {"name": "Det. Maria Soto", "phone": "520-555-0166"}}
    summary = ingest(agency, [IncomingRecord.from_object(0, assigned)], source="api")
    assert summary.count("amended") == 1 and summary.notifications_queued == 2
    event = CaseEvent.objects.get()
    assert (event.kind, event.detective_name, event.detective_phone) == (
        "detective_assigned",
        "Det. Maria Soto",
        "+15205550166",
    )
    send_everything_due()
    text = Notification.objects.get(kind="detective_assigned", channel="sms")
    assert DevOutboxMessage.objects.get(notification_id=text.pk).body == (
        f"Testville Police: Report {record['report_number']} (Theft From Motor Vehicle) is now "
        "assigned to Detective Det. Maria Soto, who you can reach at (520) 555-0166."
    )

    # The same detective in a later version is no news, nor is a corrected phone, nor a
    # version that names nobody (a feed without the column); another detective is.
    ingest(agency, [IncomingRecord.from_object(0, assigned | {"status": "Approved"})], source="api")
    phone_fixed = assigned | {"detective": {"name": "DET. MARIA SOTO", "phone": "520-555-0167"}}
    ingest(agency, [IncomingRecord.from_object(0, phone_fixed)], source="api")
    ingest(agency, [IncomingRecord.from_object(0, record | {"status": "APPROVED"})], source="api")
    assert Report.objects.get().detective_name == "DET. MARIA SOTO"  # still assigned
    ingest(agency, [IncomingRecord.from_object(0, phone_fixed)], source="api")
    assert CaseEvent.objects.count() == 1
    reassigned = assigned | {"detective": {"name": "Det. Lee Park", "phone": "not a phone"}}
    summary = ingest(agency, [IncomingRecord.from_object(0, reassigned)], source="api")
    [result] = summary.as_dict()["warnings"]
    assert result["warnings"][0]["pointer"] == "/detective/phone"
    second = CaseEvent.objects.latest("pk")
    assert (second.detective_name, second.detective_phone) == ("Det. Lee Park", "")
    send_everything_due()
    text = Notification.objects.get(channel="sms", facts_key=second.facts_key)
    body = DevOutboxMessage.objects.get(notification_id=text.pk).body
    assert "Det. Lee Park, who you can reach at (520) 555-0150" in body  # the section's phone


def test_a_detective_named_when_the_report_is_approved_is_told_after_the_first_notice(agency):
    detective = {"detective": {"name": "Det. Maria Soto", "phone": "520-555-0166"}}
    moment = timezone.now()
    approved = make_record(**detective)
    summary = ingest(agency, [IncomingRecord.from_object(0, approved)], source="api", now=moment)
    assert summary.notifications_queued == 2
    first = Notification.objects.get(kind="report_filed")
    told = Notification.objects.get(kind="detective_assigned")
    assert told.not_before == first.not_before + dt.timedelta(minutes=1)
    assert "Det. Maria Soto" in told.body

    # A report pending when the detective is named is told of them when it is approved, by a
    # version naming them again or by one that names nobody (which leaves them in force); a
    # report never approved is told nothing.
    pending = make_record(status="pending", **detective)
    ingest(agency, [IncomingRecord.from_object(0, pending)], source="api")
    assert CaseEvent.objects.count() == 1
    ingest(agency, [IncomingRecord.from_object(0, pending | {"status": "approved"})], source="api")
    [event] = CaseEvent.objects.filter(report__report_number=pending["report_number"])
    assert event.detective_name == "Det. Maria Soto"
    assert Notification.objects.filter(report=event.report, kind="detective_assigned").count() == 1
    silent = make_record(status="pending", **detective)
    ingest(agency, [IncomingRecord.from_object(0, silent)], source="api")
    approving = {k: v for k, v in silent.items() if k != "detective"} | {"status": "approved"}
    ingest(agency, [IncomingRecord.from_object(0, approving)], source="api")
    [event] = CaseEvent.objects.filter(report__report_number=silent["report_number"])
    assert (event.detective_name, event.detective_phone) == ("Det. Maria Soto", "+15205550166")
    never = make_record(status="pending", **detective)
    ingest(agency, [IncomingRecord.from_object(0, never)], source="api")
    assert CaseEvent.objects.count() == 3


def test_a_case_message_waits_at_hand_off_while_the_persons_first_notice_is_not_sent(agency):
    """A first notice that failed for now and waits for its retry, or a worker that is
    behind: the case message is held until the report's own message has gone."""
    record = make_record(detective={"name": "Det. Maria Soto", "phone": "520-555-0166"})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    first = Notification.objects.get(kind="report_filed")
    told = Notification.objects.get(kind="detective_assigned")
    later = timezone.now() + dt.timedelta(minutes=5)
    Notification.objects.filter(pk=first.pk).update(not_before=later)  # as if to be retried
    Notification.objects.filter(pk=told.pk).update(not_before=timezone.now())
    send_everything_due()
    told.refresh_from_db()
    assert told.status == Status.PENDING and told.status_reason_codes == ["after_first_notice"]
    assert not DevOutboxMessage.objects.exists()

    with time_machine.travel(later + dt.timedelta(seconds=1), tick=False):
        sent = sender.send_due("w")  # both are due: the first notice goes, the case one waits
        assert sent == 2
        told.refresh_from_db()
        assert told.status == Status.PENDING
    with time_machine.travel(later + dt.timedelta(minutes=2), tick=False):
        send_everything_due()
    handed_over = DevOutboxMessage.objects.order_by("pk").values_list("notification_id", flat=True)
    assert list(handed_over) == [first.pk, told.pk]


def test_group_b_hears_of_a_detective_after_its_rights_notice(agency):
    agency.post_approval_delay_minutes = 30
    agency.save()
    put_the_victim_in_group_b(agency)
    moment = timezone.now()
    record = make_record(detective={"name": "Det. Maria Soto", "phone": "520-555-0166"})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api", now=moment)

    assert not Notification.objects.filter(kind="report_filed", status=Status.PENDING).exists()
    rights = Notification.objects.get(kind="rights_notice")
    told = Notification.objects.get(kind="detective_assigned")
    assert rights.not_before == moment + dt.timedelta(minutes=30)
    assert told.not_before == rights.not_before + dt.timedelta(minutes=1)


def test_with_no_first_notice_to_follow_a_case_message_still_keeps_the_wait_after_approval(
    agency,
):
    """Group B of an agency with no statutory notice gets no first message at all."""
    agency.post_approval_delay_minutes = 30
    agency.save()
    agency.languages.update(statutory_notice="")
    put_the_victim_in_group_b(agency)
    moment = timezone.now()
    record = make_record(detective={"name": "Det. Maria Soto", "phone": "520-555-0166"})
    ingest(agency, [IncomingRecord.from_object(0, record)], source="api", now=moment)

    assert not Notification.objects.exclude(kind="detective_assigned").exists()
    told = Notification.objects.get(kind="detective_assigned")
    assert told.not_before == moment + dt.timedelta(minutes=30)


def test_a_report_that_never_names_a_detective_hashes_as_before(agency):
    """Reports stored before the detective field existed are not amended by a re-send."""
    from victim_notify.agencies.config import load_config
    from victim_notify.intake.validate import validate_record

    valid = validate_record(make_record(), load_config(agency), timezone.now())
    assert "detective" not in valid.payload()
