"""NIBRS XML (the FBI's NIBRS IEPD 2019.1, NIEM 3.0) read into incidents.

Only what we need is looked for, by its place in the IEPD (see docs/intake.md): anything else
in the document, an agency's own extension elements included, is left alone. A report that
lacks something we need is held back with what is missing; the other reports of the file go
on. When the agency has the FBI's schema (VN_NIBRS_SCHEMA), the document is checked against
it as well, and whatever does not follow it is kept as a warning on the report it is in.

The document is parsed without fetching anything and without expanding entities, so a file
cannot make us read local files or the network.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from lxml import etree

from victim_notify.intake.connectors.nibrs import (
    VICTIM_TYPES,
    Age,
    NibrsIncident,
    NibrsVictim,
    is_number,
    relationship_code,
)
from victim_notify.intake.files import UnreadableFile

NS = {
    "nibrs": "http://fbi.gov/cjis/nibrs/2019",
    "cjis": "http://fbi.gov/cjis/2.0",
    "j": "http://release.niem.gov/niem/domains/jxdm/5.2/",
    "nc": "http://release.niem.gov/niem/niem-core/3.0/",
    "s": "http://release.niem.gov/niem/structures/3.0/",
}
GROUP_A = "GROUP A INCIDENT REPORT"
_ID = f"{{{NS['s']}}}id"
_REF = f"{{{NS['s']}}}ref"
_BABY = {"NEONATAL", "NEWBORN", "BABY"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@cache
def load_schema(path: str) -> etree.XMLSchema:
    """The schema at `path`, with what it imports from beside it; never from the network."""
    try:
        return etree.XMLSchema(etree.parse(path, _parser()))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise UnreadableFile(f"the NIBRS schema {path} cannot be used: {exc}") from exc


def read_nibrs_xml(data: bytes, schema_path: str | None = None) -> list[NibrsIncident]:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(f"not well-formed XML: {exc.msg}") from exc
    reports = list(root.iter(f"{{{NS['nibrs']}}}Report"))
    if not reports:
        raise UnreadableFile(
            "no NIBRS report in it (nibrs:Report, in the namespace "
            f"{NS['nibrs']}, the FBI's NIBRS IEPD 2019)"
        )
    incidents = [_incident(report) for report in reports]
    if schema_path:
        _check_schema(root, schema_path, incidents)
    return incidents


def read_nibrs_xml_file(path: Path, schema_path: str | None = None) -> list[NibrsIncident]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    return read_nibrs_xml(data, schema_path)


def _check_schema(root: etree._Element, schema_path: str, incidents: list[NibrsIncident]) -> None:
    schema = load_schema(schema_path)
    if schema.validate(etree.ElementTree(root)):
        return
    starts = [incident.line for incident in incidents]
    for error in schema.error_log:
        message = f"does not follow the FBI schema at line {error.line}: {error.message}"
        # Each error belongs to the report it is in; one before the first report to them all.
        owners = [i for i, start in enumerate(starts) if start <= error.line]
        for index in owners[-1:] if owners else range(len(incidents)):
            incidents[index].warnings.append(message)


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def _incident(report: etree._Element) -> NibrsIncident:
    line = report.sourceline or 0
    incident = NibrsIncident(
        where=f"report at line {line}",
        line=line,
        raw=etree.tostring(report, encoding="unicode"),
        number=_text(report, "nc:Incident/nc:ActivityIdentification/nc:IdentificationID"),
        action=_text(report, "nibrs:ReportHeader/nibrs:ReportActionCategoryCode").upper(),
    )
    category = _text(report, "nibrs:ReportHeader/nibrs:NIBRSReportCategoryCode")
    if category.upper() != GROUP_A:
        incident.passed_over = (
            f"{category or 'a report of no category'}, not a group A incident: nobody to tell"
        )
        return incident
    problems = incident.problems
    if not incident.number:
        problems.append("no incident number (nc:Incident/nc:ActivityIdentification)")
    if incident.action not in {"I", "R", "D"}:
        problems.append(
            f"report action {incident.action!r} is not I, R or D "
            "(nibrs:ReportHeader/nibrs:ReportActionCategoryCode)"
        )
    if incident.action == "D":
        return incident

    when = _text(report, "nc:Incident/nc:ActivityDate/nc:DateTime")
    day = _text(report, "nc:Incident/nc:ActivityDate/nc:Date")
    try:
        if when:
            incident.occurred = dt.datetime.fromisoformat(when)
        elif day:
            incident.occurred = dt.date.fromisoformat(day)
    except ValueError:
        problems.append(f"incident date {when or day!r} is not a date (nc:ActivityDate)")
    augmentation = "nc:Incident/cjis:IncidentAugmentation"
    indicator = _text(report, f"{augmentation}/cjis:IncidentReportDateIndicator")
    incident.date_is_report_date = indicator.lower() in {"true", "1"}

    for offense in report.findall("j:Offense", NS):
        code = _text(offense, "nibrs:OffenseUCRCode")
        if code:
            incident.offenses.append(code.upper())
        else:
            problems.append(f"an offense at line {offense.sourceline} has no nibrs:OffenseUCRCode")
    if not report.findall("j:Offense", NS):
        problems.append("no offense (j:Offense)")

    # Read for every person, but only a victim's age matters (and only a victim's is checked).
    ages = {person.get(_ID): _age(person) for person in report.findall("nc:Person", NS)}
    victims: dict[str | None, NibrsVictim] = {}
    for element in report.findall("j:Victim", NS):
        victim = _victim(element, ages, problems)
        if victim is not None:
            victims[element.get(_ID)] = victim
            incident.victims.append(victim)
    subjects: dict[str | None, int] = {}
    for element in report.findall("j:Subject", NS):
        seq = _text(element, "j:SubjectSequenceNumberText")
        if is_number(seq):
            subjects[element.get(_ID)] = int(seq)
            incident.offenders.append(int(seq))
        else:
            problems.append(f"an offender at line {element.sourceline} has sequence number {seq!r}")
    for arrest in report.findall("j:Arrest", NS):
        number = _text(arrest, "nc:ActivityIdentification/nc:IdentificationID")
        day = (
            _text(arrest, "nc:ActivityDate/nc:Date")
            or _text(arrest, "nc:ActivityDate/nc:DateTime")[:10]
        )
        try:
            incident.arrests.append((number or day, dt.date.fromisoformat(day)))
        except ValueError:
            problems.append(f"the arrest at line {arrest.sourceline} has no date (nc:ActivityDate)")
    for link in report.findall("j:SubjectVictimAssociation", NS):
        subject = link.find("j:Subject", NS)
        victim_ref = link.find("j:Victim", NS)
        offender = subjects.get(subject.get(_REF) if subject is not None else None)
        linked = victims.get(victim_ref.get(_REF) if victim_ref is not None else None)
        code = _text(link, "nibrs:VictimToSubjectRelationshipCode")
        if offender is None or linked is None or not code:
            problems.append(
                f"the victim-offender relationship at line {link.sourceline} does not name a "
                "victim, an offender and a relationship of this report"
            )
            continue
        two_letters = relationship_code(code)
        if two_letters is None:
            problems.append(
                f"the relationship {code!r} at line {link.sourceline} is not one of NIBRS's "
                "(nibrs:VictimToSubjectRelationshipCode)"
            )
            continue
        linked.relationships.append((offender, two_letters))
    return incident


def _victim(
    element: etree._Element, ages: dict[str | None, Age | str], problems: list[str]
) -> NibrsVictim | None:
    seq = _text(element, "j:VictimSequenceNumberText")
    category = _text(element, "j:VictimCategoryCode").upper()
    if not is_number(seq):
        problems.append(f"a victim at line {element.sourceline} has sequence number {seq!r}")
        return None
    if category not in VICTIM_TYPES:
        problems.append(
            f"victim {int(seq)} has type {category!r}, not one of "
            f"{', '.join(sorted(VICTIM_TYPES))} (j:VictimCategoryCode)"
        )
        return None
    person = element.find("nc:RoleOfPerson", NS)
    age = ages.get(person.get(_REF)) if person is not None else None
    if isinstance(age, str):
        problems.append(f"victim {int(seq)}: {age}")
        return None
    return NibrsVictim(int(seq), category, age or Age(None, None))


def _age(person: etree._Element) -> Age | str:
    """The person's age, or what is wrong with it."""
    measure = person.find("nc:PersonAgeMeasure", NS)
    if measure is None:
        return Age(None, None)
    value = _text(measure, "nc:MeasureIntegerValue")
    word = _text(measure, "nc:MeasureValueText").upper()
    low = _text(measure, "nc:MeasureIntegerRange/nc:RangeMinimumIntegerValue")
    high = _text(measure, "nc:MeasureIntegerRange/nc:RangeMaximumIntegerValue")
    if value:
        if is_number(value):
            return Age(int(value), int(value))
    elif word in _BABY:
        return Age(0, 0)
    elif word == "UNKNOWN":
        return Age(None, None)
    elif is_number(low) and is_number(high):
        return Age(int(low), int(high))
    return (
        f"the age at line {measure.sourceline} is not a number, a range, or "
        "NEONATAL/NEWBORN/BABY/UNKNOWN"
    )
