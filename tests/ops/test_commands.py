"""The `victim-notify` commands an operator runs, and the drop folder an RMS writes to."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.test import Client

from tests.agency_data import agency_data
from tests.conftest import make_record, subprocess_env
from tests.ops.conftest import run, run_json_lines, send_all, take_in
from victim_notify.agencies.models import Agency, ApiToken, Division, OffenseCode
from victim_notify.contacts.models import Contact, OptOut
from victim_notify.intake import dropbox
from victim_notify.intake.dropbox import import_waiting_files
from victim_notify.intake.models import ImportFile, QuarantinedRecord, Report
from victim_notify.messages.models import Engagement, MessageTemplate, Notification, Status
from victim_notify.providers.models import DevOutboxMessage
from victim_notify.replies.models import InboundMessage
from victim_notify.rules.models import Decision
from victim_notify.surveys.analysis import analyse

pytestmark = pytest.mark.django_db

NIBRS = re.compile(r"^\d{2}[0-9A-Z]$")  # 23H, 290, 13B, 09A, 90J …
NOTIFICATION_KEYS = {
    "report_number",
    "report_version",
    "party_role",
    "channel",
    "status",
    "reason_codes",
    "decision",
    "scheduled_at",
    "sent_at",
    "body",
}
CLI = [sys.executable, "-m", "victim_notify.cli"]


# -- demo and simulate --------------------------------------------------------------------


def _demo_shape() -> dict[str, int]:
    demo = Agency.objects.get(slug="demo")
    return {
        "divisions": demo.divisions.count(),
        "sections": demo.sections.count(),
        "offenses": demo.offense_codes.count(),
        "templates": MessageTemplate.objects.filter(agency=demo).count(),
        "agencies": Agency.objects.count(),
    }


def test_demo_setup_only_loads_the_demo_agency_and_can_run_again():
    first = run("demo", setup_only=True)
    assert "Demo agency 'demo' ready" in first
    demo = Agency.objects.get(slug="demo")

    divisions = list(Division.objects.filter(agency=demo).order_by("go_live_date"))
    assert len(divisions) == 4
    pilot, *others = divisions
    assert all(pilot.go_live_date < d.go_live_date for d in others), "one pilot goes live first"

    offenses = list(OffenseCode.objects.filter(agency=demo).prefetch_related("texts"))
    assert len(offenses) >= 45
    for offense in offenses:
        assert {t.language for t in offense.texts.all()} >= {"en", "es"}, offense
        for text in offense.texts.all():
            assert text.explanation and text.next_steps, (offense.code, text.language)
    assert sum(bool(NIBRS.match(o.code)) for o in offenses) >= 40

    sections = list(demo.sections.all())
    assert sections and all(s.phone.startswith("+1") for s in sections)
    assert {o.section_id for o in offenses} <= {s.pk for s in sections}

    # The demo's experiment, with enough simulated answers for real intervals.
    experiment = demo.experiments.get(slug="rollout")
    figures = analyse(experiment)
    calls = next(r for r in figures["outcomes"] if r["key"] == "likely_to_call:yes")
    assert calls["n_a"] > 200 and calls["n_b"] > 50
    low, high = calls["difference_ci"]
    assert -1 < low < high < 1 and high - low < 0.5
    assert figures["rollout"]["phased"] and figures["allocation"]["rollout"] > 0
    # Its messages and decisions are dated when their reports were made, so the dashboard's
    # chart shows the months behind it, not one busy day.
    from victim_notify.messages.models import Notification

    days = {n.created_at.date() for n in Notification.objects.filter(report__agency=demo)}
    assert len(days) > 60

    shape = _demo_shape()
    second = run("demo", setup_only=True)
    assert "Demo agency 'demo' ready" in second
    assert _demo_shape() == shape
    # A fresh staff password each time; the old one stops working.
    assert first.split(" / ")[-1] != second.split(" / ")[-1]


def test_simulate_pushes_reports_through_intake_and_prints_a_summary_that_adds_up():
    run("demo", setup_only=True, no_history=True)
    summary = json.loads(run("simulate", agency="demo", reports=50, seed=1))
    assert summary["received"] == 50
    outcomes = ("accepted", "unchanged", "amended", "quarantined")
    assert sum(summary[k] for k in outcomes) == 50
    assert summary["accepted"] > 0
    assert Report.objects.filter(agency__slug="demo").count() == summary["accepted"]
    assert QuarantinedRecord.objects.count() == summary["quarantined"]
    assert Notification.objects.count() == summary["notifications_queued"]
    # Every report that was taken in was decided.
    assert not Report.objects.filter(decisions=None).exists()


@pytest.mark.django_db(transaction=True)
def test_simulate_follow_pushes_reads_and_replies_through_the_web_app(live_server):
    """The demo's live feed: reports over the HTTP API, emails opened and details links
    followed through the web app, and victims writing back."""
    run("demo", setup_only=True, no_history=True)
    demo = Agency.objects.get(slug="demo")
    demo.quiet_hours_start = demo.quiet_hours_end = None  # send now, whatever the clock says
    demo.save()
    run("simulate", agency="demo", reports=40, seed=1)
    send_all()
    token = run("api-token", "create", agency="demo", name="simulator").strip()
    reports_before = Report.objects.count()

    out = run(
        "simulate",
        agency="demo",
        follow=True,
        reports=12,
        rate=500,
        url=live_server.url,
        token=token,
        amend_share=0,
        read_share=1,
        reply_share=1,
        seed=2,
    )

    lines = out.splitlines()
    assert len(lines) == 12
    assert all(line.endswith((": accepted", ": quarantined")) for line in lines), lines
    accepted = sum(line.endswith(": accepted") for line in lines)
    assert Report.objects.count() == reports_before + accepted
    assert Engagement.objects.count() == 12  # one read per report, each seen by the web app
    assert InboundMessage.objects.filter(channel="sms").count() == 12


def test_simulate_refuses_an_unknown_agency():
    with pytest.raises(CommandError, match="no agency"):
        run("simulate", agency="nowhere", reports=1)


# -- notifications ------------------------------------------------------------------------


def test_notifications_prints_one_json_object_per_decision(agency):
    texted = make_record(victim={"email": "ana@example.com"})
    excluded = make_record(offenses=["DV"])
    take_in(agency, texted, excluded)
    send_all()

    lines = run_json_lines("notifications", agency=agency.slug, json=True)
    assert len(lines) == Decision.objects.filter(agency=agency).count() == 3
    for line in lines:
        assert set(line) == NOTIFICATION_KEYS, line
        assert isinstance(line["reason_codes"], list) and line["reason_codes"]
        assert isinstance(line["report_version"], int)
        assert line["decision"]

    sent = [line for line in lines if line["report_number"] == texted["report_number"]]
    assert {line["channel"] for line in sent} == {"sms", "email"}
    for line in sent:
        assert line["status"] == Status.DELIVERED
        assert line["party_role"] == "victim"
        assert texted["report_number"] in line["body"]
        assert dt.datetime.fromisoformat(line["sent_at"])
        assert dt.datetime.fromisoformat(line["scheduled_at"])

    (not_sent,) = [line for line in lines if line["report_number"] == excluded["report_number"]]
    assert not_sent["channel"] is None
    assert not_sent["status"] == "not_sent"
    assert not_sent["reason_codes"] == ["excluded_offense_domestic_violence"]
    assert not_sent["decision"].startswith("Not contacted: ")
    assert not_sent["scheduled_at"] is None and not_sent["sent_at"] is None
    assert not_sent["body"] is None

    only_one = run_json_lines(
        "notifications", agency=agency.slug, json=True, report=excluded["report_number"]
    )
    assert only_one == [not_sent]


def test_notifications_refuses_an_unknown_agency(db):
    with pytest.raises(CommandError, match="no agency"):
        run("notifications", agency="nowhere", json=True)


# -- opt-out ------------------------------------------------------------------------------


def test_opt_out_by_phone_in_any_format_cancels_a_pending_text(agency):
    take_in(agency, make_record(victim={"phone": "(520) 555-0134"}))
    pending = Notification.objects.get(channel="sms")
    assert pending.status == Status.PENDING

    assert run("opt-out", "check", agency=agency.slug, phone="520.555.0134").strip() == (
        "not opted out"
    )
    assert run("opt-out", "add", agency=agency.slug, phone="+1 520 555 0134").strip() == (
        "opted out"
    )
    pending.refresh_from_db()
    assert pending.status == Status.CANCELLED
    assert pending.status_reason_codes == ["opted_out"]
    send_all()
    assert not DevOutboxMessage.objects.exists()

    assert run("opt-out", "add", agency=agency.slug, phone="5205550134").strip() == (
        "already opted out"
    )
    assert run("opt-out", "check", agency=agency.slug, phone="(520) 555-0134").strip() == (
        "opted out"
    )
    assert (
        OptOut.objects.filter(contact__value__matches="+15205550134", revoked_at=None).count() == 1
    )
    assert run("opt-out", "remove", agency=agency.slug, phone="520-555-0134").strip() == (
        "opt-out lifted"
    )
    assert run("opt-out", "check", agency=agency.slug, phone="520 555 0134").strip() == (
        "not opted out"
    )
    assert run("opt-out", "remove", agency=agency.slug, phone="520-555-0134").strip() == (
        "was not opted out"
    )


def test_opt_out_by_email(agency):
    assert run("opt-out", "add", agency=agency.slug, email="Ana@Example.com").strip() == "opted out"
    assert run("opt-out", "check", agency=agency.slug, email="ana@example.com").strip() == (
        "opted out"
    )


@pytest.mark.parametrize("phone", ["12", "not a phone", "555-0134-99999999"])
def test_opt_out_refuses_a_phone_that_is_not_one(agency, phone):
    with pytest.raises(CommandError):
        run("opt-out", "add", agency=agency.slug, phone=phone)
    assert not OptOut.objects.exists()
    assert not Contact.objects.exists()


def test_opt_out_refuses_an_unknown_agency(db):
    with pytest.raises(CommandError, match="no agency"):
        run("opt-out", "add", agency="nowhere", phone="520-555-0134")


# -- api-token ----------------------------------------------------------------------------


def _post_report(token: str) -> int:
    return (
        Client()
        .post(
            "/api/v1/reports",
            data=json.dumps(make_record()),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        .status_code
    )


def test_api_token_create_authenticates_and_revoke_stops_it(agency):
    token = run("api-token", "create", agency=agency.slug, name="RMS").strip()
    assert token.startswith("vn_") and "\n" not in token
    assert _post_report(token) == 201

    key_id = ApiToken.objects.get(agency=agency).key_id
    assert key_id in token
    assert f"{key_id}  RMS  active" in run("api-token", "list", agency=agency.slug)
    assert run("api-token", "revoke", agency=agency.slug, key_id=key_id).strip() == "revoked"
    assert _post_report(token) == 401
    assert "revoked" in run("api-token", "list", agency=agency.slug)

    with pytest.raises(CommandError, match="no such active token"):
        run("api-token", "revoke", agency=agency.slug, key_id=key_id)
    with pytest.raises(CommandError, match="no agency"):
        run("api-token", "create", agency="nowhere")


# -- agency load --------------------------------------------------------------------------


def test_agency_load_creates_then_updates_an_agency(db, tmp_path):
    path = tmp_path / "agency.json"
    path.write_text(json.dumps(agency_data()), encoding="utf-8")
    assert run("agency", "load", str(path)).strip() == "loaded testville"
    path.write_text(json.dumps(agency_data(name="Testville PD")), encoding="utf-8")
    assert run("agency", "load", str(path)).strip() == "loaded testville"
    assert Agency.objects.get().name == "Testville PD"


def _broken(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _with(change) -> str:  # type: ignore[no-untyped-def]
    data = agency_data()
    change(data)
    return json.dumps(data)


BROKEN_FILES = {  # what is wrong, and what the error says
    "not_json": ("{ this is not json", "line 1 column 3"),
    "no_agency_section": (json.dumps({"divisions": []}), "missing or unknown key 'agency'"),
    "unknown_section": (
        _with(lambda d: d["offenses"][0].update(section="NOPE")),
        "missing or unknown key 'NOPE'",
    ),
    "bad_time_zone": (
        _with(lambda d: d["agency"].update(timezone="Mars/Olympus_Mons")),
        "not a known time zone",
    ),
    "misspelt_field": (
        _with(lambda d: d["agency"].update(time_zone="America/Phoenix")),
        "'time_zone'",
    ),
    "bad_go_live_date": (
        _with(lambda d: d["divisions"][0].update(go_live_date="next spring")),
        "'next spring'",
    ),
}


@pytest.mark.parametrize(("content", "says"), BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_agency_load_of_a_broken_file_is_a_command_error(db, tmp_path, content, says):
    path = _broken(tmp_path, "agency.json", content)
    with pytest.raises(CommandError) as raised:
        run("agency", "load", str(path))
    assert str(raised.value).startswith(f"{path}: ")
    assert says in str(raised.value)
    assert not Agency.objects.exists()


def test_agency_load_of_a_missing_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match=r"missing\.json"):
        run("agency", "load", str(tmp_path / "missing.json"))


# -- worker -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_worker_until_idle_sends_everything_due_and_exits(agency, tmp_path):
    records = [make_record(victim={"phone": f"520-555-01{i:02d}"}) for i in range(5)]
    records.append(make_record(victim={"phone": "", "email": "ana@example.com"}))
    take_in(agency, *records)
    assert Notification.objects.filter(status=Status.PENDING).count() == 6

    done = subprocess.run(
        [*CLI, "worker", "--until-idle"],
        env=subprocess_env(VN_DROP_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"claimed": 6}
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert DevOutboxMessage.objects.count() == 6


# -- the drop folder ----------------------------------------------------------------------


def _drop(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    settled = time.time() - 60
    os.utime(path, (settled, settled))
    return path


def _jsonl(*records: object) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def test_dropped_file_is_taken_in_once_and_moved_to_done(agency, settings, tmp_path):
    settings.DROP_DIR = tmp_path
    folder = tmp_path / agency.slug
    data = _jsonl(make_record(), make_record(), make_record(offenses=["23X"]))
    _drop(folder, "reports.jsonl", data)

    assert import_waiting_files() == [
        {"agency": agency.slug, "file": "reports.jsonl", "status": "done"}
    ]
    assert Report.objects.count() == 2 and QuarantinedRecord.objects.count() == 1
    assert not (folder / "reports.jsonl").exists()
    (moved,) = (folder / "done").glob("*-reports.jsonl")
    assert moved.read_bytes() == data
    summary = json.loads(moved.with_name(moved.name + ".summary.json").read_text())
    assert summary["received"] == 3 and summary["accepted"] == 2
    assert len(summary["quarantined"]) == 1
    job = ImportFile.objects.get()
    assert job.status == "done" and job.summary["quarantined"] == 1

    # The same bytes again, under another name: recognised and set aside, not taken in.
    _drop(folder, "reports-again.jsonl", data)
    assert import_waiting_files() == []
    assert Report.objects.count() == 2 and ImportFile.objects.count() == 1
    (again,) = (folder / "done").glob("*-reports-again.jsonl")
    duplicate = json.loads(again.with_name(again.name + ".summary.json").read_text())
    assert duplicate["duplicate_of"] == "reports.jsonl"


def test_file_another_worker_took_since_the_folder_was_listed_is_skipped(
    agency, settings, tmp_path, monkeypatch
):
    """Several workers list the folder at once: a file one of them has imported and moved
    away by the time another reaches it is skipped, and the rest of the list still goes in."""
    settings.DROP_DIR = tmp_path
    folder = tmp_path / agency.slug
    _drop(folder, "a.jsonl", _jsonl(make_record()))
    _drop(folder, "b.jsonl", _jsonl(make_record()))
    listed = dropbox.waiting_files(tmp_path)
    (folder / "a.jsonl").rename(tmp_path / "taken-elsewhere.jsonl")
    monkeypatch.setattr(dropbox, "waiting_files", lambda drop_dir: listed)

    assert import_waiting_files() == [{"agency": agency.slug, "file": "b.jsonl", "status": "done"}]
    assert Report.objects.count() == 1


def test_file_still_being_written_waits(agency, settings, tmp_path):
    settings.DROP_DIR = tmp_path
    folder = tmp_path / agency.slug
    folder.mkdir()
    (folder / "fresh.jsonl").write_bytes(_jsonl(make_record()))
    written = time.time() + 30  # as if written just now, however slowly this test runs
    os.utime(folder / "fresh.jsonl", (written, written))
    assert import_waiting_files() == []
    assert (folder / "fresh.jsonl").exists() and not Report.objects.exists()


def test_unreadable_dropped_file_goes_to_rejected(agency, settings, tmp_path):
    settings.DROP_DIR = tmp_path
    folder = tmp_path / agency.slug
    _drop(folder, "export.csv", b"number,when\n1,today\n")

    assert import_waiting_files() == [
        {"agency": agency.slug, "file": "export.csv", "status": "rejected"}
    ]
    assert not Report.objects.exists()
    (moved,) = (folder / "rejected").glob("*-export.csv")
    summary = json.loads(moved.with_name(moved.name + ".summary.json").read_text())
    assert "missing column" in summary["error"]
    assert ImportFile.objects.get().status == "rejected"


# -- the console script -------------------------------------------------------------------


def test_console_script_lists_the_operator_commands():
    script = Path(sys.executable).parent / "victim-notify"
    assert script.exists(), "reinstall the project: pip install -e ."
    done = subprocess.run(
        [str(script), "help"],
        env=os.environ | {"LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = {line.strip() for line in done.stdout.splitlines() if line.startswith("    ")}
    expected = {"ingest", "worker", "demo", "simulate", "notifications", "opt-out"}
    assert expected | {"api-token", "agency"} <= listed
