"""CSV exports from any RMS, read through the agency's column mapping (`CsvMapping`).

Each row of their file is one person on a report, as most RMS exports are; the rows of one
report (the same report number) become one record. Each of our fields is read from the
column the mapping names (or given the mapping's fixed value), their values are turned into
ours through the mapping's value maps, and their dates into ISO 8601. The rows, now in the
documented columns, are then grouped exactly as a file in those columns is
(`files.reports_from_rows`), so a quarantined record is kept, corrected and replayed like
any other CSV record.

A value a map does not list is taken as it is: codes that already match ours need no entry,
and one that matches nothing is caught by validation and quarantined with its field named.
Only a file the mapping cannot read at all (wrong encoding, a column it names missing) is
refused whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from victim_notify.intake.files import (
    PARTY_COLUMNS,
    REPORT_COLUMNS,
    REQUIRED_COLUMNS,
    BrokenRow,
    UnreadableFile,
    reports_from_rows,
)
from victim_notify.intake.models import CsvMapping
from victim_notify.intake.store import IncomingRecord

# "Last, First" or "First Last" in one column, for exports that do not split names.
FULL_NAME = "full_name"
FIELDS = [*REPORT_COLUMNS, *PARTY_COLUMNS, FULL_NAME]
# Fields whose cell may hold several values, each mapped on its own.
LIST_FIELDS = {"offenses", "relationships"}
_DATETIME_FIELDS = {"reported_at", "occurred_at"}
_DATE_FIELDS = {"date_of_birth"}
DELIMITERS = (",", ";", "|", "\t")
# What a dropped file read through a mapping may be called (the drop folder takes these).
FILE_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")


def sources(mapping: CsvMapping, field: str) -> list[str]:
    """The columns of their file that `field` is read from (none when it is not mapped)."""
    source = mapping.columns.get(field)
    if source is None or source == "":
        return []
    return [source] if isinstance(source, str) else list(source)


def problems(mapping: CsvMapping) -> list[str]:
    """What is wrong with a mapping, in words for the person editing it; empty when it can
    be used."""
    found = []
    unknown = sorted(
        (set(mapping.columns) | set(mapping.fixed_values) | set(mapping.value_maps)) - set(FIELDS)
    )
    if unknown:
        found.append(_("Unknown field(s): %(fields)s.") % {"fields": ", ".join(unknown)})
    for field, source in mapping.columns.items():
        several = isinstance(source, list)
        if several and field != "offenses":
            found.append(
                _("%(field)s: only offenses may be read from several columns.") % {"field": field}
            )
        if not all(isinstance(s, str) and s.strip() for s in (source if several else [source])):
            found.append(_("%(field)s: a column name cannot be empty.") % {"field": field})
        if mapping.fixed_values.get(field):
            found.append(
                _("%(field)s: name their column or give a fixed value, not both.")
                % {"field": field}
            )
    for field, value_map in mapping.value_maps.items():
        if not isinstance(value_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value_map.items()
        ):
            found.append(_("%(field)s: a value map pairs their text with ours.") % {"field": field})
    for field in sorted(REQUIRED_COLUMNS):
        if not sources(mapping, field) and not mapping.fixed_values.get(field):
            found.append(
                _("%(field)s: name the column it is in, or give a fixed value.") % {"field": field}
            )
    if FULL_NAME in mapping.columns and (
        sources(mapping, "first_name") or sources(mapping, "last_name")
    ):
        found.append(_("full_name: map either the full name or first and last names, not both."))
    for name in ("datetime_format", "date_format"):
        if getattr(mapping, name) and "%" not in getattr(mapping, name):
            found.append(_("%(name)s: write it with %% codes, e.g. %%m/%%d/%%Y.") % {"name": name})
    if mapping.delimiter not in DELIMITERS:
        found.append(_("Delimiter: use a comma, semicolon, bar or tab."))
    if not mapping.list_separator or mapping.list_separator == mapping.delimiter:
        found.append(_("List separator: it must differ from the delimiter."))
    if not mapping.file_pattern.lower().endswith(FILE_SUFFIXES):
        found.append(
            _("Files it reads: end the pattern with %(suffixes)s, e.g. rms-export-*.csv.")
            % {"suffixes": ", ".join(FILE_SUFFIXES)}
        )
    return found


def mapping_for(agency: Any, file_name: str) -> CsvMapping | None:
    """The agency's mapping whose file pattern matches a dropped file's name, if any."""
    for mapping in CsvMapping.objects.filter(agency=agency).order_by("name"):
        if fnmatch.fnmatch(file_name.lower(), mapping.file_pattern.lower()):
            return mapping
    return None


def read_mapped_file(path: Path, mapping: CsvMapping) -> list[IncomingRecord]:
    """Every record in a file of their export, read before any is stored."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    return list(read_mapped_csv(data, mapping))


def read_mapped_csv(data: bytes, mapping: CsvMapping) -> Iterator[IncomingRecord]:
    """The reports in a file of their export, each as a record in our shape."""
    reader = _open(data, mapping)[0]
    rows: list[tuple[int, dict[str, str]]] = []
    broken: list[BrokenRow] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                number = translate({k: v for k, v in row.items() if k is not None}, mapping)
                broken.append(BrokenRow.of(line, row, mapping.delimiter, number["report_number"]))
                continue
            if not any(value.strip() for value in row.values()):
                continue  # a blank line many exports end with
            rows.append((line, translate(row, mapping)))
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num}: {exc}") from exc
    yield from reports_from_rows([f for f in FIELDS if f != FULL_NAME], rows, broken)


def header_of(data: bytes, mapping: CsvMapping) -> list[str]:
    """The column names of a sample file, as the mapping reads them."""
    return _open(data, mapping)[1]


def _open(data: bytes, mapping: CsvMapping) -> tuple[csv.DictReader[str], list[str]]:
    try:
        text = data.decode("utf-8-sig" if mapping.encoding == "utf-8" else mapping.encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the file is not {mapping.get_encoding_display()} (byte {exc.start}); "
            "export it so, or change the mapping's encoding"
        ) from exc
    if "\x00" in text[:4096]:
        raise UnreadableFile("this is not a text file (it contains NUL bytes)")
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="", delimiter=mapping.delimiter)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise UnreadableFile(f"line 1: {exc}") from exc
    reader.fieldnames = header
    needed = {column for field in FIELDS for column in sources(mapping, field)}
    missing = sorted(needed - set(header))
    if missing:
        raise UnreadableFile(
            f"the file has no column(s) {', '.join(missing)}, which mapping {mapping.name!r} reads"
        )
    return reader, header


def translate(row: dict[str, str], mapping: CsvMapping) -> dict[str, str]:
    """One row of their export in our columns, their values turned into ours."""
    out: dict[str, str] = {}
    for field in FIELDS:
        columns = sources(mapping, field)
        if columns:
            cells = [row.get(column, "").strip() for column in columns]
        else:
            cells = [str(mapping.fixed_values.get(field, "")).strip()]
        value_map = mapping.value_maps.get(field) or {}
        if field in LIST_FIELDS:
            items = [
                item.strip()
                for cell in cells
                for item in cell.split(mapping.list_separator)
                if item.strip()
            ]
            value = ";".join(_list_item(field, item, value_map) for item in items)
        else:
            value = _mapped(cells[0], value_map)
        if field in _DATETIME_FIELDS:
            value = _iso(value, mapping.datetime_format, date_only=False)
        elif field in _DATE_FIELDS:
            value = _iso(value, mapping.date_format, date_only=True)
        out[field] = value
    full_name = out.pop(FULL_NAME)
    if full_name and not out["first_name"] and not out["last_name"]:
        out["first_name"], out["last_name"] = split_name(full_name)
    return out


def _mapped(value: str, value_map: dict[str, str]) -> str:
    if not value_map or not value:
        return value
    if value in value_map:
        return value_map[value]
    folded = value.casefold()
    for theirs, ours in value_map.items():
        if theirs.casefold() == folded:
            return ours
    return value


def _list_item(field: str, item: str, value_map: dict[str, str]) -> str:
    if field == "relationships":  # "other party:code"; only the code is theirs to map
        other, sep, code = item.partition(":")
        return f"{other.strip()}{sep}{_mapped(code.strip(), value_map)}"
    return _mapped(item, value_map)


def _iso(value: str, pattern: str, date_only: bool) -> str:
    """Their date in ISO 8601; left as it is when it does not match (validation then names
    the field and shows the value)."""
    if not value or not pattern:
        return value
    try:
        # Without an offset, as validation reads it: in the agency's time zone.
        parsed = dt.datetime.strptime(value, pattern)
    except ValueError:
        return value
    return parsed.date().isoformat() if date_only else parsed.isoformat()


def split_name(full_name: str) -> tuple[str, str]:
    """("First", "Last") from "Last, First" or "First Last"."""
    if "," in full_name:
        last, _, first = full_name.partition(",")
        return first.strip(), last.strip()
    first, _, last = full_name.strip().rpartition(" ")
    return (first.strip(), last.strip()) if first else ("", last.strip())
