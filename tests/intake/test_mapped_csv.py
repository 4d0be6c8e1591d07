"""An RMS's own CSV export read through the agency's column mapping: columns renamed, their
codes turned into ours, their dates into ISO, one report over several rows; bad rows
quarantined with their fields named while the rest of the file goes in; a dry run that keeps
nothing; the drop folder choosing the mapping by file name."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import strategies as st

from victim_notify.intake.connectors.mapped_csv import (
    problems,
    read_mapped_csv,
    split_name,
)
from victim_notify.intake.dropbox import import_waiting_files
from victim_notify.intake.files import UnreadableFile
from victim_notify.intake.models import CsvMapping, Party, QuarantinedRecord, Report
from victim_notify.intake.replay import read_raw, replay
from victim_notify.messages.models import Notification

SAMPLE = Path(__file__).parent / "samples" / "rms_export.csv"
HEADER = SAMPLE.read_text().splitlines()[0]


def rms_mapping(agency: Any, **changes: Any) -> CsvMapping:
    fields: dict[str, Any] = {
        "name": "RMS nightly",
        "file_pattern": "rms_export*.csv",
        "columns": {
            "report_number": "CASE_NO",
            "status": "RPT_STATUS",
            "reported_at": "RPT_DATE",
            "occurred_at": "OCC_DATE",
            "officer_name": "OFFICER",
            "officer_badge": "BADGE",
            "division": "DISTRICT",
            "offenses": ["UCR_1", "UCR_2"],
            "party_id": "PERSON_SEQ",
            "role": "INVOLVEMENT",
            "kind": "PERSON_TYPE",
            "full_name": "NAME",
            "phone": "HOME_PHONE",
            "email": "EMAIL",
            "language": "LANG",
            "date_of_birth": "DOB",
            "domestic_violence": "DV_FLAG",
        },
        "value_maps": {
            "status": {"APPR": "approved"},
            "division": {"WEST": "W"},
            "offenses": {"BURG-RES": "220", "THEFT-VEH": "23F", "ASLT-SIM": "13B"},
            "role": {"V": "victim", "RP": "reporting_party", "S": "suspect", "W": "witness"},
            "kind": {"I": "person", "B": "business"},
            "language": {"ENG": "en", "SPA": "es"},
            "domestic_violence": {"N": "false", "Y": "true"},
        },
        "datetime_format": "%m/%d/%Y %H:%M",
        "date_format": "%m/%d/%Y",
    }
    fields.update(changes)
    return CsvMapping.objects.create(agency=agency, **fields)


def ingest(path: Path, *extra: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("ingest", str(path), "--agency", "testville", *extra, stdout=out)
    return json.loads(out.getvalue())


def sample_with(tmp_path: Path, *lines: str, name: str = "rms_export_20261204.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_the_sample_export_goes_in_through_the_mapping_chosen_by_file_name(agency, tmp_path):
    rms_mapping(agency)
    path = shutil.copy(SAMPLE, tmp_path / "rms_export_20261204.csv")

    summary = ingest(Path(path))

    assert summary["mapping"] == "RMS nightly"
    assert (summary["received"], summary["accepted"], summary["quarantined"]) == (6, 6, [])
    assert Report.objects.count() == 6
    two = Report.objects.get(report_number="2026-001204")
    assert two.offense_codes == ["220", "23F"]  # both columns, their codes made ours
    assert two.division.code == "W"
    assert two.officer_name == "Scott Roberts" and two.officer_badge == "9858"
    assert two.reported_at.astimezone(agency.zone).strftime("%Y-%m-%d %H:%M") == (
        "2026-12-01 12:20"  # their local time read in the agency's time zone
    )
    parties = {p.party_id: p for p in Party.objects.filter(report=two)}
    assert parties["1"].role == "victim" and parties["2"].role == "reporting_party"
    assert (parties["1"].first_name, parties["1"].last_name) == ("DAVID", "THOMAS")
    assert parties["2"].email.value == "dakotaduncan@example.org"
    assert str(parties["1"].date_of_birth) == "1985-10-10"
    spanish = Party.objects.get(report__report_number="2026-001205", party_id="1")
    assert spanish.language == "es"
    suspect = Party.objects.get(report__report_number="2026-001203", party_id="3")
    assert suspect.role == "suspect"
    # Messages were planned as for any other source: victims and reporting parties only.
    told = set(Notification.objects.values_list("party__role", flat=True))
    assert told and told <= {"victim", "reporting_party"}


def test_bad_rows_are_quarantined_with_their_fields_and_the_rest_goes_in(agency, tmp_path):
    rms_mapping(agency)
    good = SAMPLE.read_text().splitlines()[1]  # 2026-001201, one row
    path = sample_with(
        tmp_path,
        good,
        # a report time not in the mapping's format
        good.replace("2026-001201", "2026-009001").replace("12/02/2026 10:20", "2026.12.02 10h"),
        # an offense code the value map does not know and the agency does not have
        good.replace("2026-001201", "2026-009002").replace("BURG-RES", "ARSON-X"),
        # more cells than the header
        good.replace("2026-001201", "2026-009003") + ",extra,cells",
        # two rows of one report that disagree on the report's own values
        good.replace("2026-001201", "2026-009004"),
        good.replace("2026-001201", "2026-009004").replace("Chris Curtis", "Someone Else"),
        # a role that maps to nothing we know
        good.replace("2026-001201", "2026-009005").replace(",1,V,I,", ",1,ZZ,I,"),
    )

    summary = ingest(path)

    assert summary["accepted"] == 1
    assert Report.objects.get().report_number == "2026-001201"
    held = {q["report_number"]: q for q in summary["quarantined"]}  # named even when unread
    assert held["2026-009001"]["errors"][0]["pointer"] == "/reported_at"
    assert held["2026-009002"]["errors"][0]["pointer"] == "/offenses/0"
    assert "ARSON-X" in held["2026-009002"]["errors"][0]["message"]
    assert held["2026-009004"]["errors"][0]["message"].startswith("line 7 gives different")
    assert held["2026-009005"]["errors"][0]["pointer"] == "/parties/0/role"
    assert "line 5 has more cells than the header" in held["2026-009003"]["errors"][0]["message"]
    assert QuarantinedRecord.objects.count() == 5


def test_a_corrected_record_from_a_mapped_file_replays(agency, tmp_path):
    rms_mapping(agency)
    good = SAMPLE.read_text().splitlines()[1]
    path = sample_with(tmp_path, good.replace("BURG-RES", "ARSON-X"))
    ingest(path)
    record = QuarantinedRecord.objects.get()
    # Kept in our documented columns, so staff correct it as any CSV record.
    assert read_raw(record.raw, 0).data["offenses"] == ["ARSON-X"]
    record.raw = record.raw.replace("ARSON-X", "220")
    record.save()

    assert replay(record) == "accepted"
    assert Report.objects.get().offense_codes == ["220"]


def test_a_file_without_a_column_the_mapping_reads_is_refused_whole(agency, tmp_path):
    rms_mapping(agency)
    text = SAMPLE.read_text().replace("HOME_PHONE", "PHONE_1")
    path = tmp_path / "rms_export_x.csv"
    path.write_text(text)

    refused = r"no column\(s\) HOME_PHONE, which mapping 'RMS nightly'"
    with pytest.raises(CommandError, match=refused):
        ingest(path)
    assert not Report.objects.exists() and not QuarantinedRecord.objects.exists()


def test_windows_encoding_bar_delimiter_fixed_values_and_their_column_order(agency, tmp_path):
    mapping = rms_mapping(
        agency,
        name="Old RMS",
        file_pattern="*.txt",
        delimiter="|",
        encoding="cp1252",
        columns={
            "report_number": "Case",
            "reported_at": "Reported",
            "officer_name": "Officer",
            "offenses": "Codes",
            "party_id": "Seq",
            "first_name": "First",
            "last_name": "Last",
            "phone": "Phone",
        },
        fixed_values={"status": "approved", "division": "W", "role": "victim"},
        value_maps={"offenses": {"THEFT-VEH": "23F"}},
        datetime_format="%Y%m%d%H%M",
    )
    data = (
        "Phone|Codes|Case|Seq|Last|First|Reported|Officer|Unused\r\n"
        "520-555-0101|THEFT-VEH;220|OLD-1|1|Peña|José|202612011015|Dana Whitfield|x\r\n"
    ).encode("cp1252")

    (record,) = list(read_mapped_csv(data, mapping))

    assert record.parse_error is None
    assert record.data["offenses"] == ["23F", "220"]
    assert record.data["reported_at"] == "2026-12-01T10:15:00"
    assert record.data["status"] == "approved" and record.data["division"] == "W"
    assert record.data["parties"] == [
        {
            "party_id": "1",
            "role": "victim",
            "first_name": "José",
            "last_name": "Peña",
            "phone": "520-555-0101",
        }
    ]
    with pytest.raises(UnreadableFile, match="the file is not Windows-1252"):
        list(read_mapped_csv(b"Case|Seq\r\n\x81\x8d|1\r\n", mapping))


def test_value_maps_ignore_case_and_relationship_codes_are_mapped(agency):
    mapping = rms_mapping(
        agency,
        columns=rms_mapping_columns() | {"relationships": "REL"},
        value_maps={"role": {"v": "victim"}, "relationships": {"SP": "SE"}},
    )
    data = (
        b"CASE_NO,RPT_STATUS,RPT_DATE,OFFICER,DISTRICT,UCR_1,PERSON_SEQ,INVOLVEMENT,NAME,REL\n"
        b"R-1,approved,2026-12-01T10:00,Dana Whitfield,W,23F,1,V,Ana Ruiz,2:SP\n"
    )

    (record,) = list(read_mapped_csv(data, mapping))

    party = record.data["parties"][0]
    assert party["role"] == "victim"
    assert party["relationships"] == [{"party_id": "2", "code": "SE"}]
    assert (party["first_name"], party["last_name"]) == ("Ana", "Ruiz")


def rms_mapping_columns() -> dict[str, Any]:
    return {
        "report_number": "CASE_NO",
        "status": "RPT_STATUS",
        "reported_at": "RPT_DATE",
        "officer_name": "OFFICER",
        "division": "DISTRICT",
        "offenses": ["UCR_1"],
        "party_id": "PERSON_SEQ",
        "role": "INVOLVEMENT",
        "full_name": "NAME",
    }


def test_a_dry_run_says_what_would_happen_and_keeps_nothing(agency, tmp_path):
    rms_mapping(agency)
    path = Path(shutil.copy(SAMPLE, tmp_path / "rms_export_1.csv"))
    ingest(path)  # the first time for real
    lines = SAMPLE.read_text().splitlines()
    amended = lines[1].replace("BURG-RES", "ASLT-SIM")  # 2026-001201 changes its offense
    unchanged = lines[8]  # 2026-001205 as before
    bad = lines[2].replace("2026-001202", "2026-009999").replace("ASLT-SIM", "NOPE")
    new = lines[2].replace("2026-001202", "2026-001300")
    sample = sample_with(tmp_path, amended, unchanged, bad, new, name="rms_export_2.csv")
    before = (Report.objects.count(), Notification.objects.count())

    summary = ingest(sample, "--dry-run")

    assert summary["dry_run"] is True
    assert (summary["accepted"], summary["amended"], summary["unchanged"]) == (1, 1, 1)
    assert [q["report_number"] for q in summary["quarantined"]] == ["2026-009999"]
    assert summary["quarantined"][0]["quarantine_id"] is None
    assert summary["notifications_queued"] >= 1
    assert (Report.objects.count(), Notification.objects.count()) == before
    assert not QuarantinedRecord.objects.exists()
    assert Report.objects.get(report_number="2026-001201").offense_codes == ["220"]


def test_the_mapping_can_be_named_on_the_command_line(agency, tmp_path):
    rms_mapping(agency, file_pattern="nothing-matches-*.csv")
    path = Path(shutil.copy(SAMPLE, tmp_path / "export.csv"))
    with pytest.raises(CommandError, match="missing column"):
        ingest(path)  # no mapping matches: read as the documented CSV, which it is not
    with pytest.raises(CommandError, match="no CSV mapping named 'Nope'"):
        ingest(path, "--mapping", "Nope")

    assert ingest(path, "--mapping", "RMS nightly")["accepted"] == 6


def test_the_drop_folder_reads_a_matching_file_through_the_mapping(agency, tmp_path, settings):
    rms_mapping(agency)
    folder = tmp_path / "drop" / "testville"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "RMS_EXPORT_20261204.CSV")  # case does not matter
    (folder / "other.txt").write_text("CASE_NO\n1\n")
    settings.DROP_DIR = tmp_path / "drop"
    settled = time.time() - 60  # written a minute ago: no longer being written
    for path in folder.iterdir():
        os.utime(path, (settled, settled))

    done = {entry["file"]: entry["status"] for entry in import_waiting_files()}

    assert done == {"RMS_EXPORT_20261204.CSV": "done", "other.txt": "rejected"}
    assert Report.objects.count() == 6
    (reason,) = (folder / "rejected").glob("*.summary.json")
    assert "no CSV mapping of this agency is for files named like 'other.txt'" in (
        reason.read_text()
    )


def test_problems_name_what_a_mapping_lacks(agency):
    empty = CsvMapping(agency=agency, name="x", file_pattern="EXPORT_*")
    found = problems(empty)
    assert "report_number: name the column it is in, or give a fixed value." in found
    assert len([p for p in found if "name the column" in p]) == 8
    suffixes = "Files it reads: end the pattern with .csv, .txt, .tsv, .dat, e.g. rms-export-*.csv."
    assert suffixes in found

    mapping = rms_mapping(agency)
    assert problems(mapping) == []
    mapping.columns = mapping.columns | {"first_name": "FIRST", "colour": "C", "role": ["A", "B"]}
    mapping.fixed_values = {"status": "approved"}
    mapping.datetime_format = "MM/DD/YYYY"
    mapping.delimiter = ";"
    found = problems(mapping)
    assert "Unknown field(s): colour." in found
    assert "role: only offenses may be read from several columns." in found
    assert "status: name their column or give a fixed value, not both." in found
    assert "full_name: map either the full name or first and last names, not both." in found
    assert "datetime_format: write it with % codes, e.g. %m/%d/%Y." in found
    assert "List separator: it must differ from the delimiter." in found


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("RUIZ, ANA", "ANA", "RUIZ"),
        ("Ana Ruiz", "Ana", "Ruiz"),
        ("Maria de la Cruz", "Maria de la", "Cruz"),
        ("Cher", "", "Cher"),
        ("  Ruiz ,  Ana  ", "Ana", "Ruiz"),
    ],
)
def test_split_name(full, first, last):
    assert split_name(full) == (first, last)


# -- any export: records, or a clear refusal ----------------------------------------------------

_CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
_ROW = st.tuples(
    st.sampled_from(["A-1", "A-2", "B-7", ""]),  # case number, some rows without one
    _CELL,  # their role
    _CELL,  # name
    st.sampled_from(["BURG-RES", "THEFT-VEH", "", "X;Y"]),  # offense cell
    st.sampled_from(["12/01/2026 10:15", "2026-12-01", "", "31/31/2026 99:99"]),  # time
)


@pytest.mark.fuzz
@hypothesis.settings(max_examples=150, deadline=None, derandomize=True, database=None)
@hypothesis.given(
    rows=st.lists(_ROW, min_size=1, max_size=15), delimiter=st.sampled_from([",", "|", "\t"])
)
def test_any_export_reads_into_one_record_per_report_with_every_row_accounted_for(rows, delimiter):
    mapping = CsvMapping(
        name="fuzz",
        file_pattern="*.csv",
        delimiter=delimiter,
        columns={
            "report_number": "CASE",
            "role": "ROLE",
            "full_name": "NAME",
            "offenses": ["UCR"],
            "reported_at": "WHEN",
            "party_id": "SEQ",
        },
        fixed_values={"status": "approved", "officer_name": "Dana Whitfield", "division": "W"},
        value_maps={"offenses": {"BURG-RES": "220"}, "role": {"V": "victim"}},
        datetime_format="%m/%d/%Y %H:%M",
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["CASE", "SEQ", "ROLE", "NAME", "UCR", "WHEN"])
    for seq, (case, role, name, ucr, when) in enumerate(rows, start=1):
        writer.writerow([case, str(seq), role, name, ucr, when])

    records = list(read_mapped_csv(out.getvalue().encode(), mapping))

    # Every row (each has its person's number) lands in exactly one record.
    people = 0
    for record in records:
        assert (record.data is None) != (record.parse_error is None)
        if record.parse_error is None:
            assert record.data["status"] == "approved"
            people += len(record.data["parties"])
            for party in record.data["parties"]:
                assert party.get("role") != "V"  # mapped, whatever its case
        else:
            assert "different report values" in record.parse_error
            people += len(list(csv.reader(io.StringIO(record.raw)))) - 1  # less the header
    assert people == len(rows)
    numbers = [r.data["report_number"] for r in records if r.data and "report_number" in r.data]
    assert len(numbers) == len(set(numbers))  # one record per report
