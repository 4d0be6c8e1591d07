"""NIBRS incidents (from the XML or the flat-file reader) merged with the agency's contacts
feed into records in our shape.

NIBRS says what happened and to whom, by sequence number: offense codes, each victim's type
and age, and how each victim is related to each offender. It is authoritative for those. It
carries no names, phones, emails, officer or division; the contacts feed supplies them, keyed
by incident number and victim sequence number (`contacts.py`). A victim the feed has no row for
is kept without contact details, with a note saying so, and so is never written to.

What NIBRS says becomes what our rules read:
- a victim's relationship to an offender (spouse, boyfriend or girlfriend, family...) becomes
  the NIBRS relationship code between the victim and a suspect party, which the agency's
  domestic-violence relationship codes then act on;
- the victim's age becomes the juvenile flag (a range counts by its lower end: when in doubt,
  a minor);
- the victim's type becomes a person or a business (society is nobody to write to).

Each arrest in the incident becomes a "suspect arrested" case event once the report is stored
(keyed by its arrest transaction number, so a re-sent file tells it once).

The actions: I (a new incident) and R (a replacement) become the report as NIBRS now gives it,
taken in as a new version when it differs. D (delete) becomes a new version of the stored
report with the status "deleted", so anything not yet sent is cancelled and nothing more goes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from victim_notify.agencies.models import Agency
from victim_notify.intake.connectors.contacts import ContactBook, IncidentContacts
from victim_notify.intake.files import detective_of
from victim_notify.intake.models import Report
from victim_notify.intake.store import IncomingRecord
from victim_notify.intake.validate import FieldError

DELETED_STATUS = "deleted"
# Element 25, type of victim: who can be written to as a person, who as an organisation.
PERSON_VICTIMS = {"I", "L", "U"}  # individual, law enforcement officer, unknown
BUSINESS_VICTIMS = {"B", "F", "G", "R", "O"}  # business, financial, government, religious, other
SOCIETY = "S"
VICTIM_TYPES = PERSON_VICTIMS | BUSINESS_VICTIMS | {SOCIETY}


@dataclass
class Age:
    """A NIBRS age: one value, a range, or a baby (0). None at both ends when unknown."""

    low: int | None
    high: int | None

    def juvenile(self, adult_age: int) -> bool | None:
        return None if self.low is None else self.low < adult_age


@dataclass
class NibrsVictim:
    seq: int
    category: str
    age: Age
    # (offender sequence number, two-letter relationship code)
    relationships: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class NibrsIncident:
    """One incident as a NIBRS reader found it. `problems` are reasons it cannot be read
    safely (a missing incident number, a segment whose fields do not line up); `raw` is its
    text in the file, kept with it in quarantine."""

    where: str  # "line 52" or "lines 10-14", for people
    line: int
    raw: str
    action: str = ""
    number: str = ""
    occurred: dt.datetime | dt.date | None = None
    date_is_report_date: bool = False
    offenses: list[str] = field(default_factory=list)
    victims: list[NibrsVictim] = field(default_factory=list)
    offenders: list[int] = field(default_factory=list)
    # (arrest transaction number, arrest date): each becomes a "suspect arrested" case event.
    arrests: list[tuple[str, dt.date]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Why a report in the file is not an incident for us (a group B arrest report).
    passed_over: str = ""


@dataclass
class Reading:
    """What a NIBRS file turned into: records for intake, and what was passed over (a group B
    arrest report, a delete of an incident never taken in), said for the operator."""

    records: list[IncomingRecord] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)
    # Case events the file tells of (its arrests), for after the reports are stored.
    events: list[dict[str, str]] = field(default_factory=list)


def is_number(text: str) -> bool:
    """Digits 0-9 only: str.isdigit() also takes "²", which int() refuses."""
    return text.isascii() and text.isdigit()


@cache
def relationship_codes() -> dict[str, str]:
    """The IEPD's XML relationship values (and the flat file's two-letter codes) to the
    two-letter codes our records use."""
    table = resources.files("victim_notify.intake.connectors") / "data"
    with (table / "victim_offender_relationship_codes.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    codes = {row["xml_value_iepd_2019"].casefold(): row["flatfile_code"] for row in rows}
    codes.update({row["flatfile_code"].casefold(): row["flatfile_code"] for row in rows})
    return codes


def relationship_code(value: str) -> str | None:
    """The two-letter code of an XML value or a flat-file code; None when it is neither."""
    return relationship_codes().get(value.strip().casefold())


def records_for(
    agency: Agency, incidents: Iterable[NibrsIncident], contacts: ContactBook
) -> Reading:
    reading = Reading()
    latest: dict[str, dict[str, Any]] = {}  # what this file said last of each incident
    for incident in incidents:
        if incident.passed_over:
            reading.passed_over.append(f"{incident.where}: {incident.passed_over}")
            continue
        if incident.problems:
            reading.records.append(
                IncomingRecord(
                    incident.line,
                    incident.raw,
                    parse_error=f"{incident.where}: " + "; ".join(incident.problems),
                    report_number=incident.number[:40] or None,
                )
            )
            continue
        if incident.action == "D":
            before = latest.get(incident.number) or _stored(agency, incident.number)
            if before is None:
                reading.passed_over.append(
                    f"{incident.where}: incident {incident.number} is deleted, but was never "
                    "taken in; nothing to do"
                )
                continue
            record = before | {"status": DELETED_STATUS}
            notes: list[FieldError] = []
            problems: list[str] = []
        else:
            found = contacts.get_for(incident.number)
            record, notes = _record(agency, incident, found)
            problems = found.problems if found else []
        latest[incident.number] = record
        notes += [FieldError("", f"{incident.where}: {w}") for w in incident.warnings]
        reading.events += [
            {
                "report_number": incident.number,
                "kind": "suspect_arrested",
                "occurred_at": dt.datetime.combine(day, dt.time(0, 0)).isoformat(),
                "event_id": f"nibrs-arrest:{number}",
            }
            for number, day in incident.arrests
            if incident.action != "D"
        ]
        reading.records.append(
            IncomingRecord(
                incident.line,
                json.dumps(record, ensure_ascii=False, indent=2),
                # Kept as our JSON, so staff can fill in what the contacts feed got wrong
                # and replay it.
                None if problems else record,
                parse_error="; ".join(problems) if problems else None,
                report_number=incident.number[:40],
                notes=notes,
            )
        )
    return reading


def _stored(agency: Agency, number: str) -> dict[str, Any] | None:
    report = Report.objects.filter(agency=agency, report_number=number).first()
    if report is None:
        return None
    version = report.versions.order_by("-number").first()
    if version is None:
        return None
    payload: dict[str, Any] = version.payload
    # The stored form carries what validation derived; a record carries what was received.
    for party in payload["parties"]:
        for derived in ("phone_invalid", "email_invalid"):
            party.pop(derived, None)
        for key in [k for k, v in party.items() if v is None]:
            party.pop(key)
    return {k: v for k, v in payload.items() if v is not None}


def _record(
    agency: Agency, incident: NibrsIncident, contacts: IncidentContacts | None
) -> tuple[dict[str, Any], list[FieldError]]:
    found = contacts or IncidentContacts(incident.number)
    notes: list[FieldError] = []
    if contacts is None:
        notes.append(
            FieldError(
                "",
                f"the contacts feed has no row for incident {incident.number}: nobody on it "
                "can be written to until it does",
            )
        )
    facts = found.incident
    record: dict[str, Any] = {
        "report_number": incident.number,
        "status": facts.get("status") or agency.approved_statuses[0],
        "offenses": list(dict.fromkeys(incident.offenses)),
    }
    reported_at = facts.get("reported_at") or (
        _iso(incident.occurred) if incident.date_is_report_date else ""
    )
    if reported_at:
        record["reported_at"] = reported_at
    if isinstance(incident.occurred, dt.datetime) and not incident.date_is_report_date:
        record["occurred_at"] = incident.occurred.isoformat()
    record["officer"] = {k: v for k in ("name", "badge") if (v := facts.get(f"officer_{k}"))}
    if facts.get("division"):
        record["division"] = facts["division"]
    if detective := detective_of(facts):
        record["detective"] = detective
    for flag in ("domestic_violence", "do_not_notify"):
        if flag in facts:
            record[flag] = facts[flag]

    parties: list[dict[str, Any]] = []
    for victim in incident.victims:
        if victim.category == SOCIETY:
            continue
        row = found.victims.get(victim.seq)
        party = _victim(victim, row, agency.adult_age)
        if row is None and contacts is not None:
            notes.append(
                FieldError(
                    f"/parties/{len(parties)}",
                    f"the contacts feed has no row for victim {victim.seq}: kept without "
                    "contact details, so not written to",
                )
            )
        parties.append(party)
    parties += [{"party_id": f"O{seq}", "role": "suspect"} for seq in incident.offenders]
    parties += [dict(row) for row in found.others]
    record["parties"] = parties
    return record, notes


def _victim(victim: NibrsVictim, row: dict[str, str] | None, adult_age: int) -> dict[str, Any]:
    kind = "business" if victim.category in BUSINESS_VICTIMS else "person"
    party: dict[str, Any] = {"party_id": f"V{victim.seq}", "role": "victim", "kind": kind}
    for name in ("first_name", "last_name", "business_name", "phone", "email", "language"):
        if row and row.get(name):
            party[name] = row[name]
    if kind == "business" and not party.get("business_name"):
        party["business_name"] = f"Victim {victim.seq} (no contact record)"
    juvenile = victim.age.juvenile(adult_age)
    if kind == "person" and juvenile is not None:
        party["juvenile"] = juvenile
    if victim.relationships:
        party["relationships"] = [
            {"party_id": f"O{seq}", "code": code} for seq, code in victim.relationships
        ]
    return party


def _iso(value: dt.datetime | dt.date | None) -> str:
    # A date without its hour is no report time: the contacts feed must give it then.
    return value.isoformat() if isinstance(value, dt.datetime) else ""
