"""NIBRS XML (FBI IEPD 2019.1) merged with the contacts feed: the FBI's own sample documents,
and documents laid out as the IEPD lays them out with domestic-violence relationships, minors,
businesses, replacements and deletes; malformed reports held back while the rest go in; the
schema check; the drop folder pairing a NIBRS file with its contacts file."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import hypothesis
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import strategies as st

from tests.intake.nibrs_documents import (
    SAMPLES,
    Incident,
    Victim,
    contacts_csv,
    contacts_for,
    recently,
    report_xml,
    submission_xml,
)
from victim_notify.cases.models import CaseEvent
from victim_notify.intake.connectors.nibrs import VICTIM_TYPES
from victim_notify.intake.connectors.nibrs_xml import read_nibrs_xml
from victim_notify.intake.dropbox import import_waiting_files
from victim_notify.intake.files import UnreadableFile
from victim_notify.intake.models import Party, QuarantinedRecord, Report
from victim_notify.intake.replay import replay
from victim_notify.messages.models import Notification
from victim_notify.rules.models import Decision

SCHEMA = Path(__file__).parent / "samples" / "nibrs_schema" / "nibrs.xsd"


def ingest(path: Path, *extra: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("ingest", str(path), "--agency", "testville", *extra, stdout=out)
    return json.loads(out.getvalue())


def drop(
    tmp_path: Path, xml: bytes, rows: list[dict[str, str]] | None, name: str = "nibrs-1"
) -> Path:
    path = tmp_path / f"{name}.xml"
    path.write_bytes(xml)
    if rows is not None:
        (tmp_path / f"{name}.contacts.csv").write_bytes(contacts_csv(rows))
    return path


def test_the_fbi_sample_incident_goes_in_with_its_contacts(nibrs_agency, tmp_path):
    path = shutil.copy(SAMPLES / "nibrs_GroupAIncident_Sample.xml", tmp_path / "sample.xml")
    incident = Incident("000054236732", victims=[Victim(1), Victim(2)])
    rows = contacts_for(incident, recently())
    (tmp_path / "sample.contacts.csv").write_bytes(contacts_csv(rows))

    summary = ingest(Path(path))

    assert summary["format"] == "nibrs-xml"
    assert (summary["accepted"], summary["quarantined"]) == (1, [])
    report = Report.objects.get(report_number="000054236732")
    assert report.offense_codes == ["13A"]
    assert report.officer_name == rows[0]["officer_name"]
    assert report.division.code == "W"
    # Element 3, read in the agency's time zone.
    assert report.occurred_at.astimezone(nibrs_agency.zone).strftime("%Y-%m-%d %H:%M") == (
        "2016-02-19 10:00"
    )
    parties = {p.party_id: p for p in Party.objects.filter(report=report)}
    assert set(parties) == {"V1", "V2", "O1"}
    adult, baby, offender = parties["V1"], parties["V2"], parties["O1"]
    assert adult.first_name == rows[0]["first_name"] and adult.phone.value == rows[0]["phone"]
    assert adult.juvenile is False and adult.relationships == [{"party_id": "O1", "code": "AQ"}]
    assert baby.juvenile is True and baby.relationships == [{"party_id": "O1", "code": "ST"}]
    assert offender.role == "suspect" and not offender.first_name
    # The adult is told; the baby (a minor with no guardian on the report) is not.
    assert Notification.objects.filter(party=adult).exists()
    assert not Notification.objects.filter(party=baby).exists()
    assert "minor_without_guardian" in Decision.objects.filter(party=baby).first().reason_codes


def test_every_field_sample_takes_the_officer_victim_and_passes_over_no_one(nibrs_agency, tmp_path):
    path = shutil.copy(SAMPLES / "nibrs_AllFields_Sample.xml", tmp_path / "all.xml")
    incident = Incident("54236732", victims=[Victim(1), Victim(2)])
    (tmp_path / "all.contacts.csv").write_bytes(contacts_csv(contacts_for(incident, recently())))

    summary = ingest(Path(path))

    assert summary["accepted"] == 1 and "passed_over" not in summary
    report = Report.objects.get(report_number="54236732")
    assert report.offense_codes == ["240"]
    officer = Party.objects.get(report=report, party_id="V1")  # type L: an officer, a person
    assert officer.kind == "person" and officer.juvenile is False
    # Its arrest (j:Arrest 12345 on 2016-02-28) is a case event, told once however often sent.
    assert summary["case_events"]["accepted"] == 1
    (arrest,) = CaseEvent.objects.filter(report=report)
    assert (arrest.kind, arrest.event_id) == ("suspect_arrested", "nibrs-arrest:12345")
    assert arrest.occurred_at.astimezone(nibrs_agency.zone).date().isoformat() == "2016-02-28"
    assert ingest(Path(path))["case_events"]["unchanged"] == 1


def test_a_spouse_or_partner_as_offender_makes_it_domestic_violence(nibrs_agency, tmp_path):
    spouse = Incident(
        "2026-50001", victims=[Victim(1, relationships=[(1, "Family Member_Spouse")])]
    )
    partner = Incident(
        "2026-50002", victims=[Victim(1, relationships=[(1, "Boyfriend_Girlfriend")])]
    )
    stranger = Incident("2026-50003", victims=[Victim(1, relationships=[(1, "Stranger")])])
    rows = [r for i in (spouse, partner, stranger) for r in contacts_for(i, recently())]
    path = drop(tmp_path, submission_xml(spouse, partner, stranger), rows)

    summary = ingest(path)

    assert summary["accepted"] == 3
    told = set(Notification.objects.values_list("report__report_number", flat=True))
    assert told == {"2026-50003"}
    for number, code in (("2026-50001", "SE"), ("2026-50002", "BG")):
        decision = Decision.objects.filter(report__report_number=number, party__party_id="V1")
        assert "domestic_violence_relationship" in decision.first().reason_codes
        victim = Party.objects.get(report__report_number=number, party_id="V1")
        assert victim.relationships == [{"party_id": "O1", "code": code}]


def test_ages_ranges_and_babies_decide_the_minor_rule_by_the_lower_end(nibrs_agency, tmp_path):
    incident = Incident(
        "2026-50010",
        victims=[
            Victim(1, age="40"),
            Victim(2, age="16-20"),
            Victim(3, age="NEWBORN"),
            Victim(4, age="UNKNOWN"),
        ],
    )
    path = drop(tmp_path, submission_xml(incident), contacts_for(incident, recently()))

    ingest(path)

    juvenile = dict(Party.objects.filter(role="victim").values_list("party_id", "juvenile"))
    assert juvenile == {"V1": False, "V2": True, "V3": True, "V4": None}


def test_a_business_victim_takes_its_name_from_the_feed_and_society_is_nobody(
    nibrs_agency, tmp_path
):
    incident = Incident("2026-50020", offenses=["23F"], victims=[Victim(1, "B"), Victim(2, "S")])
    rows = contacts_for(incident, recently())[:1]
    path = drop(tmp_path, submission_xml(incident), rows)

    ingest(path)

    (business,) = Party.objects.filter(role="victim")
    assert business.kind == "business" and business.business_name == rows[0]["business_name"]
    assert "business" in Decision.objects.get(party=business).reason_codes


def test_a_victim_the_feed_does_not_know_is_kept_without_contact_and_said_so(
    nibrs_agency, tmp_path
):
    incident = Incident("2026-50030", victims=[Victim(1), Victim(2)])
    rows = contacts_for(incident, recently())[:1]  # nobody for victim 2
    path = drop(tmp_path, submission_xml(incident), rows)

    summary = ingest(path)

    assert summary["accepted"] == 1
    second = Party.objects.get(party_id="V2")
    assert second.phone is None and second.email is None and not second.first_name
    assert not Notification.objects.filter(party=second).exists()
    (noted,) = summary["warnings"]
    assert any("no row for victim 2" in w["message"] for w in noted["warnings"])
    version = Report.objects.get().versions.get()
    assert any("no row for victim 2" in w["message"] for w in version.warnings)


def test_an_incident_the_feed_lacks_is_held_until_staff_fill_it_in(nibrs_agency, tmp_path):
    known = Incident("2026-50040")
    unknown = Incident("2026-50041")
    path = drop(tmp_path, submission_xml(known, unknown), contacts_for(known, recently()))

    summary = ingest(path)

    assert summary["accepted"] == 1
    (held,) = summary["quarantined"]
    assert held["report_number"] == "2026-50041"
    pointers = {e["pointer"] for e in held["errors"]}
    assert {"/reported_at", "/division", "/officer/name"} <= pointers
    # Kept as our JSON: staff fill in what the feed would have given, and replay.
    record = QuarantinedRecord.objects.get()
    data = json.loads(record.raw)
    data |= {"reported_at": recently(), "division": "W", "officer": {"name": "Ofc. Ruiz"}}
    record.raw = json.dumps(data)
    record.save()
    assert replay(record) == "accepted"
    assert Report.objects.filter(report_number="2026-50041").exists()


def test_a_replacement_amends_and_a_delete_cancels_what_is_not_sent(nibrs_agency, tmp_path):
    first = Incident("2026-50050", offenses=["23F"])
    rows = contacts_for(first, recently())
    ingest(drop(tmp_path, submission_xml(first), rows, name="a"))
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}

    replaced = Incident("2026-50050", offenses=["220"], action="R")
    assert ingest(drop(tmp_path, submission_xml(replaced), rows, name="b"))["amended"] == 1
    assert Report.objects.get().offense_codes == ["220"]

    deleted = Incident("2026-50050", action="D")
    summary = ingest(drop(tmp_path, submission_xml(deleted), rows, name="c"))

    assert summary["amended"] == 1
    report = Report.objects.get()
    assert report.status == "deleted" and report.version == 3
    assert set(Notification.objects.values_list("status", flat=True)) == {"cancelled"}


def test_a_delete_of_an_unknown_incident_and_a_group_b_report_are_passed_over(
    nibrs_agency, tmp_path
):
    deleted = Incident("2026-59999", action="D")
    arrest = Incident("2026-59998", category="GROUP B ARREST REPORT")
    summary = ingest(drop(tmp_path, submission_xml(deleted, arrest), []))

    assert summary["received"] == 0
    assert "never taken in" in summary["passed_over"][0]
    assert "GROUP B ARREST REPORT" in summary["passed_over"][1]


def test_malformed_reports_are_held_with_what_is_missing_and_the_rest_go_in(nibrs_agency, tmp_path):
    good = Incident("2026-50060")
    extended = Incident(
        "2026-50061", extra="<acme:CaseNote xmlns:acme='urn:acme'>x</acme:CaseNote>"
    )
    no_number = Incident("")
    bad_type = Incident("2026-50063", victims=[Victim(1, category="Z")])
    bad_age = Incident("2026-50064", victims=[Victim(1, age="about thirty")])
    no_offense = Incident("2026-50065", offenses=[])
    unknown_code = Incident("2026-50066", offenses=["99Z"])
    dangling = Incident("2026-50067", victims=[Victim(1, relationships=[(7, "Stranger")])])
    unknown_relationship = Incident(
        "2026-50068", victims=[Victim(1, relationships=[(1, "Nemesis")])]
    )
    incidents = [
        good,
        extended,
        no_number,
        bad_type,
        bad_age,
        no_offense,
        unknown_code,
        dangling,
        unknown_relationship,
    ]
    rows = [r for i in incidents if i.number for r in contacts_for(i, recently())]
    summary = ingest(drop(tmp_path, submission_xml(*incidents), rows))

    assert summary["accepted"] == 2  # the good one, and the one with an extension element
    held = {q["report_number"]: q["errors"] for q in summary["quarantined"]}
    assert "no incident number" in held[None][0]["message"]
    assert "has type 'Z'" in held["2026-50063"][0]["message"]
    assert "victim 1: the age at line" in held["2026-50064"][0]["message"]
    assert "no offense" in held["2026-50065"][0]["message"]
    assert held["2026-50066"][0]["pointer"] == "/offenses/0"
    assert "does not name a victim, an offender" in held["2026-50067"][0]["message"]
    assert "Nemesis" in held["2026-50068"][0]["message"]
    assert QuarantinedRecord.objects.count() == 7


def test_a_file_that_is_not_nibrs_xml_is_refused_whole(nibrs_agency, tmp_path):
    with pytest.raises(UnreadableFile, match="not well-formed XML"):
        read_nibrs_xml(b"<nibrs:Submission><unclosed>")
    with pytest.raises(UnreadableFile, match="no NIBRS report in it"):
        read_nibrs_xml(b"<Submission><Report/></Submission>")
    path = drop(tmp_path, b"<Submission", [])
    with pytest.raises(CommandError, match="not well-formed"):
        ingest(path)


def test_entities_are_never_expanded(nibrs_agency, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    incident = Incident("&xxe;")
    xml = submission_xml(incident).decode().replace("&amp;xxe;", "&xxe;")
    xml = xml.replace(
        "<nibrs:Submission",
        f'<!DOCTYPE nibrs:Submission [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<nibrs:Submission',
        1,
    )
    (found,) = read_nibrs_xml(xml.encode())
    assert "TOP-SECRET" not in found.number and "TOP-SECRET" not in found.raw


def test_without_contacts_the_command_says_what_is_missing(nibrs_agency, tmp_path):
    path = drop(tmp_path, submission_xml(Incident("2026-50070")), None)
    with pytest.raises(CommandError, match="give the contacts feed with --contacts FILE"):
        ingest(path)
    elsewhere = tmp_path / "feed.csv"
    elsewhere.write_bytes(contacts_csv(contacts_for(Incident("2026-50070"), recently())))
    assert ingest(path, "--contacts", str(elsewhere))["accepted"] == 1


def test_the_schema_check_keeps_what_does_not_follow_it_as_a_warning(
    nibrs_agency, tmp_path, settings
):
    settings.NIBRS_SCHEMA = str(SCHEMA)
    follows = Incident("2026-50080")
    strays = Incident("2026-50081", extra="<nibrs:NotInTheSchema>1</nibrs:NotInTheSchema>")
    rows = [r for i in (follows, strays) for r in contacts_for(i, recently())]

    summary = ingest(drop(tmp_path, submission_xml(follows, strays), rows))

    assert summary["accepted"] == 2
    (warned,) = summary["warnings"]
    assert warned["report_number"] == "2026-50081"
    assert "does not follow the FBI schema" in warned["warnings"][0]["message"]
    assert "NotInTheSchema" in warned["warnings"][0]["message"]


def test_contacts_rows_that_disagree_hold_the_incident(nibrs_agency, tmp_path):
    incident = Incident("2026-50090", victims=[Victim(1), Victim(2)])
    rows = contacts_for(incident, recently())
    rows[1]["division"] = "E"
    summary = ingest(drop(tmp_path, submission_xml(incident), rows))

    (held,) = summary["quarantined"]
    assert "gives different incident values than line 2: division" in held["errors"][0]["message"]


def test_a_guardian_from_the_feed_lets_a_minor_victims_family_be_told(nibrs_agency, tmp_path):
    incident = Incident("2026-50100", victims=[Victim(1, age="12")])
    rows = contacts_for(incident, recently())
    rows.append(
        rows[0]
        | {
            "victim_seq": "",
            "role": "guardian",
            "first_name": "Ana",
            "phone": "+15205550188",
            "email": "ana@example.org",
        }
    )
    ingest(drop(tmp_path, submission_xml(incident), rows))

    guardian = Party.objects.get(role="guardian")
    assert guardian.party_id == "guardian-1"
    assert Notification.objects.filter(party=guardian).exists()
    assert not Notification.objects.filter(party__role="victim").exists()


def test_the_drop_folder_waits_for_the_contacts_file_then_takes_both(
    nibrs_agency, tmp_path, settings
):
    settings.DROP_DIR = tmp_path
    folder = tmp_path / "testville"
    folder.mkdir()
    incident = Incident("2026-50110")
    xml = folder / "nibrs-20261204.xml"
    xml.write_bytes(submission_xml(incident))
    past = time.time() - 10
    os.utime(xml, (past, past))

    assert import_waiting_files() == []  # waiting for its contacts
    contacts = folder / "nibrs-20261204.contacts.csv"
    contacts.write_bytes(contacts_csv(contacts_for(incident, recently())))
    os.utime(contacts, (past, past))

    (done,) = import_waiting_files()
    assert done["status"] == "done"
    assert Report.objects.filter(report_number="2026-50110").exists()
    moved = sorted(p.name.split("-", 1)[1] for p in (folder / "done").iterdir())
    assert moved == [
        "nibrs-20261204.contacts.csv",
        "nibrs-20261204.xml",
        "nibrs-20261204.xml.summary.json",
    ]


def test_a_nibrs_file_whose_contacts_never_come_is_set_aside(nibrs_agency, tmp_path, settings):
    settings.DROP_DIR = tmp_path
    folder = tmp_path / "testville"
    folder.mkdir()
    xml = folder / "nibrs-lonely.xml"
    xml.write_bytes(submission_xml(Incident("2026-50120")))
    long_ago = time.time() - 16 * 60
    os.utime(xml, (long_ago, long_ago))

    (done,) = import_waiting_files()

    assert done["status"] == "rejected"
    (summary,) = (folder / "rejected").glob("*.summary.json")
    assert "no contacts file nibrs-lonely.contacts.csv" in json.loads(summary.read_text())["error"]


_XML_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"
    ),
    max_size=12,
)


@hypothesis.given(
    number=_XML_TEXT,
    seq=_XML_TEXT,
    category=_XML_TEXT,
    age=_XML_TEXT,
    relationship=_XML_TEXT,
    action=_XML_TEXT,
)
@hypothesis.settings(max_examples=200, deadline=None)
def test_any_values_in_the_needed_elements_are_read_or_named(
    number, seq, category, age, relationship, action
):
    xml = submission_xml(Incident("2026-1"), Incident("2026-2")).decode()
    odd = Incident(
        number,
        victims=[Victim(1, category="I", age=age, relationships=[(1, relationship)])],
        action=action,
    )
    text = (
        report_xml(odd)
        .replace("<j:VictimSequenceNumberText>1<", f"<j:VictimSequenceNumberText>{escape(seq)}<")
        .replace("<j:VictimCategoryCode>I<", f"<j:VictimCategoryCode>{escape(category)}<")
    )
    xml = xml.replace("</nibrs:Submission>", text + "</nibrs:Submission>")

    incidents = read_nibrs_xml(xml.encode())

    assert len(incidents) == 3
    assert [i.number for i in incidents[:2]] == ["2026-1", "2026-2"]
    assert not incidents[0].problems and not incidents[1].problems
    last = incidents[2]
    if not last.problems and last.action != "D":
        (victim,) = last.victims
        assert victim.seq >= 0 and victim.category in VICTIM_TYPES
        assert all(len(code) == 2 for _, code in victim.relationships)
