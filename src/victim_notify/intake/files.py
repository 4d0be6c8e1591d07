"""Reading report files: JSON Lines (one report per line) or CSV (one row per person on a
report, with the report's columns repeated; see docs/intake.md for the columns).

A line or a report that cannot be read becomes a quarantined record with its line number; only
a file that cannot be read at all (missing, not text, no usable header) is refused whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from victim_notify.intake.store import IncomingRecord

REPORT_COLUMNS = [
    "report_number",
    "status",
    "reported_at",
    "occurred_at",
    "officer_name",
    "officer_badge",
    "division",
    "offenses",
    "domestic_violence",
    "do_not_notify",
    "detective_name",
    "detective_phone",
]
PARTY_COLUMNS = [
    "party_id",
    "role",
    "kind",
    "first_name",
    "last_name",
    "business_name",
    "phone",
    "email",
    "language",
    "date_of_birth",
    "juvenile",
    "relationships",
]
REQUIRED_COLUMNS = {
    "report_number",
    "status",
    "reported_at",
    "officer_name",
    "division",
    "offenses",
    "party_id",
    "role",
}
_BOOLEAN_COLUMNS = {"domestic_violence", "do_not_notify", "juvenile"}


def detective_of(cells: dict[str, str]) -> dict[str, str] | None:
    """The detective a row names; a phone without a name names nobody (it is not used)."""
    name = (cells.get("detective_name") or "").strip()
    if not name:
        return None
    return {"name": name, "phone": (cells.get("detective_phone") or "").strip()}


class UnreadableFile(Exception):
    """The file as a whole cannot be taken in; the message says why, for the operator."""


def read_records(path: Path, file_format: str | None = None) -> list[IncomingRecord]:
    """Every record in the file, read before any is stored, so a file that is unreadable
    part-way is refused whole rather than half taken in."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    kind = file_format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if kind == "csv":
        return list(read_csv(data))
    if kind == "jsonl":
        return list(read_jsonl(data))
    raise UnreadableFile(f"unknown format {kind!r}: use jsonl or csv")


def read_jsonl(data: bytes) -> Iterator[IncomingRecord]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise UnreadableFile("this is not a text file (it contains NUL bytes)")
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield IncomingRecord(
                number,
                line.decode("utf-8", "replace"),
                parse_error=f"line {number} is not UTF-8 (byte {exc.start})",
            )
            continue
        try:
            yield IncomingRecord(number, text, json.loads(text))
        except json.JSONDecodeError as exc:
            yield IncomingRecord(
                number,
                text,
                parse_error=f"line {number} is not valid JSON: {exc.msg} at column {exc.colno}",
            )
        except RecursionError:
            yield IncomingRecord(
                number, text, parse_error=f"line {number} is nested too deeply to read"
            )
        except ValueError as exc:  # e.g. an integer with more digits than Python converts
            yield IncomingRecord(number, text, parse_error=f"line {number} cannot be read: {exc}")


def _csv_value(column: str, value: str) -> Any:
    if column in _BOOLEAN_COLUMNS:
        return value.strip().lower()
    return value


def read_csv(data: bytes) -> Iterator[IncomingRecord]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the file is not UTF-8 (byte {exc.start}); export it as UTF-8"
        ) from exc
    # A row with fewer cells than the header (cut short) reads as empty cells, which validation
    # then names, rather than as None.
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    header = reader.fieldnames or []
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise UnreadableFile(f"missing column(s): {', '.join(sorted(missing))}")
    unknown = set(header) - set(REPORT_COLUMNS) - set(PARTY_COLUMNS)
    if unknown:
        raise UnreadableFile(f"unknown column(s): {', '.join(sorted(unknown))}")

    rows: list[tuple[int, dict[str, str]]] = []
    broken: list[BrokenRow] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:  # more cells than header columns
                broken.append(BrokenRow.of(line, row, ",", row.get("report_number") or ""))
                continue
            rows.append((line, row))
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num}: {exc}") from exc
    yield from reports_from_rows(header, rows, broken)


@dataclass
class BrokenRow:
    """A row with more cells than the header (often an unquoted comma in a free-text column):
    its cells cannot be told apart, so it is quarantined, and so is the rest of its report."""

    line: int
    report_number: str
    text: str

    @classmethod
    def of(cls, line: int, row: dict[Any, Any], delimiter: str, report_number: str) -> BrokenRow:
        cells = [str(v) for k, v in row.items() if k is not None] + list(row.get(None) or [])
        return cls(line, report_number, delimiter.join(cells))

    def record(self) -> IncomingRecord:
        return IncomingRecord(
            self.line,
            self.text,
            parse_error=f"line {self.line} has more cells than the header",
            report_number=self.report_number[:40] or None,
        )


def reports_from_rows(
    header: Sequence[str],
    rows: list[tuple[int, dict[str, str]]],
    broken: Sequence[BrokenRow] = (),
) -> Iterator[IncomingRecord]:
    """Rows in the documented columns (with their line numbers) grouped into one record per
    report number, in the order each report first appears. A report with a broken row is
    held whole, so it never goes in without the person that row was about."""
    yield from (b.record() for b in broken)
    broken_lines: dict[str, list[int]] = {}
    for b in broken:
        broken_lines.setdefault(b.report_number, []).append(b.line)
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in rows:
        groups.setdefault(row.get("report_number") or f"(line {line})", []).append((line, row))
    for number, group in groups.items():
        record = _report_from_rows(header, group)
        lines = broken_lines.get(number)
        if lines and record.parse_error is None:
            record = IncomingRecord(
                record.index,
                record.raw,
                report_number=number[:40],
                parse_error=(
                    f"line {', '.join(map(str, lines))} of this report could not be read (more "
                    "cells than the header): the report is held whole so nobody on it is left "
                    "out; add that person here and replay"
                ),
            )
        yield record


def _report_from_rows(
    header: Sequence[str], rows: list[tuple[int, dict[str, str]]]
) -> IncomingRecord:
    first_line = rows[0][0]
    raw_out = io.StringIO()
    writer = csv.DictWriter(raw_out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(row for _, row in rows)
    raw = raw_out.getvalue()

    first = rows[0][1]
    for line, row in rows[1:]:
        differing = [c for c in REPORT_COLUMNS if c in row and row[c] != first.get(c)]
        if differing:
            return IncomingRecord(
                first_line,
                raw,
                report_number=(first.get("report_number") or "")[:40] or None,
                parse_error=(
                    f"line {line} gives different report values than line {first_line} "
                    f"for the same report: {', '.join(differing)}"
                ),
            )

    record: dict[str, Any] = {}
    for column in (
        "report_number",
        "status",
        "reported_at",
        "occurred_at",
        "division",
        "domestic_violence",
        "do_not_notify",
    ):
        if first.get(column):
            record[column] = _csv_value(column, first[column])
    record["officer"] = {"name": first.get("officer_name", "")}
    if first.get("officer_badge"):
        record["officer"]["badge"] = first["officer_badge"]
    if detective := detective_of(first):
        record["detective"] = detective
    record["offenses"] = [
        code.strip() for code in first.get("offenses", "").split(";") if code.strip()
    ]
    record["parties"] = [_party_from_row(row) for _, row in rows]
    return IncomingRecord(first_line, raw, record)


def _party_from_row(row: dict[str, str]) -> dict[str, Any]:
    party: dict[str, Any] = {}
    for column in PARTY_COLUMNS:
        value = row.get(column)
        if not value or column == "relationships":
            continue
        party[column] = _csv_value(column, value)
    relationships = []
    for item in (row.get("relationships") or "").split(";"):
        if item.strip():
            other, _, code = item.strip().partition(":")
            relationships.append({"party_id": other.strip(), "code": code.strip()})
    if relationships:
        party["relationships"] = relationships
    return party
