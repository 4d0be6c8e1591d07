"""Correcting a quarantined record's raw text field by field, before it is replayed.

A field error carries a JSON pointer into the record as intake reads it ("/parties/0/phone").
A record kept from a JSON source is that object, so the pointer is followed directly; one kept
from a CSV file is its header and rows, so the pointer is mapped to the cell it was read from
(party fields to that party's row, report fields to the same column in every row). Either way
the corrected text is what intake reads again, unchanged in format.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from django.utils import timezone

from victim_notify.agencies.config import load_config
from victim_notify.agencies.models import Agency
from victim_notify.intake.files import PARTY_COLUMNS, REPORT_COLUMNS
from victim_notify.intake.replay import read_raw
from victim_notify.intake.validate import FieldError, validate_record

_ABSENT = object()


class CorrectionError(Exception):
    """The edits cannot be applied; the message says why, for the clerk."""


def is_json(raw: str) -> bool:
    return raw.lstrip().startswith("{")


def tokens(pointer: str) -> list[str]:
    """RFC 6901: "/parties/0/phone" → ["parties", "0", "phone"]; "" is the whole record."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise CorrectionError(f"{pointer!r} is not a JSON pointer")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def field_for(raw: str, pointer: str) -> str | None:
    """The pointer of the field a clerk edits to fix an error at `pointer`, or None when the
    error is about the record as a whole (it cannot be read, or a party is missing)."""
    try:
        parts = tokens(pointer)
    except CorrectionError:
        return None
    if not parts:
        return None
    if is_json(raw):
        return pointer
    cell = _csv_cell(parts)
    if cell is None:
        return None
    column, row = cell
    if row is None:
        return {"officer_name": "/officer/name", "officer_badge": "/officer/badge"}.get(
            column, f"/{column}"
        )
    return f"/parties/{row}/{column}"


def readable(raw: str) -> str:
    """A JSON record laid out one field a line, for a person to edit; anything else as is."""
    if not is_json(raw):
        return raw
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, indent=2)
    except (ValueError, RecursionError):
        return raw


def value_at(raw: str, pointer: str) -> str:
    """The text a clerk sees for the field: a text value as it is, any other value as JSON,
    and nothing when the field is absent (or the record cannot be read)."""
    try:
        if is_json(raw):
            value = _json_get(json.loads(raw), tokens(pointer))
            if value is _ABSENT:
                return ""
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        _, rows = _read_csv(raw)
        cell = _csv_cell(tokens(pointer))
        if cell is None or not rows:
            return ""
        column, row = cell
        index = row or 0
        return (rows[index].get(column) or "") if index < len(rows) else ""
    except (CorrectionError, ValueError, RecursionError):
        return ""


def apply(raw: str, edits: dict[str, str]) -> str:
    """`raw` with each field at a pointer set to the given text; empty text removes the field
    (an empty cell in a CSV row). Where the value there was not text (a number, true/false, a
    list), the text is read as JSON if it can be."""
    if not edits:
        return raw
    if is_json(raw):
        return _apply_json(raw, edits)
    return _apply_csv(raw, edits)


def changed_fields(before: str, after: str) -> list[str]:
    """Pointers of the values that differ between two versions of a record, as intake reads
    them; [""] when either cannot be read (the record as a whole changed)."""
    old, new = read_raw(before, 0), read_raw(after, 0)
    if old.parse_error is not None or new.parse_error is not None:
        return [] if before == after else [""]
    return sorted(_differences(old.data, new.data, []))


def problems(
    agency: Agency, raw: str, index: int, now: dt.datetime | None = None
) -> list[FieldError]:
    """What intake would refuse in `raw`, read and checked as replaying it would; empty when
    it would be taken in."""
    incoming = read_raw(raw, index)
    if incoming.parse_error is not None:
        return [FieldError("", incoming.parse_error)]
    checked = validate_record(incoming.data, load_config(agency), now or timezone.now())
    return checked if isinstance(checked, list) else []


def _json_get(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(data, dict):
            if part not in data:
                return _ABSENT
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _ABSENT
    return data


def _typed(text: str, before: Any) -> Any:
    if isinstance(before, str):
        return text
    if before is _ABSENT and not text.lstrip().startswith(("{", "[")):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _apply_json(raw: str, edits: dict[str, str]) -> str:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CorrectionError(f"the full record is not valid JSON ({exc})") from exc
    removals = []
    for pointer, text in edits.items():
        parts = tokens(pointer)
        if not parts:
            raise CorrectionError("the whole record is edited in the full record box")
        if text == "":
            removals.append(parts)
            continue
        parent = data
        for depth, part in enumerate(parts[:-1]):
            if isinstance(parent, dict):
                parent = parent.setdefault(part, [] if parts[depth + 1].isdigit() else {})
            elif isinstance(parent, list) and part.isdigit() and int(part) < len(parent):
                parent = parent[int(part)]
            else:
                raise CorrectionError(f"{pointer} does not point into the record")
        _json_set(parent, parts[-1], text, pointer)
    # Last index first, so removing one list item does not move the next one to remove.
    for parts in sorted(removals, key=_sort_key, reverse=True):
        parent = _json_get(data, parts[:-1])
        last = parts[-1]
        if isinstance(parent, dict):
            parent.pop(last, None)
        elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
            del parent[int(last)]
    return json.dumps(data, ensure_ascii=False, indent=2)


def _json_set(parent: Any, key: str, text: str, pointer: str) -> None:
    if isinstance(parent, dict):
        parent[key] = _typed(text, parent.get(key, _ABSENT))
    elif isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        parent[int(key)] = _typed(text, parent[int(key)])
    elif isinstance(parent, list) and key.isdigit() and int(key) == len(parent):
        parent.append(_typed(text, _ABSENT))
    else:
        raise CorrectionError(f"{pointer} does not point into the record")


def _sort_key(parts: list[str]) -> list[tuple[int, int, str]]:
    return [(1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts]


def _read_csv(raw: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(raw, newline=""), restval="")
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise CorrectionError(f"the full record cannot be read as CSV ({exc})") from exc
    return list(reader.fieldnames or []), rows


def _csv_cell(parts: list[str]) -> tuple[str, int | None] | None:
    """(column, row) holding the value a pointer names; row None for a report column, which
    every row of the report repeats."""
    if not parts:
        return None
    head = parts[0]
    if head == "parties":
        if len(parts) < 3 or not parts[1].isdigit():
            return None
        column = parts[2]
        return (column, int(parts[1])) if column in PARTY_COLUMNS else None
    if head == "officer":
        return ("officer_badge" if parts[1:2] == ["badge"] else "officer_name", None)
    if head == "detective":
        return ("detective_phone" if parts[1:2] == ["phone"] else "detective_name", None)
    if head in REPORT_COLUMNS:
        return head, None
    return None


def _apply_csv(raw: str, edits: dict[str, str]) -> str:
    header, rows = _read_csv(raw)
    if not header or not rows:
        raise CorrectionError("the full record has no CSV header and rows to correct")
    for pointer, text in edits.items():
        cell = _csv_cell(tokens(pointer))
        if cell is None:
            raise CorrectionError(f"{pointer} is not a column of the file")
        column, row = cell
        if row is not None and row >= len(rows):
            raise CorrectionError(f"{pointer}: the record has no row for that party")
        if column not in header:
            header.append(column)
        for index in range(len(rows)) if row is None else [row]:
            rows[index][column] = text
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _differences(old: Any, new: Any, at: list[str]) -> set[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found: set[str] = set()
        for key in old.keys() | new.keys():
            found |= _differences(old.get(key, _ABSENT), new.get(key, _ABSENT), [*at, str(key)])
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = set()
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            found |= _differences(a, b, [*at, str(index)])
        return found
    if old == new and type(old) is type(new):
        return set()
    return {"/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in at) if at else ""}
