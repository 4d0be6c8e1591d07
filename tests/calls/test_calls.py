"""Calls for service from CAD (EIDO JSON through the API, CSV through the drop folder): the
caller is texted when the wait for a unit runs past the agency's minutes for the priority, and
when the call closes, each once; a unit sent in time, an opt-out, a flagged caller or a call
type the agency never texts about stops it; bad snapshots are refused with their fields named
while the rest go in; the purge forgets the caller."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from hypothesis import strategies as st

from tests.intake.factories import token_for
from victim_notify.calls.models import Call
from victim_notify.calls.snapshots import from_eido
from victim_notify.contacts.models import OptOut, OptOutSource
from victim_notify.intake.dropbox import import_waiting_files
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.privacy.purge import purge
from victim_notify.providers.models import DevOutboxMessage

pytestmark = pytest.mark.django_db
CALLER = "+15205550171"


@pytest.fixture
def texting(agency: Any) -> Any:
    agency.call_texts_enabled = True
    agency.call_wait_minutes = {"2": 10, "3": 30}
    agency.main_phone = "+15205550100"
    agency.save()
    return agency


def eido(
    number: str = "C26-000101",
    received: dt.datetime | None = None,
    priority: int = 3,
    nature: str = "BURGLARY REPORT",
    phone: str = CALLER,
    language: str = "en",
    dispatched: dt.datetime | None = None,
    closed: dt.datetime | None = None,
    report: str = "",
    updated: dt.datetime | None = None,
    **person: Any,
) -> dict[str, Any]:
    received = received or timezone.now() - dt.timedelta(minutes=2)
    incident: dict[str, Any] = {
        "$id": f"incident-{number}",
        "incidentTrackingIdentifier": f"urn:emergency:uid:incidentid:{number}:tucson.example",
        "internalIncidentId": number,
        "incidentCommonPriorityNumber": priority,
        "incidentTypeInternalText": nature,
        "lastUpdateTimeStamp": (updated or timezone.now()).isoformat(),
    }
    if closed:
        incident["incidentCloseTimeStamp"] = closed.isoformat()
    if report:
        incident["rmsReportIdentifier"] = report
    document: dict[str, Any] = {
        "eidoVersion": "1.0",
        "incidentComponent": [incident],
        "callComponent": [{"callStartTimestamp": received.isoformat()}],
        "personComponent": [
            {
                "personIncidentRoleRegistryText": "Caller",
                "phoneNumber": phone,
                "languageCode": language,
                **person,
            },
        ],
        "locationComponent": [{"$id": "loc-1", "locationByValue": {"civicAddress": {}}}],
    }
    if dispatched:
        document["dispatchComponent"] = [{"dispatchTimestamp": dispatched.isoformat()}]
    return document


def post(client: Any, agency: Any, body: Any) -> Any:
    return client.post(
        "/api/v1/calls",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(agency)}"},
    )


def send_everything_due() -> None:
    while sender.send_due("w"):
        pass


def test_a_long_wait_texts_the_caller_once_the_minutes_for_its_priority_pass(client, texting):
    received = timezone.now() - dt.timedelta(minutes=2)
    answer = post(client, texting, eido(received=received))

    assert answer.status_code == 200 and answer.json()["new"] == 1
    (note,) = Notification.objects.filter(kind="call_received")
    assert note.not_before == received + dt.timedelta(minutes=30)  # priority 3: 30 minutes
    assert note.report_id is None and note.contact.value == CALLER
    send_everything_due()
    assert Notification.objects.get().status == Status.PENDING  # not yet

    with time_machine.travel(received + dt.timedelta(minutes=31)):
        send_everything_due()
    note.refresh_from_db()
    assert note.status == Status.DELIVERED
    text = DevOutboxMessage.objects.get(notification_id=note.pk).body
    local = timezone.localtime(received, texting.zone).strftime("%H:%M")
    assert text == (
        f"Testville Police: we have your call C26-000101 from {local}. Officers are on more "
        "urgent calls, so it may be more than 30 minutes before one comes. If it becomes an "
        "emergency, call 911. To add details or cancel, call (520) 555-0100."
    )
    assert "BURGLARY" not in text  # the call type never goes in a message


def test_a_unit_sent_in_time_means_no_waiting_text(client, texting):
    received = timezone.now() - dt.timedelta(minutes=2)
    post(client, texting, eido(received=received))
    post(client, texting, eido(received=received, dispatched=timezone.now()))

    with time_machine.travel(received + dt.timedelta(minutes=31)):
        send_everything_due()

    note = Notification.objects.get()
    assert note.status == Status.CANCELLED and note.status_reason_codes == ["unit_sent"]
    assert not DevOutboxMessage.objects.exists()


def test_closing_texts_the_call_and_report_numbers_once_in_the_callers_language(client, texting):
    received = timezone.now() - dt.timedelta(minutes=50)
    closed = timezone.now() - dt.timedelta(minutes=1)
    call = eido(
        received=received,
        dispatched=received + dt.timedelta(minutes=5),
        closed=closed,
        report="2026-004411",
        language="es",
    )
    assert post(client, texting, call).json()["texts_queued"] == 1
    again = post(client, texting, call | {}).json()
    assert again["texts_queued"] == 0  # the same snapshot again: nothing new

    send_everything_due()

    (note,) = Notification.objects.all()  # no waiting text: a unit was sent in time
    assert note.kind == "call_closed" and note.language == "es"
    assert DevOutboxMessage.objects.get().body == (
        "Testville Police: su llamada C26-000101 está cerrada. Se tomó un reporte: reporte "
        "2026-004411. Guarde este número. Preguntas: (520) 555-0100. ¿Emergencia? Llame al 911."
    )


def test_an_older_snapshot_is_ignored_and_times_are_never_emptied(client, texting):
    now = timezone.now()
    came = now - dt.timedelta(minutes=3)
    post(
        client, texting, eido(received=came, dispatched=now - dt.timedelta(minutes=1), updated=now)
    )
    older = eido(received=came, updated=now - dt.timedelta(minutes=5), priority=1)
    assert post(client, texting, older).json()["stale"] == 1
    later = post(client, texting, eido(received=came, updated=now + dt.timedelta(seconds=1))).json()
    assert later["unchanged"] == 1  # it says nothing of the dispatch: the time stays
    call = Call.objects.get()
    assert call.dispatched_at is not None and call.priority == "3"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"nature": "DOMESTIC DISTURBANCE"}, "excluded_nature"),
        ({"nature": "dv in progress"}, "excluded_nature"),
        ({"doNotContactIndicator": True}, "do_not_text"),
        ({"phone": ""}, "no_phone"),
        ({"phone": "not a phone"}, "invalid_phone"),
    ],
)
def test_callers_who_must_not_be_texted_are_not_and_the_call_says_why(
    client, texting, change, reason
):
    post(client, texting, eido(closed=timezone.now(), **change))

    assert Call.objects.get().texts_withheld == reason
    assert not Notification.objects.exists()


def test_nothing_is_texted_while_the_agency_has_call_texts_off(client, agency):
    post(client, agency, eido(closed=timezone.now()))
    assert Call.objects.get().texts_withheld == "texts_off"
    assert not Notification.objects.exists()


def test_a_flag_or_an_opt_out_after_queueing_cancels_at_hand_off(client, texting):
    received = timezone.now() - dt.timedelta(minutes=40)
    post(client, texting, eido(number="C1", received=received))
    post(client, texting, eido(number="C2", received=received, phone="+15205550172"))
    first = Notification.objects.get(contact__value__matches=CALLER)
    OptOut.objects.create(agency=texting, contact=first.contact, source=OptOutSource.STAFF)
    Call.objects.filter(call_number="C2").update(nature="CHILD WELFARE CHECK")

    send_everything_due()

    reasons = {n.contact.value: n.status_reason_codes for n in Notification.objects.all()}
    assert reasons == {CALLER: ["opted_out"], "+15205550172": ["excluded_nature"]}


def test_a_batch_takes_the_good_snapshots_and_names_the_bad_ones(client, texting):
    bad_time = eido(number="C3")
    bad_time["callComponent"][0]["callStartTimestamp"] = "yesterday"
    no_number = eido(number="")
    answer = post(client, texting, [eido(number="C1"), bad_time, no_number, "not an object"])

    body = answer.json()
    assert answer.status_code == 200 and body["new"] == 1
    rejected = {r["index"]: r["errors"] for r in body["rejected"]}
    assert rejected[1] == [
        {
            "pointer": "/callComponent/0/callStartTimestamp",
            "message": "not an ISO 8601 date and time, e.g. 2026-12-03T21:15:00",
        }
    ]
    assert rejected[2][0]["pointer"] == "/incidentComponent/internalIncidentId"
    assert rejected[3][0]["message"] == "each EIDO must be a JSON object"

    single = post(client, texting, bad_time)
    assert single.status_code == 422
    assert single["Content-Type"] == "application/problem+json"
    assert single.json()["errors"][0]["pointer"] == "/callComponent/0/callStartTimestamp"


def test_a_csv_of_calls_goes_in_from_the_drop_folder(texting, tmp_path, settings):
    settings.DROP_DIR = tmp_path
    folder = tmp_path / "testville"
    folder.mkdir()
    now = timezone.localtime(timezone.now(), texting.zone).replace(tzinfo=None, microsecond=0)
    rows = [
        "call_number,priority,nature,received_at,dispatched_at,closed_at,caller_phone,report_number",
        f"C10,3,THEFT,{now - dt.timedelta(minutes=3)},,,{CALLER},",
        f"C11,2,NOISE,{now - dt.timedelta(minutes=30)},{now - dt.timedelta(minutes=20)},"
        f"{now - dt.timedelta(minutes=1)},+15205550173,",
        f"C12,3,THEFT,not a time,,,{CALLER},",
    ]
    path = folder / "cad-20261205.calls.csv"
    path.write_text("\n".join(rows) + "\n")
    past = timezone.now().timestamp() - 10
    os.utime(path, (past, past))

    (done,) = import_waiting_files()

    assert done["status"] == "done"
    assert set(Call.objects.values_list("call_number", flat=True)) == {"C10", "C11"}
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert kinds == {"call_received", "call_closed"}
    (summary,) = (folder / "done").glob("*.summary.json")
    rejected = json.loads(summary.read_text())["rejected"]
    assert rejected == [
        {
            "index": 4,
            "call_number": "C12",
            "errors": [
                {
                    "pointer": "/received_at",
                    "message": "not an ISO 8601 date and time, e.g. 2026-12-03T21:15:00",
                }
            ],
        }
    ]


def test_an_eido_file_through_the_ingest_command(texting, tmp_path, capsys):
    path = Path(tmp_path / "cad.eido.json")
    path.write_text("\n".join(json.dumps(eido(number=f"C2{n}")) for n in range(3)) + "\n{broken\n")
    call_command("ingest", str(path), "--agency", "testville")
    out = json.loads(capsys.readouterr().out)
    assert out["calls"] is True and out["new"] == 3
    assert out["rejected"][0]["errors"][0]["message"].startswith("line 4 is not JSON")


def test_the_purge_forgets_the_caller_and_the_texts_but_keeps_the_call(client, texting):
    post(client, texting, eido(closed=timezone.now()))
    send_everything_due()
    later = timezone.now() + dt.timedelta(days=texting.retain_reports_days + 1)

    counts = purge(later)

    call = Call.objects.get()
    assert counts.calls == 1 and call.caller_phone is None and call.purged_at
    note = Notification.objects.get()
    assert note.body == "" and note.contact.value == ""
    assert call.received_at and call.closed_at  # the times stay, for counts


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=30), inner, max_size=4)
    ),
    max_leaves=20,
)


@hypothesis.given(
    document=st.fixed_dictionaries(
        {},
        optional={
            "incidentComponent": _JSON,
            "callComponent": _JSON,
            "dispatchComponent": _JSON,
            "personComponent": _JSON,
        },
    )
)
@hypothesis.settings(max_examples=300, deadline=None)
def test_any_json_reads_as_a_snapshot_or_as_named_errors(document):
    reading = from_eido(0, document, dt.UTC, timezone.now())
    assert (reading.snapshot is None) == bool(reading.errors)
    for error in reading.errors:
        assert error.pointer == "" or error.pointer.startswith("/")
