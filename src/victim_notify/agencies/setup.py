"""Creating or updating an agency and its configuration from a description (a dict, as in
demo/demo_data/agency.json). Used by the demo and by `victim-notify agency load FILE`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from victim_notify.agencies.models import (
    Agency,
    AgencyLanguage,
    Division,
    InvestigativeSection,
    OffenseCode,
    OffenseText,
)
from victim_notify.messages.defaults import install_default_templates


@transaction.atomic
def load_agency(data: dict[str, Any]) -> Agency:
    fields = dict(data["agency"])
    slug = fields.pop("slug")
    agency, _ = Agency.objects.update_or_create(slug=slug, defaults=fields)
    agency.full_clean()

    for language, texts in data.get("languages", {}).items():
        AgencyLanguage.objects.update_or_create(
            agency=agency,
            language=language,
            defaults={"statutory_notice": texts.get("statutory_notice", "")},
        )
    for division in data.get("divisions", []):
        values = dict(division)
        code = values.pop("code")
        if values.get("go_live_date"):
            values["go_live_date"] = dt.date.fromisoformat(values["go_live_date"])
        Division.objects.update_or_create(agency=agency, code=code, defaults=values)
    sections = {}
    for section in data.get("sections", []):
        values = dict(section)
        code = values.pop("code")
        sections[code], _ = InvestigativeSection.objects.update_or_create(
            agency=agency, code=code, defaults=values
        )
    for offense in data.get("offenses", []):
        row, _ = OffenseCode.objects.update_or_create(
            agency=agency,
            code=offense["code"],
            defaults={
                "title": offense["title"],
                "sensitive_category": offense.get("sensitive_category", ""),
                "group": offense.get("group", ""),
                "section": sections[offense["section"]],
            },
        )
        for language, words in offense.get("texts", {}).items():
            OffenseText.objects.update_or_create(offense=row, language=language, defaults=words)
    install_default_templates(agency, list(data.get("languages", {})) or None)
    return agency
