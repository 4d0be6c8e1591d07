"""Files of calls from CAD: `NAME.calls.csv` (one snapshot a row) or `NAME.eido.json` (an EIDO,
a JSON array of them, or JSON Lines)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.utils import timezone

from victim_notify.agencies.models import Agency
from victim_notify.calls.intake import CallSummary, take_in
from victim_notify.calls.snapshots import Reading, from_csv, from_eido
from victim_notify.intake.files import UnreadableFile
from victim_notify.intake.validate import FieldError

CSV_SUFFIX, EIDO_SUFFIX = ".calls.csv", ".eido.json"


def is_calls_file(path: Path) -> bool:
    return path.name.lower().endswith((CSV_SUFFIX, EIDO_SUFFIX))


def read_calls_file(agency: Agency, path: Path) -> list[Reading]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    now = timezone.now()
    if path.name.lower().endswith(CSV_SUFFIX):
        return from_csv(data, agency.zone, now)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"the file is not UTF-8 (byte {exc.start})") from exc
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        return list(_json_lines(text, agency, now))
    documents = whole if isinstance(whole, list) else [whole]
    return [from_eido(i, d, agency.zone, now) for i, d in enumerate(documents, start=1)]


def _json_lines(text: str, agency: Agency, now: dt.datetime) -> list[Reading]:
    readings = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except (ValueError, RecursionError) as exc:
            message = f"line {number} is not JSON ({type(exc).__name__})"
            readings.append(Reading(number, errors=[FieldError("", message)]))
            continue
        readings.append(from_eido(number, document, agency.zone, now))
    return readings


def take_in_calls_file(agency: Agency, path: Path) -> CallSummary:
    return take_in(agency, read_calls_file(agency, path))
