"""`victim-notify ingest PATH --agency SLUG`: JSON Lines and CSV files, the JSON summary, and
files refused whole."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.intake.factories import (
    csv_rows,
    make_record,
    post_reports,
    token_for,
    two_parties,
    write_csv,
    write_jsonl,
)
from victim_notify.intake.files import PARTY_COLUMNS, REPORT_COLUMNS
from victim_notify.intake.models import Party, QuarantinedRecord, Report, ReportVersion
from victim_notify.messages.models import Notification
from victim_notify.rules.models import Decision


def ingest(path: Path, *extra: str, agency: str = "testville") -> dict[str, Any]:
    out = io.StringIO()
    call_command("ingest", str(path), "--agency", agency, *extra, stdout=out)
    return json.loads(out.getvalue())


def assert_nothing_stored() -> None:
    assert not Report.objects.exists()
    assert not QuarantinedRecord.objects.exists()
    assert not Notification.objects.exists()


# --- JSON Lines -------------------------------------------------------------------------------


def test_jsonl_file_with_good_and_bad_lines(agency, tmp_path):
    good_a, good_b = make_record(), two_parties()
    bad = make_record(offenses=["NOPE"])
    path = write_jsonl(
        tmp_path / "reports.jsonl",
        [
            good_a,  # line 1
            "",  # line 2: blank, ignored
            '{"report_number": "X-1", ',  # line 3: not JSON
            bad,  # line 4
            "   ",  # line 5: blank
            good_b,  # line 6
            "[1, 2]",  # line 7: JSON, not an object
        ],
    )
    summary = ingest(path)
    assert summary["received"] == 5
    assert summary["accepted"] == 2
    assert summary["unchanged"] == summary["amended"] == 0
    assert summary["notifications_queued"] == 3
    quarantined = {q["index"]: q for q in summary["quarantined"]}
    assert sorted(quarantined) == [3, 4, 7]
    assert quarantined[3]["report_number"] is None
    assert "line 3 is not valid JSON" in quarantined[3]["errors"][0]["message"]
    assert quarantined[4]["report_number"] == bad["report_number"]
    assert quarantined[4]["errors"] == [
        {"pointer": "/offenses/0", "message": "unknown offense code 'NOPE'"}
    ]
    assert quarantined[7]["errors"][0]["pointer"] == ""

    held = QuarantinedRecord.objects.get(record_index=3)
    assert held.raw == '{"report_number": "X-1", '
    assert held.source == "file" and held.source_name == "reports.jsonl"
    assert set(Report.objects.values_list("report_number", flat=True)) == {
        good_a["report_number"],
        good_b["report_number"],
    }
    assert Decision.objects.filter(send=True).count() == 3


def test_jsonl_with_byte_order_mark_and_crlf(agency, tmp_path):
    records = [make_record(), make_record()]
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(r).encode() for r in records) + b"\r\n"
    )
    summary = ingest(path)
    assert summary["accepted"] == 2 and summary["quarantined"] == []


def test_jsonl_line_that_is_not_utf8_is_quarantined_with_its_line(agency, tmp_path):
    path = tmp_path / "latin1.jsonl"
    good = json.dumps(make_record()).encode()
    bad = json.dumps(make_record(victim={"first_name": "José"}), ensure_ascii=False).encode(
        "latin-1"
    )
    path.write_bytes(good + b"\n" + bad + b"\n")
    summary = ingest(path)
    assert summary["accepted"] == 1
    (held,) = summary["quarantined"]
    assert held["index"] == 2
    assert "not UTF-8" in held["errors"][0]["message"]


def test_jsonl_record_that_is_deeply_nested_is_quarantined(agency, tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(json.dumps(make_record()).encode() + b"\n" + b"[" * 100_000 + b"\n")
    summary = ingest(path)
    assert summary["accepted"] == 1
    assert [q["index"] for q in summary["quarantined"]] == [2]


def test_same_file_twice_is_unchanged(agency, tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [make_record(), two_parties()])
    assert ingest(path)["accepted"] == 2
    decisions, notes = Decision.objects.count(), Notification.objects.count()
    again = ingest(path)
    assert again["received"] == again["unchanged"] == 2
    assert again["accepted"] == again["amended"] == again["notifications_queued"] == 0
    assert ReportVersion.objects.count() == 2
    assert (Decision.objects.count(), Notification.objects.count()) == (decisions, notes)


def test_report_sent_by_api_then_in_a_file_is_unchanged(agency, client, tmp_path):
    record = two_parties()
    assert post_reports(client, token_for(agency), record).status_code == 201
    notes = Notification.objects.count()
    summary = ingest(write_jsonl(tmp_path / "r.jsonl", [record]))
    assert summary["unchanged"] == 1
    summary = ingest(write_csv(tmp_path / "r.csv", csv_rows(record)))
    assert summary["unchanged"] == 1, summary
    assert ReportVersion.objects.count() == 1
    assert Notification.objects.count() == notes


def test_unknown_agency_is_an_error(agency, tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [make_record()])
    with pytest.raises(CommandError, match="no agency"):
        ingest(path, agency="nowhere")
    assert_nothing_stored()


# --- files refused whole ----------------------------------------------------------------------


def test_missing_file_is_refused(agency, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        ingest(tmp_path / "nope.jsonl")


def test_binary_file_is_refused(agency, tmp_path):
    path = tmp_path / "photo.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(CommandError, match="NUL"):
        ingest(path)
    assert_nothing_stored()


def test_directory_is_refused(agency, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        ingest(tmp_path)


def test_csv_not_utf8_is_refused(agency, tmp_path):
    record = make_record(victim={"first_name": "José"})
    path = write_csv(tmp_path / "r.csv", csv_rows(record), encoding="latin-1")
    with pytest.raises(CommandError, match="not UTF-8"):
        ingest(path)
    assert_nothing_stored()


def test_csv_missing_required_columns_is_refused(agency, tmp_path):
    columns = [c for c in REPORT_COLUMNS + PARTY_COLUMNS if c not in ("division", "role")]
    rows = [{k: v for k, v in row.items() if k in columns} for row in csv_rows(make_record())]
    with pytest.raises(CommandError, match=r"missing column.*division, role"):
        ingest(write_csv(tmp_path / "r.csv", rows, columns))
    assert_nothing_stored()


def test_csv_with_unknown_columns_is_refused(agency, tmp_path):
    columns = [*REPORT_COLUMNS, *PARTY_COLUMNS, "do_not_notfy"]
    rows = [dict(row, do_not_notfy="true") for row in csv_rows(make_record())]
    with pytest.raises(CommandError, match=r"unknown column.*do_not_notfy"):
        ingest(write_csv(tmp_path / "r.csv", rows, columns))
    assert_nothing_stored()


def test_empty_csv_is_refused(agency, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="missing column"):
        ingest(path)


# --- CSV ------------------------------------------------------------------------------------


def test_csv_rows_become_reports_with_parties_and_relationships(agency, tmp_path):
    record = two_parties(offenses=["220", "23F"], occurred_at=None)
    record["parties"].append(
        {
            "party_id": "3",
            "role": "suspect",
            "last_name": "Doe",
            "relationships": [{"party_id": "1", "code": "ST"}, {"party_id": "2", "code": "AQ"}],
        }
    )
    other = make_record(victim={"first_name": "Zoë", "last_name": "O'Brien, Jr."})
    path = write_csv(tmp_path / "export.csv", csv_rows(record) + csv_rows(other))
    summary = ingest(path)
    assert summary["received"] == 2 and summary["accepted"] == 2, summary
    report = Report.objects.get(report_number=record["report_number"])
    assert report.offense_codes == ["220", "23F"]
    assert report.occurred_at is None
    parties = {p.party_id: p for p in Party.objects.filter(report=report)}
    assert sorted(parties) == ["1", "2", "3"]
    assert parties["3"].relationships == [
        {"party_id": "1", "code": "ST"},
        {"party_id": "2", "code": "AQ"},
    ]
    assert parties["1"].phone.value == "+15205550134"
    assert parties["2"].email.value == "lee.park@example.org"
    assert (
        Party.objects.get(report__report_number=other["report_number"]).last_name == "O'Brien, Jr."
    )
    assert Notification.objects.filter(report=report).count() == 2


def test_csv_naming_a_detective_tells_the_victim_of_them(agency, tmp_path):
    from victim_notify.cases.models import CaseEvent

    record = make_record()
    write_csv(tmp_path / "a.csv", csv_rows(record))
    assert ingest(tmp_path / "a.csv")["accepted"] == 1
    assert not CaseEvent.objects.exists()
    record["detective"] = {"name": "Det. Maria Soto", "phone": "(520) 555-0166"}
    write_csv(tmp_path / "b.csv", csv_rows(record))
    summary = ingest(tmp_path / "b.csv")
    assert summary["amended"] == 1 and summary["notifications_queued"] == 1
    event = CaseEvent.objects.get(kind="detective_assigned")
    assert (event.detective_name, event.detective_phone, event.source) == (
        "Det. Maria Soto",
        "+15205550166",
        "file",
    )
    assert Report.objects.get().detective_name == "Det. Maria Soto"


def test_csv_detective_phone_without_a_name_names_nobody(agency, tmp_path):
    record = make_record()
    rows = csv_rows(record)
    rows[0]["detective_name"], rows[0]["detective_phone"] = "  ", "(520) 555-0166"
    summary = ingest(write_csv(tmp_path / "a.csv", rows))
    assert summary["accepted"] == 1 and not summary["quarantined"]
    assert Report.objects.get().detective_name == ""


def test_csv_with_bom_and_format_option(agency, tmp_path):
    path = tmp_path / "export.txt"
    write_csv(path, csv_rows(make_record()), encoding="utf-8-sig")
    assert ingest(path, "--format", "csv")["accepted"] == 1


def test_csv_rows_of_one_report_that_disagree_quarantine_that_report(agency, tmp_path):
    conflicted, fine = two_parties(), make_record()
    rows = csv_rows(conflicted)
    rows[1]["status"] = "pending_review"
    path = write_csv(tmp_path / "r.csv", csv_rows(fine) + rows)
    summary = ingest(path)
    assert summary["accepted"] == 1
    (held,) = summary["quarantined"]
    assert held["index"] == 3  # the report's first line (line 1 is the header)
    assert "line 4" in held["errors"][0]["message"] and "status" in held["errors"][0]["message"]
    assert not Report.objects.filter(report_number=conflicted["report_number"]).exists()
    stored = QuarantinedRecord.objects.get()
    assert "pending_review" in stored.raw and stored.source_name == "r.csv"


def test_csv_row_with_bad_values_quarantines_its_report(agency, tmp_path):
    bad = make_record()
    rows = csv_rows(bad)
    rows[0]["domestic_violence"] = "perhaps"
    rows[0]["do_not_notify"] = "perhaps"
    good = make_record()
    summary = ingest(write_csv(tmp_path / "r.csv", rows + csv_rows(good)))
    assert summary["accepted"] == 1
    (held,) = summary["quarantined"]
    assert held["index"] == 2
    assert held["report_number"] == bad["report_number"]
    assert {e["pointer"] for e in held["errors"]} == {"/domestic_violence", "/do_not_notify"}


def test_csv_row_with_too_many_cells_is_quarantined(agency, tmp_path):
    path = tmp_path / "r.csv"
    write_csv(path, csv_rows(make_record()))
    with path.open("a") as out:
        out.write(
            "X-9,approved,2026-12-01T10:00:00,,Officer,,W,23F,false,false,,,1,victim,,,,,,,,,,,extra\n"
        )
    summary = ingest(path)
    assert summary["accepted"] == 1
    (held,) = summary["quarantined"]
    assert held["index"] == 3 and "more cells" in held["errors"][0]["message"]


def test_a_report_with_a_broken_row_is_held_whole(agency, tmp_path):
    """A row with an unquoted comma cannot be read; the report it belongs to must not go in
    without that person (who may be the victim)."""
    record = two_parties()
    rows = csv_rows(record)
    path = write_csv(tmp_path / "r.csv", rows)
    text = path.read_text().splitlines()
    text[2] = text[2] + ",Apt 4, rear"  # the reporting party's row: two cells too many
    path.write_text("\n".join(text) + "\n")

    summary = ingest(path)

    assert summary["accepted"] == 0 and not Report.objects.exists()
    report, broken = summary["quarantined"]  # by line: the report's first row, then the broken
    assert broken["index"] == 3 and "line 3 has more cells" in broken["errors"][0]["message"]
    assert report["index"] == 2 and report["report_number"] == record["report_number"]
    assert "line 3 of this report could not be read" in report["errors"][0]["message"]
    held = QuarantinedRecord.objects.get(record_index=2)
    assert record["report_number"] in held.raw and "Park" not in held.raw  # the victim's row


def test_csv_row_cut_short_is_quarantined_with_its_fields(agency, tmp_path):
    path = tmp_path / "r.csv"
    write_csv(path, csv_rows(make_record()))
    with path.open("a") as out:
        out.write("X-9,approved,2026-12-01T10:00:00\n")
    summary = ingest(path)
    assert summary["accepted"] == 1
    (held,) = summary["quarantined"]
    assert held["index"] == 3 and held["report_number"] == "X-9"
    pointers = {e["pointer"] for e in held["errors"]}
    assert {"/division", "/officer/name", "/offenses", "/parties/0/party_id"} <= pointers


def test_nul_characters_in_files_are_field_errors(agency, tmp_path):
    # A NUL byte past the start of a JSON Lines file, and one inside a CSV cell: the database
    # cannot hold either, so the record is quarantined with a readable copy of the text.
    padding = [make_record() for _ in range(30)]
    path = tmp_path / "nul.jsonl"
    path.write_bytes(
        b"\n".join(json.dumps(r).encode() for r in padding) + b'\n{"report_number": "N\x00"}\n'
    )
    summary = ingest(path)
    assert summary["accepted"] == 30
    (held,) = summary["quarantined"]
    assert held["index"] == 31
    assert "\x00" not in QuarantinedRecord.objects.get().raw

    rows = csv_rows(make_record(victim={"last_name": "Ru\x00iz"}))
    summary = ingest(write_csv(tmp_path / "nul.csv", rows))
    (held,) = summary["quarantined"]
    assert held["errors"][0]["pointer"] == "/parties/0/last_name"


def test_file_name_that_is_not_utf8_is_recorded(agency, tmp_path):
    name = tmp_path / os.fsdecode(b"caf\xe9.jsonl")
    write_jsonl(name, [make_record(), make_record(division="Q")])
    summary = ingest(name)
    assert summary["accepted"] == 1 and len(summary["quarantined"]) == 1
    assert QuarantinedRecord.objects.get().source_name == "caf\\udce9.jsonl"


def test_csv_booleans_and_juvenile(agency, tmp_path):
    record = make_record(domestic_violence=True)
    record["parties"][0].pop("date_of_birth")
    rows = csv_rows(record)
    rows[0]["domestic_violence"] = "TRUE"
    rows[0]["juvenile"] = "yes"
    summary = ingest(write_csv(tmp_path / "r.csv", rows))
    assert summary["accepted"] == 1, summary
    report = Report.objects.get()
    assert report.domestic_violence is True
    assert Party.objects.get().juvenile is True
    assert not Notification.objects.exists()
    assert Decision.objects.get().reason_codes == ["domestic_violence_flag"]
