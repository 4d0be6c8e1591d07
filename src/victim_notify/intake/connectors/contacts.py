"""The contacts feed that goes with NIBRS: who the victims are and how to reach them, which
NIBRS does not carry, keyed by incident number and victim sequence number.

One row per person. A victim's row names its `victim_seq`; a guardian's or a reporting
party's row names its `role` instead (and may give a `party_id`). The incident's own facts
(officer, division, report time, status, flags) are repeated on each row, as in our CSV format;
rows of one incident that disagree on them hold that incident back rather than guess.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from victim_notify.intake.files import UnreadableFile

INCIDENT_COLUMNS = [
    "officer_name",
    "officer_badge",
    "division",
    "reported_at",
    "status",
    "domestic_violence",
    "do_not_notify",
    "detective_name",
    "detective_phone",
]
PERSON_COLUMNS = ["first_name", "last_name", "business_name", "phone", "email", "language"]
COLUMNS = ["incident_number", "victim_seq", "role", "party_id", *PERSON_COLUMNS, *INCIDENT_COLUMNS]
OTHER_ROLES = {"guardian", "reporting_party", "witness"}
_FLAGS = {"domestic_violence", "do_not_notify"}


@dataclass
class IncidentContacts:
    number: str
    incident: dict[str, Any] = field(default_factory=dict)
    victims: dict[int, dict[str, str]] = field(default_factory=dict)
    others: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    first_line: int = 0


class ContactBook(dict[str, IncidentContacts]):
    """Incident number → its contacts."""

    def get_for(self, number: str) -> IncidentContacts | None:
        return self.get(number.strip().upper())


def read_contacts_csv(data: bytes) -> ContactBook:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the contacts file is not UTF-8 (byte {exc.start}); export it as UTF-8"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    if "incident_number" not in header:
        raise UnreadableFile("the contacts file has no incident_number column")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise UnreadableFile(f"the contacts file has unknown column(s): {', '.join(unknown)}")
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise UnreadableFile(f"contacts file line {reader.line_num}: {exc}") from exc
    return book_from_rows(rows)


def book_from_rows(rows: Iterable[tuple[int, dict[str, Any]]]) -> ContactBook:
    """Rows of the feed (with where each came from) gathered by incident."""
    book = ContactBook()
    for line, raw in rows:
        row = {k: str(v if v is not None else "").strip() for k, v in raw.items() if k}
        if None in raw:
            number = row.get("incident_number", "").upper()
            if number:
                book.setdefault(number, IncidentContacts(number, first_line=line)).problems.append(
                    f"contacts line {line} has more cells than the header"
                )
            continue
        number = row.get("incident_number", "").upper()
        if not number or not any(row.values()):
            continue
        entry = book.setdefault(number, IncidentContacts(number, first_line=line))
        _add(entry, line, row)
    return book


def _add(entry: IncidentContacts, line: int, row: dict[str, str]) -> None:
    facts = {c: row[c].lower() if c in _FLAGS else row[c] for c in INCIDENT_COLUMNS if row.get(c)}
    if not entry.incident and not entry.victims and not entry.others:
        entry.incident = facts
    else:
        differing = [c for c, v in facts.items() if entry.incident.get(c, v) != v]
        if differing:
            entry.problems.append(
                f"contacts line {line} gives different incident values than line "
                f"{entry.first_line}: {', '.join(differing)}"
            )
        entry.incident = facts | entry.incident
    person = {c: row[c] for c in PERSON_COLUMNS if row.get(c)}
    role = (row.get("role") or "victim").lower()
    if role == "victim":
        seq_text = row.get("victim_seq", "")
        if not seq_text:
            if person:
                entry.problems.append(f"contacts line {line}: a victim's row needs its victim_seq")
            return
        if not (seq_text.isascii() and seq_text.isdigit()):
            entry.problems.append(
                f"contacts line {line}: victim_seq {seq_text!r} is not a sequence number"
            )
            return
        seq = int(seq_text)
        if seq in entry.victims:
            entry.problems.append(f"contacts line {line}: victim {seq} is given twice")
            return
        entry.victims[seq] = person
    elif role in OTHER_ROLES:
        party_id = row.get("party_id") or f"{role}-{len(entry.others) + 1}"
        entry.others.append({"party_id": party_id, "role": role, **person})
    else:
        entry.problems.append(
            f"contacts line {line}: role {role!r} is not victim, {', '.join(sorted(OTHER_ROLES))}"
        )
