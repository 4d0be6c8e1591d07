"""The shape of a report record, as the API, JSON Lines files and CSV files deliver it.

This checks types and sizes only; what the values mean (known offense codes, dates not in the
future, phone numbers) is checked in `validate.py` against the agency's configuration.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _storable(value: str) -> str:
    # Databases refuse NUL characters, and lone surrogates cannot be encoded as UTF-8: both
    # would fail at storage time, far from the field that carried them.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains characters that are not valid Unicode") from None
    return value


Storable = AfterValidator(_storable)


def _text(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length)


class Strict(BaseModel):
    # A misspelt field such as "do_not_notfy" must not be silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RelationshipIn(Strict):
    party_id: Annotated[str, _text(40, 1), Storable] = Field(
        description="The other party on this report."
    )
    code: Annotated[str, _text(4, 2), Storable] = Field(
        description="NIBRS victim-to-offender relationship code, e.g. ST or BG."
    )


class PartyIn(Strict):
    party_id: Annotated[str, _text(40, 1), Storable] = Field(
        description="The RMS's key for this person on this report."
    )
    role: Literal["victim", "reporting_party", "guardian", "suspect", "witness"]
    kind: Literal["person", "business"] = "person"
    first_name: Annotated[str, _text(100), Storable] = ""
    last_name: Annotated[str, _text(100), Storable] = ""
    business_name: Annotated[str, _text(200), Storable] = ""
    phone: Annotated[str, _text(40), Storable] = ""
    email: Annotated[str, _text(320), Storable] = ""
    language: Annotated[str, _text(8), Storable] = ""
    date_of_birth: Annotated[str, _text(10), Storable] | None = Field(
        default=None, description="YYYY-MM-DD"
    )
    juvenile: bool | None = None
    relationships: list[RelationshipIn] = Field(default_factory=list, max_length=50)


class OfficerIn(Strict):
    name: Annotated[str, _text(120, 1), Storable]
    badge: Annotated[str, _text(20), Storable] = ""


class DetectiveIn(Strict):
    name: Annotated[str, _text(120, 1), Storable]
    phone: Annotated[str, _text(40), Storable] = ""


class ReportIn(Strict):
    report_number: Annotated[str, _text(40, 1), Storable]
    status: Annotated[str, _text(40, 1), Storable]
    reported_at: Annotated[str, _text(40, 1), Storable] = Field(
        description="ISO 8601. Without an offset it is read in the agency's time zone."
    )
    occurred_at: Annotated[str, _text(40), Storable] | None = None
    officer: OfficerIn
    division: Annotated[str, _text(20, 1), Storable]
    offenses: list[Annotated[str, _text(20, 1), Storable]] = Field(
        min_length=1, max_length=20, description="Most serious first."
    )
    domestic_violence: bool = False
    do_not_notify: bool = False
    parties: list[PartyIn] = Field(min_length=1, max_length=100)
    detective: DetectiveIn | None = Field(
        default=None,
        description="The detective the case is assigned to, once it is: a version that names a "
        "new one tells the victims.",
    )
