"""Turning what an RMS holds into a contact we can match: E.164 phones, canonical emails."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email


@dataclass(frozen=True)
class Normalised:
    value: str | None
    error: str | None = None
    landline: bool = False


def normalise_phone(raw: str, region: str) -> Normalised:
    text = raw.strip()
    if not text:
        return Normalised(None)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return Normalised(None, f"not a phone number ({exc.args[0] if exc.args else 'unreadable'})")
    # number_type() is UNKNOWN exactly when is_valid_number() is false; asking once halves the
    # cost, which for +1 numbers means matching against every NANP region's patterns.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return Normalised(None, "not a valid phone number for its region")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Normalised(e164, landline=kind == phonenumbers.PhoneNumberType.FIXED_LINE)


def normalise_email(raw: str) -> Normalised:
    text = raw.strip()
    if not text:
        return Normalised(None)
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return Normalised(None, str(exc))
    # Mailbox names are case-insensitive at every provider victims use; matching opt-outs
    # must not depend on how a clerk typed them.
    return Normalised(info.normalized.lower())


@lru_cache(maxsize=4096)
def display_phone(e164: str) -> str:
    """A phone as people in its country write it, e.g. (520) 555-0101."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
