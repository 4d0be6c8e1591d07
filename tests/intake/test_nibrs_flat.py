"""The NIBRS flat file (fixed-width segments at the FBI's columns) with the contacts feed: the
FBI's sample incident written as segments reads as the XML sample does; a segment whose
fields do not line up holds its incident back with the line and columns, and the rest of the
file goes in."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from django.core.management import call_command
from hypothesis import strategies as st

from tests.intake.nibrs_documents import (
    SAMPLES,
    Incident,
    Victim,
    contacts_csv,
    contacts_for,
    flat_file,
    flat_incident,
    recently,
    segment,
)
from victim_notify.cases.models import CaseEvent
from victim_notify.intake.connectors.nibrs_flat import read_nibrs_flat
from victim_notify.intake.connectors.nibrs_xml import read_nibrs_xml
from victim_notify.intake.files import UnreadableFile
from victim_notify.intake.models import Party, QuarantinedRecord, Report
from victim_notify.intake.replay import replay


def ingest(path: Path) -> dict[str, Any]:
    out = io.StringIO()
    call_command("ingest", str(path), "--agency", "testville", stdout=out)
    return json.loads(out.getvalue())


def with_contacts(tmp_path: Path, name: str, data: bytes, *incidents: Incident) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    rows = [r for i in incidents for r in contacts_for(i, recently())]
    (tmp_path / (path.stem + ".contacts.csv")).write_bytes(contacts_csv(rows))
    return path


def comparable(incident: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(incident).items() if k not in {"raw", "where", "line"}}


def test_the_fbi_sample_as_segments_reads_as_the_xml_sample_does():
    flat = read_nibrs_flat((SAMPLES / "nibrs_GroupAIncident_Sample.txt").read_bytes())
    xml = read_nibrs_xml((SAMPLES / "nibrs_GroupAIncident_Sample.xml").read_bytes())

    assert [comparable(i) for i in flat] == [comparable(i) for i in xml]
    (incident,) = flat
    assert incident.where == "lines 1-5" and incident.raw.count("\n") == 5


def test_a_flat_file_goes_in_by_its_name_with_its_contacts(nibrs_agency, tmp_path):
    theft = Incident("2026-60001", offenses=["23F", "220"])
    spouse = Incident(
        "2026-60002", victims=[Victim(1, relationships=[(1, "Family Member_Spouse")])]
    )
    path = with_contacts(tmp_path, "nibrs-20261204.txt", flat_file(theft, spouse), theft, spouse)

    summary = ingest(path)

    assert summary["format"] == "nibrs-flat"
    assert (summary["accepted"], summary["quarantined"]) == (2, [])
    assert Report.objects.get(report_number="2026-60001").offense_codes == ["23F", "220"]
    victim = Party.objects.get(report__report_number="2026-60002", party_id="V1")
    assert victim.relationships == [{"party_id": "O1", "code": "SE"}]


def test_a_segment_that_does_not_line_up_holds_its_incident_with_line_and_columns(
    nibrs_agency, tmp_path
):
    good = Incident("2026-60010")
    longer = Incident("2026-60011")
    bad_age = Incident("2026-60012")
    shifted = Incident("2026-60013")
    lines = {i.number: flat_incident(i) for i in (good, longer, bad_age, shifted)}
    # A character slipped into the victim segment: one longer than its length says.
    victim = lines["2026-60011"][2]
    lines["2026-60011"][2] = victim[:60] + "X" + victim[60:]
    # A letter where the age is.
    victim = lines["2026-60012"][2]
    lines["2026-60012"][2] = victim[:71] + "X1  " + victim[75:]
    # Everything from the victim type on moved one column right, the length kept.
    victim = lines["2026-60013"][2]
    lines["2026-60013"][2] = victim[:70] + " " + victim[70:-1]
    data = "".join(line + "\n" for block in lines.values() for line in block).encode()
    path = with_contacts(tmp_path, "nibrs.nibrs", data, good, longer, bad_age, shifted)

    summary = ingest(path)

    assert summary["accepted"] == 1
    assert Report.objects.get().report_number == "2026-60010"
    held = {q["report_number"]: q["errors"][0]["message"] for q in summary["quarantined"]}
    assert held["2026-60011"] == (
        "lines 5-8: line 7 is 130 characters long, but columns 1-4 say 129: "
        "its fields would not line up"
    )
    assert held["2026-60012"] == (
        "lines 9-12: line 11, columns 72-75 (age of victim): 'X1  ' is not an age, a range "
        "or NN/NB/BB/00"
    )
    assert (
        "line 15, columns 71-71 (type of victim): ' ' is not a type of victim" in held["2026-60013"]
    )
    # Kept as it came: the lines of the incident, for the RMS to send again.
    record = QuarantinedRecord.objects.get(report_number="2026-60012")
    assert record.raw.splitlines() == lines["2026-60012"]
    assert replay(record) == "quarantined"
    assert "correct it in the RMS" in QuarantinedRecord.objects.latest("pk").errors[0]["message"]


def test_trimmed_trailing_blanks_a_delete_and_group_b_segments(nibrs_agency, tmp_path):
    kept = Incident("2026-60020")
    trimmed = [line.rstrip() for line in flat_incident(kept)]
    path = with_contacts(tmp_path, "a.nibrs", "\n".join(trimmed).encode(), kept)
    assert ingest(path)["accepted"] == 1

    deleted = flat_incident(Incident("2026-60020", action="D"))
    group_b = "0066" + "7A" + "122026    AZ0000000" + "2026-60099  " + " " * 29
    path = with_contacts(tmp_path, "b.nibrs", "\n".join([*deleted, group_b]).encode(), kept)
    summary = ingest(path)

    assert summary["amended"] == 1 and Report.objects.get().status == "deleted"
    assert summary["passed_over"] == ["line 2: a zero report or a group B arrest: nobody to tell"]


def test_a_file_of_no_segments_is_refused():
    with pytest.raises(UnreadableFile, match="no NIBRS segments"):
        read_nibrs_flat(b"\n\n")


@hypothesis.given(st.lists(st.text(alphabet=st.characters(codec="latin-1"), max_size=150)))
@hypothesis.settings(max_examples=300, deadline=None)
def test_every_line_of_any_file_lands_in_exactly_one_incident(lines):
    lines = [line.replace("\r", "").replace("\n", "") for line in lines]
    lines = [line for line in lines if line.strip()]
    hypothesis.assume(lines)
    data = "".join(line + "\n" for line in lines).encode("latin-1")
    for lf in ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"):  # splitlines() breaks on these
        hypothesis.assume(lf not in data.decode("latin-1"))
    hypothesis.assume("\x00" not in data.decode("latin-1")[:4096])

    incidents = read_nibrs_flat(data)

    kept = [line for incident in incidents for line in incident.raw.splitlines()]
    assert sorted(kept) == sorted(lines)
    for incident in incidents:
        # Whatever it holds, an incident is either read, held with a reason, or passed over.
        assert incident.problems or incident.passed_over or incident.action in {"I", "R", "D"}


def test_the_sample_file_goes_through_the_drop_folder_suffixes(tmp_path):
    path = shutil.copy(SAMPLES / "nibrs_GroupAIncident_Sample.txt", tmp_path / "x.dat")
    from victim_notify.intake.connectors.nibrs_files import FLAT, nibrs_kind

    assert nibrs_kind(Path(path)) == FLAT
    (tmp_path / "export.txt").write_text("CASE_NO,NAME\n1,x\n")
    assert nibrs_kind(tmp_path / "export.txt") is None  # a CSV export, not NIBRS


def test_a_group_a_arrestee_segment_becomes_a_suspect_arrested_event(nibrs_agency, tmp_path):
    theft = Incident("2026-60030")
    lines = flat_incident(theft)
    arrestee = segment("6", "I", "2026-60030", 110, (38, "01"), (40, "A-77001"), (52, "20261203"))
    bad = segment("6", "I", "2026-60031", 110, (38, "01"), (40, "A-77002"), (52, "2026-12-"))
    other = flat_incident(Incident("2026-60031"))
    data = "\n".join([*lines, arrestee, *other, bad]).encode()
    path = with_contacts(tmp_path, "arrests.nibrs", data, theft, Incident("2026-60031"))

    summary = ingest(path)

    assert summary["accepted"] == 1 and summary["case_events"]["accepted"] == 1
    (event,) = CaseEvent.objects.all()
    assert (event.kind, event.event_id) == ("suspect_arrested", "nibrs-arrest:A-77001")
    held = summary["quarantined"][0]["errors"][0]["message"]
    assert "columns 52-59 (arrest date): '2026-12-' is not a date (YYYYMMDD)" in held
