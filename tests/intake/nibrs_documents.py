"""NIBRS instance documents for tests, written the way the FBI's NIBRS IEPD 2019.1 lays them
out (the element order and namespaces of its sample documents, in
tests/intake/samples/nibrs/), and flat-file segments at the FBI's column positions; plus the
contacts feed that goes with them. People are generated with Faker."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import timezone
from faker import Faker

SAMPLES = Path(__file__).parent / "samples" / "nibrs"

_NAMESPACES = """xmlns:nibrs="http://fbi.gov/cjis/nibrs/2019"
	xmlns:cjis="http://fbi.gov/cjis/2.0"
	xmlns:j="http://release.niem.gov/niem/domains/jxdm/5.2/"
	xmlns:nc="http://release.niem.gov/niem/niem-core/3.0/"
	xmlns:s="http://release.niem.gov/niem/structures/3.0/"
	xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance\""""


@dataclass
class Victim:
    seq: int
    category: str = "I"  # Element 25
    age: str = "34"  # a number, "25-30", or NEONATAL/NEWBORN/BABY/UNKNOWN
    # (offender sequence number, the IEPD's relationship value, e.g. "Family Member_Spouse")
    relationships: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Incident:
    number: str
    offenses: list[str] = field(default_factory=lambda: ["23F"])
    victims: list[Victim] = field(default_factory=lambda: [Victim(1)])
    offenders: list[int] = field(default_factory=lambda: [1])
    occurred: dt.datetime = dt.datetime(2026, 12, 1, 21, 0)
    action: str = "I"
    category: str = "GROUP A INCIDENT REPORT"
    extra: str = ""  # more XML inside the report, e.g. an agency's extension element


def _age_xml(age: str) -> str:
    if "-" in age:
        low, _, high = age.partition("-")
        return (
            "<nc:MeasureIntegerRange><nc:RangeMaximumIntegerValue>"
            f"{escape(high)}</nc:RangeMaximumIntegerValue><nc:RangeMinimumIntegerValue>"
            f"{escape(low)}"
            "</nc:RangeMinimumIntegerValue></nc:MeasureIntegerRange>"
        )
    if age.isdigit():
        return f"<nc:MeasureIntegerValue>{age}</nc:MeasureIntegerValue>"
    return f"<nc:MeasureValueText>{escape(age)}</nc:MeasureValueText>"


def report_xml(incident: Incident) -> str:
    parts = [
        "<nibrs:Report>",
        "<nibrs:ReportHeader>",
        f"<nibrs:NIBRSReportCategoryCode>{escape(incident.category)}</nibrs:NIBRSReportCategoryCode>",
        f"<nibrs:ReportActionCategoryCode>{escape(incident.action)}</nibrs:ReportActionCategoryCode>",
        "<nibrs:ReportDate><nc:YearMonthDate>2026-12</nc:YearMonthDate></nibrs:ReportDate>",
        "<nibrs:ReportingAgency><j:OrganizationAugmentation><j:OrganizationORIIdentification>"
        "<nc:IdentificationID>AZ0000000</nc:IdentificationID></j:OrganizationORIIdentification>"
        "</j:OrganizationAugmentation></nibrs:ReportingAgency>",
        "</nibrs:ReportHeader>",
        "<nc:Incident>",
        "<nc:ActivityIdentification>",
        f"<nc:IdentificationID>{escape(incident.number)}</nc:IdentificationID>",
        "</nc:ActivityIdentification>",
        f"<nc:ActivityDate><nc:DateTime>{incident.occurred.isoformat()}</nc:DateTime>"
        "</nc:ActivityDate>",
        "<cjis:IncidentAugmentation><cjis:IncidentReportDateIndicator>false"
        "</cjis:IncidentReportDateIndicator></cjis:IncidentAugmentation>",
        "</nc:Incident>",
    ]
    for n, code in enumerate(incident.offenses, start=1):
        parts.append(
            f'<j:Offense s:id="Offense{n}"><nibrs:OffenseUCRCode>{code}</nibrs:OffenseUCRCode>'
            "<j:OffenseAttemptedIndicator>false</j:OffenseAttemptedIndicator></j:Offense>"
        )
    for victim in incident.victims:
        if victim.category in {"I", "L"}:
            parts.append(
                f'<nc:Person s:id="PersonVictim{victim.seq}"><nc:PersonAgeMeasure>'
                f"{_age_xml(victim.age)}</nc:PersonAgeMeasure>"
                "<j:PersonSexCode>F</j:PersonSexCode></nc:Person>"
            )
    for seq in incident.offenders:
        parts.append(
            f'<nc:Person s:id="PersonSubject{seq}"><j:PersonSexCode>M</j:PersonSexCode></nc:Person>'
        )
    for victim in incident.victims:
        person = (
            f'<nc:RoleOfPerson s:ref="PersonVictim{victim.seq}"/>'
            if victim.category in {"I", "L"}
            else ""
        )
        parts.append(
            f'<j:Victim s:id="Victim{victim.seq}">{person}'
            f"<j:VictimSequenceNumberText>{victim.seq}</j:VictimSequenceNumberText>"
            f"<j:VictimCategoryCode>{escape(victim.category)}</j:VictimCategoryCode></j:Victim>"
        )
    for seq in incident.offenders:
        parts.append(
            f'<j:Subject s:id="Subject{seq}"><nc:RoleOfPerson s:ref="PersonSubject{seq}"/>'
            f"<j:SubjectSequenceNumberText>{seq}</j:SubjectSequenceNumberText></j:Subject>"
        )
    parts.append(incident.extra)
    for victim in incident.victims:
        parts.append(
            '<j:OffenseVictimAssociation><j:Offense s:ref="Offense1"/>'
            f'<j:Victim s:ref="Victim{victim.seq}"/></j:OffenseVictimAssociation>'
        )
    for victim in incident.victims:
        for offender, relationship in victim.relationships:
            parts.append(
                f'<j:SubjectVictimAssociation><j:Subject s:ref="Subject{offender}"/>'
                f'<j:Victim s:ref="Victim{victim.seq}"/><nibrs:VictimToSubjectRelationshipCode>'
                f"{escape(relationship)}</nibrs:VictimToSubjectRelationshipCode>"
                "</j:SubjectVictimAssociation>"
            )
    parts.append("</nibrs:Report>")
    return "\n".join(parts)


def submission_xml(*incidents: Incident) -> bytes:
    """One submission holding each incident's report, as a batch from an RMS would."""
    body = "\n".join(report_xml(i) for i in incidents)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<nibrs:Submission {_NAMESPACES}>\n'
        "<cjis:MessageMetadata><cjis:MessageDateTime>2026-12-02T03:00:00"
        "</cjis:MessageDateTime></cjis:MessageMetadata>\n"
        f"{body}\n</nibrs:Submission>\n"
    ).encode()


# The flat file: (first column, value) pieces placed at the FBI's 1-based positions.
def segment(level: str, action: str, number: str, length: int, *fields: tuple[int, str]) -> str:
    line = [" "] * length
    head = f"{length:04d}{level}{action}122026    AZ0000000{number:<12}"
    line[: len(head)] = head
    for first, value in fields:
        line[first - 1 : first - 1 + len(value)] = value
    return "".join(line)


_FLAT_RELATIONSHIPS = {
    "Family Member_Spouse": "SE",
    "Boyfriend_Girlfriend": "BG",
    "Acquaintance": "AQ",
    "Stranger": "ST",
    "Family Member_Parent": "PA",
}


def flat_incident(incident: Incident) -> list[str]:
    n = incident.number
    a = incident.action
    when = incident.occurred
    lines = [segment("1", a, n, 87, (38, f"{when:%Y%m%d}"), (47, f"{when:%H}"), (49, "N"))]
    if a == "D":
        return lines
    lines += [
        segment("2", a, n, 63, (38, code), (41, "C"), (45, "13")) for code in incident.offenses
    ]
    for victim in incident.victims:
        age = {"BABY": "BB", "NEWBORN": "NB", "NEONATAL": "NN", "UNKNOWN": "00"}.get(
            victim.age, victim.age.replace("-", "")
        )
        links = "".join(
            f"{offender:02d}{_FLAT_RELATIONSHIPS[value]}"
            for offender, value in victim.relationships
        )
        lines.append(
            segment(
                "4",
                a,
                n,
                129,
                (38, f"{victim.seq:03d}"),
                (41, incident.offenses[0]),
                (71, victim.category),
                (72, age if victim.category in {"I", "L"} else ""),
                (90, links),
            )
        )
    lines += [
        segment("5", a, n, 45, (38, f"{seq:02d}"), (40, "30  "), (44, "M"))
        for seq in incident.offenders
    ]
    return lines


def flat_file(*incidents: Incident) -> bytes:
    return "".join(line + "\n" for i in incidents for line in flat_incident(i)).encode("latin-1")


def contacts_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    columns = list(dict.fromkeys(["incident_number", *(k for row in rows for k in row)]))
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def contacts_for(
    incident: Incident, reported_at: str, fake: Faker | None = None, **incident_columns: str
) -> list[dict[str, str]]:
    """A contacts row for every victim of the incident, with generated people."""
    fake = fake or Faker(["en_US", "es_MX"])
    rows = []
    for victim in incident.victims:
        row = {
            "incident_number": incident.number,
            "victim_seq": str(victim.seq),
            "officer_name": "Ofc. " + fake.last_name(),
            "officer_badge": str(fake.random_int(1000, 9999)),
            "division": "W",
            "reported_at": reported_at,
        }
        if victim.category in {"I", "L", "U"}:
            row |= {
                "first_name": fake.first_name(),
                "last_name": fake.last_name(),
                "phone": f"+1520555{fake.random_int(100, 199):04d}",
                "email": fake.unique.email(),
            }
        else:
            row["business_name"] = fake.company()
        rows.append(row | incident_columns)
    # The officer is one person for the whole incident.
    for row in rows[1:]:
        row["officer_name"], row["officer_badge"] = (
            rows[0]["officer_name"],
            rows[0]["officer_badge"],
        )
    return rows


def recently(hours: int = 2) -> str:
    """A report time a little while ago, as the contacts feed gives it."""
    return (timezone.now() - dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()
