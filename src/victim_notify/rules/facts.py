"""Reading the facts the eligibility rules need from stored reports and parties."""

from __future__ import annotations

from collections.abc import Iterable

from victim_notify.agencies.config import AgencyConfig
from victim_notify.intake.models import Party, Report
from victim_notify.rules.eligibility import UNKNOWN_OFFENSE, PartyFacts, ReportFacts


def party_facts(party: Party, contact_values: dict[int, str]) -> PartyFacts:
    return PartyFacts(
        party_id=party.party_id,
        role=party.role,
        kind=party.kind,
        phone=contact_values.get(party.phone_id) if party.phone_id else None,
        phone_invalid=party.phone_invalid,
        phone_is_landline=party.phone_is_landline,
        email=contact_values.get(party.email_id) if party.email_id else None,
        email_invalid=party.email_invalid,
        date_of_birth=party.date_of_birth,
        juvenile=party.juvenile,
        relationships=tuple((r["party_id"], r["code"]) for r in party.relationships),
        do_not_contact=party.do_not_contact,
        preferred_channel=party.preferred_channel,
    )


def report_facts(
    report: Report, parties: Iterable[Party], config: AgencyConfig, contact_values: dict[int, str]
) -> ReportFacts:
    division = config.division_by_id.get(report.division_id)
    return ReportFacts(
        status=report.status,
        reported_on=report.reported_at.astimezone(config.zone).date(),
        division_code=division.code if division else "?",
        division_go_live=division.go_live_date if division else None,
        offense_categories=tuple(
            (code, config.offenses[code].category if code in config.offenses else UNKNOWN_OFFENSE)
            for code in report.offense_codes
        ),
        domestic_violence=report.domestic_violence,
        do_not_notify=report.do_not_notify,
        parties=tuple(party_facts(p, contact_values) for p in parties if not p.removed),
        approved_before=report.approved_at is not None,
    )
