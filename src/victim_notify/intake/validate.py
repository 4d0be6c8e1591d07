"""From a raw record to a report we can store, or the list of what is wrong with it.

Errors carry an RFC 6901 JSON pointer to the field. A bad phone number or email address does
not stop the record: the party is kept without it and the problem is recorded as a warning,
because the rest of the record (and the other channel) is still good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from victim_notify.agencies.config import AgencyConfig
from victim_notify.contacts.normalise import normalise_email, normalise_phone
from victim_notify.intake.schema import PartyIn, ReportIn

# Clocks drift between an RMS and us; a report from a little in the future is not an error.
CLOCK_SKEW = dt.timedelta(minutes=10)
_STATUS_LENGTH = 40  # Report.status
_RELATIONSHIP_CODES = frozenset(
    "AQ BE BG CF EE ER XR XS OF CH GC GP IL PA SB SE CS SC SP SS FR NE OK RU ST VO".split()
)


@dataclass(frozen=True)
class FieldError:
    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message}


@dataclass
class ValidParty:
    party_id: str
    role: str
    kind: str
    first_name: str
    last_name: str
    business_name: str
    phone: str | None
    phone_invalid: bool
    phone_is_landline: bool
    email: str | None
    email_invalid: bool
    language: str
    date_of_birth: dt.date | None
    juvenile: bool | None
    relationships: list[dict[str, str]]


@dataclass
class ValidReport:
    report_number: str
    status: str
    reported_at: dt.datetime
    occurred_at: dt.datetime | None
    officer_name: str
    officer_badge: str
    division_code: str
    offenses: list[str]
    domestic_violence: bool
    do_not_notify: bool
    parties: list[ValidParty]
    warnings: list[FieldError] = field(default_factory=list)
    detective_name: str = ""
    detective_phone: str = ""

    def payload(self) -> dict[str, Any]:
        """The canonical stored form; equal payloads mean an identical re-send."""
        payload: dict[str, Any] = {
            "report_number": self.report_number,
            "status": self.status,
            "reported_at": self.reported_at.isoformat(),
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "officer": {"name": self.officer_name, "badge": self.officer_badge},
            "division": self.division_code,
            "offenses": self.offenses,
            "domestic_violence": self.domestic_violence,
            "do_not_notify": self.do_not_notify,
            "parties": [
                {
                    "party_id": p.party_id,
                    "role": p.role,
                    "kind": p.kind,
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "business_name": p.business_name,
                    "phone": p.phone,
                    "phone_invalid": p.phone_invalid,
                    "email": p.email,
                    "email_invalid": p.email_invalid,
                    "language": p.language,
                    "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
                    "juvenile": p.juvenile,
                    "relationships": p.relationships,
                }
                for p in self.parties
            ],
        }
        # Only when given, so a report stored before reports named detectives hashes the same.
        if self.detective_name:
            payload["detective"] = {"name": self.detective_name, "phone": self.detective_phone}
        return payload

    def content_hash(self) -> str:
        canonical = json.dumps(
            self.payload(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def pointer(loc: tuple[int | str, ...]) -> str:
    return (
        "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)
        if loc
        else ""
    )


def _schema_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors(include_url=False):
        loc = tuple(
            p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        elif error["type"] == "missing":
            message = "required"
        errors.append(FieldError(pointer(loc), message))
    return errors


def parse_datetime(text: str, config: AgencyConfig) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=config.zone)
    return value.astimezone(dt.UTC)


def validate_record(
    raw: Any, config: AgencyConfig, now: dt.datetime
) -> ValidReport | list[FieldError]:
    if not isinstance(raw, dict):
        return [FieldError("", "each record must be a JSON object")]
    try:
        record = ReportIn.model_validate(raw)
    except ValidationError as exc:
        return _schema_errors(exc)

    errors: list[FieldError] = []
    warnings: list[FieldError] = []

    def when(text: str | None, where: str, required: bool) -> dt.datetime | None:
        if not text:
            if required:
                errors.append(FieldError(where, "required"))
            return None
        try:
            value = parse_datetime(text, config)
        except ValueError:
            errors.append(
                FieldError(where, "not an ISO 8601 date and time, e.g. 2026-12-03T21:15:00")
            )
            return None
        except OverflowError:  # e.g. year 9999 moved to UTC
            errors.append(FieldError(where, "is out of range"))
            return None
        if value > now + CLOCK_SKEW:
            errors.append(FieldError(where, "is in the future"))
            return None
        if value.year < 1970:
            errors.append(FieldError(where, "is implausibly old"))
            return None
        return value

    reported_at = when(record.reported_at, "/reported_at", True)
    occurred_at = when(record.occurred_at, "/occurred_at", False)
    if reported_at and occurred_at and occurred_at > reported_at + CLOCK_SKEW:
        errors.append(FieldError("/occurred_at", "is after the report was made"))

    if record.division not in config.divisions:
        errors.append(FieldError("/division", f"unknown division {record.division!r}"))
    for index, code in enumerate(record.offenses):
        if code not in config.offenses:
            errors.append(FieldError(f"/offenses/{index}", f"unknown offense code {code!r}"))

    party_ids = [p.party_id for p in record.parties]
    parties: list[ValidParty] = []
    for index, party in enumerate(record.parties):
        if party_ids.index(party.party_id) != index:
            errors.append(FieldError(f"/parties/{index}/party_id", "appears twice on this report"))
        parties.append(_party(party, index, party_ids, config, now, errors, warnings))

    # Lower-casing can lengthen text ("İ" becomes two characters): check what will be stored.
    status = record.status.strip().lower()
    if len(status) > _STATUS_LENGTH:
        errors.append(
            FieldError(
                "/status", f"too long once lower-cased (at most {_STATUS_LENGTH} characters)"
            )
        )

    detective_phone = ""
    if record.detective is not None and record.detective.phone:
        normalised = normalise_phone(record.detective.phone, config.agency.phone_region)
        if normalised.value is None:
            warnings.append(
                FieldError(
                    "/detective/phone",
                    f"{normalised.error or 'not a phone'}; the section's phone is given instead",
                )
            )
        detective_phone = normalised.value or ""

    if errors or reported_at is None:
        return errors
    return ValidReport(
        report_number=record.report_number,
        status=status,
        reported_at=reported_at,
        occurred_at=occurred_at,
        officer_name=record.officer.name,
        officer_badge=record.officer.badge,
        division_code=record.division,
        offenses=list(record.offenses),
        domestic_violence=record.domestic_violence,
        do_not_notify=record.do_not_notify,
        parties=parties,
        warnings=warnings,
        detective_name=record.detective.name.strip() if record.detective else "",
        detective_phone=detective_phone,
    )


def _party(
    party: PartyIn,
    index: int,
    party_ids: list[str],
    config: AgencyConfig,
    now: dt.datetime,
    errors: list[FieldError],
    warnings: list[FieldError],
) -> ValidParty:
    at = f"/parties/{index}"
    if (
        party.kind == "person"
        and not (party.first_name or party.last_name)
        and party.role != "suspect"
    ):
        warnings.append(
            FieldError(f"{at}/last_name", "no name given; messages will not greet by name")
        )
    if party.kind == "business" and not party.business_name:
        errors.append(FieldError(f"{at}/business_name", "required for a business"))

    phone = normalise_phone(party.phone, config.agency.phone_region)
    if phone.error:
        warnings.append(FieldError(f"{at}/phone", f"{phone.error}; kept without a phone"))
    email = normalise_email(party.email)
    if email.error:
        warnings.append(
            FieldError(f"{at}/email", "not a valid email address; kept without an email")
        )

    language = party.language.strip().lower()[:2]
    if party.language and language not in config.languages:
        warnings.append(
            FieldError(
                f"{at}/language",
                f"the agency does not write in {party.language!r}; using its default",
            )
        )

    date_of_birth = None
    if party.date_of_birth:
        try:
            date_of_birth = dt.date.fromisoformat(party.date_of_birth)
        except ValueError:
            errors.append(FieldError(f"{at}/date_of_birth", "not a date in the form YYYY-MM-DD"))
        else:
            if date_of_birth > now.astimezone(config.zone).date():
                errors.append(FieldError(f"{at}/date_of_birth", "is in the future"))
                date_of_birth = None

    relationships = []
    for r_index, rel in enumerate(party.relationships):
        where = f"{at}/relationships/{r_index}"
        code = rel.code.upper()
        if code not in _RELATIONSHIP_CODES:
            errors.append(
                FieldError(f"{where}/code", f"unknown NIBRS relationship code {rel.code!r}")
            )
        if rel.party_id not in party_ids:
            errors.append(
                FieldError(f"{where}/party_id", f"no party {rel.party_id!r} on this report")
            )
        relationships.append({"party_id": rel.party_id, "code": code})

    return ValidParty(
        party_id=party.party_id,
        role=party.role,
        kind=party.kind,
        first_name=party.first_name,
        last_name=party.last_name,
        business_name=party.business_name,
        phone=phone.value,
        phone_invalid=phone.error is not None,
        phone_is_landline=phone.landline,
        email=email.value,
        email_invalid=email.error is not None,
        language=language if language in config.languages else "",
        date_of_birth=date_of_birth,
        juvenile=party.juvenile,
        relationships=relationships,
    )
