"""What CAD says about a call, read from JSON modelled on the NENA Emergency Incident Data
Object (EIDO, NENA-STA-021) or from a CSV row, into one `Snapshot`.

An EIDO is the whole incident as the sender knows it now, so each one is a snapshot: the
times it gives are filled in, the ones it leaves out stay as they were. Only the members
below are read; an EIDO's other components (locations, agents, notes...) are left alone.

    incidentComponent.internalIncidentId            the call number the caller is given
    incidentComponent.incidentCommonPriorityNumber  the priority
    incidentComponent.incidentTypeInternalText      the call type (never put in a message)
    incidentComponent.lastUpdateTimeStamp           when CAD last changed it
    incidentComponent.rmsReportIdentifier           the report taken, if any (our extension)
    incidentComponent.incidentCloseTimeStamp        when it closed (our extension)
    callComponent[0].callStartTimestamp             when the call came in
    dispatchComponent[*].dispatchTimestamp          the first unit sent
    dispatchComponent[*].onSceneTimestamp           the first unit there
    personComponent[*] with personIncidentRoleRegistryText "Caller" or "ReportingParty":
        .phoneNumber, .languageCode, .doNotContactIndicator   (our simplification of its jCard)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from victim_notify.intake.files import UnreadableFile
from victim_notify.intake.validate import CLOCK_SKEW, FieldError

CALLER_ROLES = {"caller", "reportingparty", "reporting_party"}
CSV_COLUMNS = [
    "call_number",
    "priority",
    "nature",
    "received_at",
    "dispatched_at",
    "on_scene_at",
    "closed_at",
    "report_number",
    "caller_phone",
    "caller_language",
    "do_not_text",
    "updated_at",
]
_TRUE = {"true", "yes", "1", "y"}


@dataclass
class Snapshot:
    call_number: str
    received_at: dt.datetime
    priority: str = ""
    nature: str = ""
    dispatched_at: dt.datetime | None = None
    on_scene_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    report_number: str = ""
    caller_phone: str = ""
    caller_language: str = ""
    do_not_text: bool = False
    updated_at: dt.datetime | None = None


@dataclass
class Reading:
    """A snapshot, or what is wrong with the record it was to be read from."""

    index: int
    snapshot: Snapshot | None = None
    errors: list[FieldError] = field(default_factory=list)
    call_number: str = ""


class _Times:
    """Reads times as intake does: ISO 8601, the agency's time zone when without an offset;
    never in the future."""

    def __init__(self, zone: dt.tzinfo, now: dt.datetime, errors: list[FieldError]) -> None:
        self.zone, self.now, self.errors = zone, now, errors

    def read(self, value: Any, pointer: str, required: bool = False) -> dt.datetime | None:
        if value in (None, ""):
            if required:
                self.errors.append(FieldError(pointer, "required"))
            return None
        if not isinstance(value, str):
            self.errors.append(FieldError(pointer, "must be a date and time as text"))
            return None
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            self.errors.append(
                FieldError(pointer, "not an ISO 8601 date and time, e.g. 2026-12-03T21:15:00")
            )
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        if moment > self.now + CLOCK_SKEW:
            self.errors.append(FieldError(pointer, "is in the future"))
            return None
        return moment.astimezone(dt.UTC)


def _text(value: Any, pointer: str, limit: int, errors: list[FieldError]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors.append(FieldError(pointer, "must be text"))
        return ""
    text = str(value).strip()
    if len(text) > limit or "\x00" in text:
        errors.append(FieldError(pointer, f"at most {limit} characters of text"))
        return ""
    return text


def _first(value: Any) -> dict[str, Any]:
    """EIDO components are lists of one or more; a lone object is taken as a list of one."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def from_eido(index: int, document: Any, zone: dt.tzinfo, now: dt.datetime) -> Reading:
    errors: list[FieldError] = []
    if not isinstance(document, dict):
        return Reading(index, errors=[FieldError("", "each EIDO must be a JSON object")])
    times = _Times(zone, now, errors)
    incident = _first(document.get("incidentComponent"))
    if not incident:
        errors.append(FieldError("/incidentComponent", "required"))
    at = "/incidentComponent"
    number = _text(incident.get("internalIncidentId"), f"{at}/internalIncidentId", 40, errors)
    if not number and incident:
        errors.append(FieldError(f"{at}/internalIncidentId", "required"))
    call = _first(document.get("callComponent"))
    received = times.read(
        call.get("callStartTimestamp"), "/callComponent/0/callStartTimestamp", required=True
    )
    dispatched = on_scene = None
    dispatches = document.get("dispatchComponent") or []
    for n, dispatch in enumerate(dispatches if isinstance(dispatches, list) else [dispatches]):
        if not isinstance(dispatch, dict):
            continue
        sent = times.read(
            dispatch.get("dispatchTimestamp"), f"/dispatchComponent/{n}/dispatchTimestamp"
        )
        there = times.read(
            dispatch.get("onSceneTimestamp"), f"/dispatchComponent/{n}/onSceneTimestamp"
        )
        dispatched = min(filter(None, [dispatched, sent]), default=None)
        on_scene = min(filter(None, [on_scene, there]), default=None)
    phone = language = ""
    do_not_text = False
    people = document.get("personComponent") or []
    for n, person in enumerate(people if isinstance(people, list) else [people]):
        if not isinstance(person, dict):
            continue
        role = str(person.get("personIncidentRoleRegistryText") or "").replace(" ", "").lower()
        if role in CALLER_ROLES and not phone:
            where = f"/personComponent/{n}"
            phone = _text(person.get("phoneNumber"), f"{where}/phoneNumber", 40, errors)
            language = _text(person.get("languageCode"), f"{where}/languageCode", 8, errors)
            do_not_text = person.get("doNotContactIndicator") is True
    snapshot = Snapshot(
        call_number=number,
        received_at=received or now,
        priority=_text(
            incident.get("incidentCommonPriorityNumber"),
            f"{at}/incidentCommonPriorityNumber",
            8,
            errors,
        ),
        nature=_text(
            incident.get("incidentTypeInternalText"), f"{at}/incidentTypeInternalText", 100, errors
        ),
        dispatched_at=dispatched,
        on_scene_at=on_scene,
        closed_at=times.read(
            incident.get("incidentCloseTimeStamp"), f"{at}/incidentCloseTimeStamp"
        ),
        report_number=_text(
            incident.get("rmsReportIdentifier"), f"{at}/rmsReportIdentifier", 40, errors
        ),
        caller_phone=phone,
        caller_language=language.lower()[:2],
        do_not_text=do_not_text,
        updated_at=times.read(incident.get("lastUpdateTimeStamp"), f"{at}/lastUpdateTimeStamp"),
    )
    if errors:
        return Reading(index, errors=errors, call_number=number)
    return Reading(index, snapshot, call_number=number)


def from_csv(data: bytes, zone: dt.tzinfo, now: dt.datetime) -> list[Reading]:
    """One reading per row; a row is a snapshot of its call, in the columns above."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"the file is not UTF-8 (byte {exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = {"call_number", "received_at"} - set(header)
    if missing:
        raise UnreadableFile(f"missing column(s): {', '.join(sorted(missing))}")
    unknown = set(header) - set(CSV_COLUMNS)
    if unknown:
        raise UnreadableFile(f"unknown column(s): {', '.join(sorted(unknown))}")
    readings = []
    try:
        for row in reader:
            readings.append(_from_row(reader.line_num, row, zone, now))
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num}: {exc}") from exc
    return readings


def _from_row(line: int, row: dict[str, Any], zone: dt.tzinfo, now: dt.datetime) -> Reading:
    errors: list[FieldError] = []
    if None in row:
        return Reading(line, errors=[FieldError("", f"line {line} has more cells than the header")])
    times = _Times(zone, now, errors)
    cell = {k: (v or "").strip() for k, v in row.items()}
    number = _text(cell.get("call_number"), "/call_number", 40, errors)
    if not number:
        errors.append(FieldError("/call_number", "required"))
    snapshot = Snapshot(
        call_number=number,
        received_at=times.read(cell.get("received_at"), "/received_at", required=True) or now,
        priority=_text(cell.get("priority"), "/priority", 8, errors),
        nature=_text(cell.get("nature"), "/nature", 100, errors),
        dispatched_at=times.read(cell.get("dispatched_at"), "/dispatched_at"),
        on_scene_at=times.read(cell.get("on_scene_at"), "/on_scene_at"),
        closed_at=times.read(cell.get("closed_at"), "/closed_at"),
        report_number=_text(cell.get("report_number"), "/report_number", 40, errors),
        caller_phone=_text(cell.get("caller_phone"), "/caller_phone", 40, errors),
        caller_language=(cell.get("caller_language") or "").lower()[:2],
        do_not_text=(cell.get("do_not_text") or "").lower() in _TRUE,
        updated_at=times.read(cell.get("updated_at"), "/updated_at"),
    )
    if errors:
        return Reading(line, errors=errors, call_number=number)
    return Reading(line, snapshot, call_number=number)
