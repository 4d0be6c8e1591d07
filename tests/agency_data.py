"""A small agency for tests: two divisions (one not live yet), a few offenses in English and
Spanish, including excluded ones. Tests build on it with `make_agency`."""

from __future__ import annotations

import copy
from typing import Any

_TEXT_EN = {
    "explanation": "Someone took property that was not theirs.",
    "explanation_short": "Someone took property that was not theirs.",
    "next_steps": "A detective reviews every report with leads. Keep receipts and serial numbers.",
    "next_steps_short": "A detective reviews reports with leads.",
}
_TEXT_ES = {
    "explanation": "Alguien tomó una propiedad que no era suya.",
    "explanation_short": "Alguien tomó una propiedad que no era suya.",
    "next_steps": "Un detective revisa cada reporte con pistas. Guarde recibos y números de serie.",
    "next_steps_short": "Un detective revisa los reportes con pistas.",
}


def _offense(
    code: str, title: str, title_es: str, category: str = "", section: str = "PROP"
) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "sensitive_category": category,
        "section": section,
        "texts": {"en": {"title": title, **_TEXT_EN}, "es": {"title": title_es, **_TEXT_ES}},
    }


AGENCY: dict[str, Any] = {
    "agency": {
        "slug": "testville",
        "name": "Testville Police Department",
        "short_name": "Testville Police",
        "timezone": "America/Phoenix",
        "phone_region": "US",
        "default_language": "en",
        "sender_name": "Testville Police Department",
        "sender_email": "notify@testville.example",
        "reply_to": "victims@testville.example",
        "sms_from": "+15205550100",
        "public_base_url": "https://notify.testville.example",
        "post_approval_delay_minutes": 0,
        "quiet_hours_start": None,
        "quiet_hours_end": None,
    },
    "languages": {
        "en": {
            "statutory_notice": (
                "If no arrest is made within 30 days you may ask for the case status."
            )
        },
        "es": {"statutory_notice": "Si no hay arresto en 30 días puede pedir el estado del caso."},
    },
    "divisions": [
        {
            "code": "W",
            "name": "West",
            "substation_name": "Westside Substation",
            "substation_phone": "+15205550101",
            "go_live_date": "2020-01-01",
        },
        {
            "code": "E",
            "name": "East",
            "substation_name": "Eastside Substation",
            "substation_phone": "+15205550102",
            "go_live_date": "2099-01-01",
        },
    ],
    "sections": [
        {
            "code": "PROP",
            "name": "Property Crimes",
            "phone": "+15205550150",
            "hours": "Mon-Fri 8-5",
        },
        {"code": "SVU", "name": "Special Victims", "phone": "+15205550151", "hours": ""},
    ],
    "offenses": [
        _offense("23F", "Theft From Motor Vehicle", "Robo de un vehículo"),
        _offense("220", "Burglary", "Robo con allanamiento"),
        _offense("13B", "Simple Assault", "Agresión simple"),
        _offense("11A", "Rape", "Violación", "sexual_offense", "SVU"),
        _offense("DV", "Domestic Violence", "Violencia doméstica", "domestic_violence", "SVU"),
        _offense("09A", "Murder", "Homicidio", "death", "SVU"),
    ],
}


def agency_data(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(AGENCY)
    data["agency"].update(overrides)
    return data
