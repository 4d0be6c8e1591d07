"""The NIBRS flat file (the FBI's fixed-width segments) read into incidents.

Every field sits at fixed columns, so a segment that is a character longer or shorter than it
says, or has a letter where a number belongs, would put every later field in the wrong place.
Such a segment is never guessed at: its incident is held back whole, with the line, the columns
and what was found there; the other incidents of the file go on. Positions are the FBI's (see
docs/intake.md); only the segments that say who was harmed and how, and who was arrested
when, are read (administrative, offense, victim, offender, group A arrestee). The others are
checked for their length and otherwise left alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from victim_notify.intake.connectors.nibrs import (
    VICTIM_TYPES,
    Age,
    NibrsIncident,
    NibrsVictim,
    is_number,
    relationship_codes,
)
from victim_notify.intake.files import UnreadableFile

# Segment levels and the lengths the FBI allows for those we read.
ADMINISTRATIVE, OFFENSE, VICTIM, OFFENDER, ARRESTEE = "1", "2", "4", "5", "6"
LENGTHS = {
    ADMINISTRATIVE: {87, 88},
    OFFENSE: {63, 71},
    VICTIM: {129, 141},
    OFFENDER: {45, 46},
    ARRESTEE: {110},
}
LEVELS = set("01234567")
GROUP_B_AND_ZERO = {"0", "7"}
_OFFENSE_CODE = re.compile(r"\d{2}[A-Z0-9]")
_AGE = re.compile(r"(NN|NB|BB|00|\d\d)  |\d{4}")
# Looks like a NIBRS segment: a 4-digit length, a level, an action.
SEGMENT_START = re.compile(rb"\d{4}[0-7][IRDAW ]")


@dataclass(frozen=True)
class Column:
    """A field at 1-based inclusive columns, as the FBI's specification gives them."""

    first: int
    last: int
    name: str

    def of(self, line: str) -> str:
        return line[self.first - 1 : self.last]

    def problem(self, line_number: int, value: str, why: str) -> str:
        where = f"line {line_number}, columns {self.first}-{self.last}"
        return f"{where} ({self.name}): {value!r} {why}"


LENGTH = Column(1, 4, "segment length")
LEVEL = Column(5, 5, "segment level")
ACTION = Column(6, 6, "action")
INCIDENT = Column(26, 37, "incident number")
INCIDENT_DATE = Column(38, 45, "incident date")
REPORT_DATE = Column(46, 46, "report date indicator")
HOUR = Column(47, 48, "incident hour")
OFFENSE_CODE = Column(38, 40, "UCR offense code")
ATTEMPTED = Column(41, 41, "attempted/completed")
VICTIM_SEQ = Column(38, 40, "victim sequence number")
VICTIM_OFFENSES = [Column(41 + 3 * i, 43 + 3 * i, f"offense connected {i + 1}") for i in range(10)]
VICTIM_TYPE = Column(71, 71, "type of victim")
VICTIM_AGE = Column(72, 75, "age of victim")
RELATIONSHIPS = [
    (
        Column(90 + 4 * i, 91 + 4 * i, f"offender number {i + 1}"),
        Column(92 + 4 * i, 93 + 4 * i, f"relationship {i + 1}"),
    )
    for i in range(10)
]
OFFENDER_SEQ = Column(38, 39, "offender sequence number")
ARREST_NUMBER = Column(40, 51, "arrest transaction number")
ARREST_DATE = Column(52, 59, "arrest date")


def looks_like_flat_file(data: bytes) -> bool:
    return SEGMENT_START.match(data.lstrip(b"\xef\xbb\xbf")) is not None


def read_nibrs_flat_file(path: Path) -> list[NibrsIncident]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    return read_nibrs_flat(data)


def read_nibrs_flat(data: bytes) -> list[NibrsIncident]:
    # Positions count bytes: Latin-1 keeps one character per byte whatever the file holds.
    text = data.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    if "\x00" in text[:4096]:
        raise UnreadableFile("this is not a text file (it contains NUL bytes)")
    incidents: dict[str, NibrsIncident] = {}
    order: list[NibrsIncident] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key = INCIDENT.of(line).strip()
        incident = incidents.get(key)
        if incident is None or not key:
            incident = NibrsIncident(where=f"line {number}", line=number, raw="", number=key)
            order.append(incident)
            if key:
                incidents[key] = incident
        incident.raw += line + "\n"
        if number != incident.line:
            incident.where = f"lines {incident.line}-{number}"
        _segment(incident, number, line)
    if not order:
        raise UnreadableFile("the file holds no NIBRS segments")
    for incident in order:
        _finish(incident)
    return order


def _segment(incident: NibrsIncident, number: int, line: str) -> None:
    problems = incident.problems
    declared = LENGTH.of(line)
    if not is_number(declared):
        problems.append(LENGTH.problem(number, declared, "is not a length"))
        return
    if len(line) > int(declared):
        problems.append(
            f"line {number} is {len(line)} characters long, but columns 1-4 say {int(declared)}: "
            "its fields would not line up"
        )
        return
    line = line.ljust(int(declared))  # some systems trim the trailing blanks
    level = LEVEL.of(line)
    if level not in LEVELS:
        problems.append(LEVEL.problem(number, level, "is not a segment level (0-7)"))
        return
    if level in LENGTHS and int(declared) not in LENGTHS[level]:
        allowed = " or ".join(map(str, sorted(LENGTHS[level])))
        why = f"is not a length of a level {level} segment ({allowed})"
        problems.append(LENGTH.problem(number, declared, why))
        return
    if not incident.number:
        problems.append(INCIDENT.problem(number, INCIDENT.of(line), "is blank"))
        return
    if level in GROUP_B_AND_ZERO:
        incident.passed_over = "a zero report or a group B arrest: nobody to tell"
        return
    action = ACTION.of(line)
    if level == ADMINISTRATIVE:
        incident.action = action
    elif action != incident.action and incident.action:
        why = f"differs from the incident's ({incident.action})"
        problems.append(ACTION.problem(number, action, why))
    reader = _READERS.get(level)
    if reader is not None:
        reader(incident, number, line)


def _administrative(incident: NibrsIncident, number: int, line: str) -> None:
    if incident.action not in {"I", "R", "D"}:
        incident.problems.append(ACTION.problem(number, incident.action, "is not I, R or D"))
    if incident.action == "D":
        return
    day, hour = INCIDENT_DATE.of(line), HOUR.of(line)
    try:
        date = dt.datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        incident.problems.append(INCIDENT_DATE.problem(number, day, "is not a date (YYYYMMDD)"))
        return
    if hour.strip():
        if not is_number(hour) or int(hour) > 23:
            incident.problems.append(HOUR.problem(number, hour, "is not an hour (00-23)"))
            return
        incident.occurred = dt.datetime.combine(date, dt.time(int(hour)))
    else:
        incident.occurred = date
    indicator = REPORT_DATE.of(line)
    if indicator not in {"R", " "}:
        incident.problems.append(REPORT_DATE.problem(number, indicator, "is not R or blank"))
    incident.date_is_report_date = indicator == "R"


def _offense(incident: NibrsIncident, number: int, line: str) -> None:
    code = OFFENSE_CODE.of(line)
    if not _OFFENSE_CODE.fullmatch(code):
        incident.problems.append(OFFENSE_CODE.problem(number, code, "is not an offense code"))
    elif ATTEMPTED.of(line) not in {"A", "C"}:
        incident.problems.append(ATTEMPTED.problem(number, ATTEMPTED.of(line), "is not A or C"))
    else:
        incident.offenses.append(code)


def _victim(incident: NibrsIncident, number: int, line: str) -> None:
    problems = incident.problems
    seq = VICTIM_SEQ.of(line)
    if not is_number(seq):
        problems.append(VICTIM_SEQ.problem(number, seq, "is not a sequence number"))
        return
    for column in VICTIM_OFFENSES:
        code = column.of(line)
        if code.strip() and not _OFFENSE_CODE.fullmatch(code):
            problems.append(column.problem(number, code, "is not an offense code"))
            return
    category = VICTIM_TYPE.of(line)
    if category not in VICTIM_TYPES:
        problems.append(VICTIM_TYPE.problem(number, category, "is not a type of victim"))
        return
    age = VICTIM_AGE.of(line)
    if age.strip() and not _AGE.fullmatch(age):
        problems.append(VICTIM_AGE.problem(number, age, "is not an age, a range or NN/NB/BB/00"))
        return
    victim = NibrsVictim(int(seq), category, _age(age))
    codes = relationship_codes()
    for seq_column, code_column in RELATIONSHIPS:
        offender, code = seq_column.of(line), code_column.of(line)
        if not offender.strip() and not code.strip():
            continue
        if not is_number(offender):
            problems.append(seq_column.problem(number, offender, "is not an offender number"))
            return
        if code.casefold() not in codes:
            problems.append(code_column.problem(number, code, "is not a relationship code"))
            return
        victim.relationships.append((int(offender), code.upper()))
    incident.victims.append(victim)


def _offender(incident: NibrsIncident, number: int, line: str) -> None:
    seq = OFFENDER_SEQ.of(line)
    if not is_number(seq):
        incident.problems.append(OFFENDER_SEQ.problem(number, seq, "is not a sequence number"))
        return
    if int(seq):  # 00: the offender is unknown, and nobody to be related to
        incident.offenders.append(int(seq))


def _arrestee(incident: NibrsIncident, number: int, line: str) -> None:
    day = ARREST_DATE.of(line)
    try:
        date = dt.datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        incident.problems.append(ARREST_DATE.problem(number, day, "is not a date (YYYYMMDD)"))
        return
    incident.arrests.append((ARREST_NUMBER.of(line).strip() or day, date))


def _age(text: str) -> Age:
    if text.strip() in {"NN", "NB", "BB"}:
        return Age(0, 0)
    if not text.strip() or text.strip() == "00":
        return Age(None, None)
    if is_number(text):  # a range, e.g. 2530
        return Age(int(text[:2]), int(text[2:]))
    return Age(int(text[:2]), int(text[:2]))


def _finish(incident: NibrsIncident) -> None:
    if incident.problems or incident.passed_over or not incident.number:
        return
    if not incident.action:
        incident.problems.append("no administrative segment (level 1)")
    elif incident.action != "D" and not incident.offenses:
        incident.problems.append("no offense segment (level 2)")


_READERS: dict[str, Callable[[NibrsIncident, int, str], None]] = {
    ADMINISTRATIVE: _administrative,
    OFFENSE: _offense,
    VICTIM: _victim,
    OFFENDER: _offender,
    ARRESTEE: _arrestee,
}
