"""Who may be told about a report, on which channel, and why not.

Pure functions over plain facts: no database, no clock. The same function decides at intake
and again at hand-off, so an amendment, an opt-out or a hold that arrives in between wins.
When anything is unclear the answer is not to send, with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from victim_notify.rules.reasons import Reason

SMS = "sms"
EMAIL = "email"
CHANNELS = (SMS, EMAIL)
# The category of an offense code the agency no longer configures: never sent.
UNKNOWN_OFFENSE = "unknown"

# Who is written to first when several parties share one phone or email.
_ROLE_ORDER = {"victim": 0, "guardian": 1, "reporting_party": 2}


@dataclass(frozen=True)
class PartyFacts:
    party_id: str
    role: str
    kind: str = "person"
    phone: str | None = None
    phone_invalid: bool = False
    phone_is_landline: bool = False
    email: str | None = None
    email_invalid: bool = False
    date_of_birth: dt.date | None = None
    juvenile: bool | None = None
    relationships: tuple[tuple[str, str], ...] = ()  # (other party_id, NIBRS code)
    do_not_contact: bool = False  # set by the agency's staff
    preferred_channel: str = ""  # chosen by the person: "sms", "email" or either


@dataclass(frozen=True)
class ReportFacts:
    status: str
    reported_on: dt.date  # in the agency's time zone
    division_code: str
    division_go_live: dt.date | None
    offense_categories: tuple[tuple[str, str], ...]  # (offense code, sensitive category or "")
    domestic_violence: bool
    do_not_notify: bool
    parties: tuple[PartyFacts, ...]
    approved_before: bool = False  # an earlier version was approved


@dataclass(frozen=True)
class Policy:
    approved_statuses: frozenset[str]
    excluded_categories: frozenset[str]
    dv_relationship_codes: frozenset[str]
    adult_age: int = 18
    notify_businesses: bool = False
    notify_reporting_parties: bool = True
    sms_enabled: bool = True
    email_enabled: bool = True
    email_only_without_text: bool = False
    # Statuses an approved report moves on to (cleared by arrest, closed): they still allow
    # messages about a report that was approved, never about one that was not.
    later_statuses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """The decision for one party, on one channel (or on none: `channel is None`)."""

    party_id: str
    channel: str | None
    send: bool
    reasons: tuple[Reason, ...]
    contact: str | None = None  # the phone or email written to
    on_behalf_of: str | None = None  # party_id of the minor a guardian is told about

    @property
    def reason_codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


@dataclass
class _ReportVerdict:
    reasons: list[Reason] = field(default_factory=list)
    flag_for_advocate: bool = False


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - before_birthday


def is_minor(party: PartyFacts, policy: Policy, day: dt.date) -> bool | None:
    """True or False when known; None when the record says nothing about age. Either the date
    of birth or the juvenile flag saying minor is enough: when they disagree, one is wrong, and
    we cannot tell which."""
    if party.date_of_birth is not None and age_on(party.date_of_birth, day) < policy.adult_age:
        return True
    if party.juvenile:
        return True
    if party.date_of_birth is not None or party.juvenile is not None:
        return False
    return None


def report_reasons(report: ReportFacts, policy: Policy, as_if_live: bool = False) -> list[Reason]:
    """Reasons that stop every message about this report. Empty when the report may notify.
    `as_if_live` leaves out the division's go-live date: who would be told once it is live
    (a phased rollout surveys them too, as its comparison group)."""
    reasons: list[Reason] = []
    moved_on = report.approved_before and report.status in policy.later_statuses
    if report.status not in policy.approved_statuses and not moved_on:
        reasons.append(Reason("report_not_approved", status=report.status))
    if report.do_not_notify:
        reasons.append(Reason("do_not_notify"))
    if "domestic_violence" in policy.excluded_categories:
        if report.domestic_violence:
            reasons.append(Reason("domestic_violence_flag"))
        dv_links = _dv_relationship_codes(report, policy)
        if dv_links:
            reasons.append(Reason("domestic_violence_relationship", codes=", ".join(dv_links)))
    for offense, category in report.offense_categories:
        if category == UNKNOWN_OFFENSE:
            reasons.append(Reason("unknown_offense", offense=offense))
        elif category and category in policy.excluded_categories:
            reasons.append(Reason(f"excluded_offense_{category}", offense=offense))
    if not as_if_live and (
        report.division_go_live is None or report.reported_on < report.division_go_live
    ):
        reasons.append(
            Reason(
                "division_not_live",
                division=report.division_code,
                go_live=report.division_go_live.isoformat()
                if report.division_go_live
                else "not set",
            )
        )
    return reasons


def _dv_relationship_codes(report: ReportFacts, policy: Policy) -> list[str]:
    """Configured codes that link a suspect with a party we would write to, recorded on either
    side, in any letter case. A link to a party no longer on the report counts: it may have been
    the suspect. Family links between victims and reporting parties or guardians do not."""
    configured = {code.strip().upper() for code in policy.dv_relationship_codes}
    roles = {party.party_id: party.role for party in report.parties}
    found: set[str] = set()
    for party in report.parties:
        for other_id, code in party.relationships:
            if (
                _links_suspect(party.role, roles.get(other_id))
                and code.strip().upper() in configured
            ):
                found.add(code.strip().upper())
    return sorted(found)


def _links_suspect(role: str, other_role: str | None) -> bool:
    """A suspect at one end and someone we would write to at the other. A party no longer on the
    report (None) may have been either."""
    suspect_end = {"suspect", None}
    told_end = {*_ROLE_ORDER, None}
    return (role in suspect_end and other_role in told_end) or (
        role in told_end and other_role in suspect_end
    )


def _suspect_contacts(report: ReportFacts) -> set[str]:
    contacts: set[str] = set()
    for party in report.parties:
        if party.role == "suspect":
            contacts.update(c for c in (party.phone, party.email) if c)
    return contacts


def _party_reasons(
    party: PartyFacts, report: ReportFacts, policy: Policy, minors_needing_guardian: list[str]
) -> list[Reason]:
    """Reasons this party may not be written to at all, on any channel."""
    reasons: list[Reason] = []
    if party.role == "suspect":
        return [Reason("suspect")]
    if party.role not in _ROLE_ORDER:
        return [Reason("role_not_notified", role=party.role)]
    if party.do_not_contact:
        reasons.append(Reason("staff_do_not_contact"))
    if party.role == "reporting_party" and not policy.notify_reporting_parties:
        reasons.append(Reason("reporting_parties_off"))
    if party.role == "guardian" and not minors_needing_guardian:
        reasons.append(Reason("guardian_of_no_minor"))
    if party.kind == "business" and not policy.notify_businesses:
        reasons.append(Reason("business"))
    if party.kind == "person" and is_minor(party, policy, report.reported_on):
        if party.role != "victim":  # a guardian is only told about a minor victim
            reasons.append(Reason("minor_not_victim"))
        elif any(p.role == "guardian" for p in report.parties):
            reasons.append(Reason("minor"))
        else:
            reasons.append(Reason("minor_without_guardian"))
    if _shares_contact_with_suspect(party, report):
        reasons.append(Reason("shares_contact_with_suspect"))
    return reasons


def _shares_contact_with_suspect(party: PartyFacts, report: ReportFacts) -> bool:
    return party.role != "suspect" and bool(
        {c for c in (party.phone, party.email) if c} & _suspect_contacts(report)
    )


def decide_report(
    report: ReportFacts,
    policy: Policy,
    opted_out: Iterable[str] = (),
    undeliverable: Iterable[str] = (),
    as_if_live: bool = False,
) -> tuple[list[Outcome], bool]:
    """Decide every party on the report. Returns the outcomes and whether a victim advocate
    should look at the report (a safety rule held a message that a person may need to deliver)."""
    opted_out = set(opted_out)
    undeliverable = set(undeliverable)
    blocking = report_reasons(report, policy, as_if_live)
    minors = [
        p.party_id
        for p in report.parties
        if p.role == "victim" and p.kind == "person" and is_minor(p, policy, report.reported_on)
    ]
    outcomes: list[Outcome] = []
    flag_for_advocate = False
    used_contacts: dict[str, str] = {}  # contact -> party_id already written to on this report

    ordered = sorted(report.parties, key=lambda p: (_ROLE_ORDER.get(p.role, 9), p.party_id))
    for party in ordered:
        if party.role in _ROLE_ORDER and _shares_contact_with_suspect(party, report):
            # Flagged even when the report is excluded anyway: the advocate needs to know.
            flag_for_advocate = True
        if blocking and party.role in _ROLE_ORDER:
            outcomes.append(Outcome(party.party_id, None, False, tuple(blocking)))
            continue
        held = _party_reasons(party, report, policy, minors)
        if held:
            outcomes.append(Outcome(party.party_id, None, False, tuple(held)))
            continue
        notes: list[Reason] = []
        on_behalf_of = None
        if party.role == "guardian":
            on_behalf_of = minors[0]
            notes.append(Reason("guardian_of_minor", minor=", ".join(minors)))
        if is_minor(party, policy, report.reported_on) is None and party.kind == "person":
            notes.append(Reason("assumed_adult"))
        for channel in CHANNELS:
            if (
                channel == EMAIL
                and policy.email_only_without_text
                and party.email is not None
                and outcomes
                and outcomes[-1].party_id == party.party_id
                and outcomes[-1].send
            ):
                outcomes.append(
                    Outcome(party.party_id, EMAIL, False, (Reason("text_first"),), party.email)
                )
                continue
            outcomes.append(
                _channel_outcome(
                    party,
                    channel,
                    policy,
                    opted_out,
                    undeliverable,
                    used_contacts,
                    notes,
                    on_behalf_of,
                )
            )
    return outcomes, flag_for_advocate


def _channel_outcome(
    party: PartyFacts,
    channel: str,
    policy: Policy,
    opted_out: set[str],
    undeliverable: set[str],
    used_contacts: dict[str, str],
    notes: list[Reason],
    on_behalf_of: str | None,
) -> Outcome:
    if channel == SMS:
        contact, enabled, invalid = party.phone, policy.sms_enabled, party.phone_invalid
    else:
        contact, enabled, invalid = party.email, policy.email_enabled, party.email_invalid
    reasons: list[Reason] = []
    if not enabled:
        reasons.append(Reason("channel_off", channel=channel))
    if party.preferred_channel and party.preferred_channel != channel:
        reasons.append(Reason("prefers_other_channel", channel=party.preferred_channel))
    if contact is None or invalid:  # an invalid value that was kept anyway is still invalid
        reasons.append(
            Reason(
                f"invalid_{'phone' if channel == SMS else 'email'}"
                if invalid
                else f"no_{'phone' if channel == SMS else 'email'}"
            )
        )
    elif channel == SMS and party.phone_is_landline:
        reasons.append(Reason("landline"))
    if contact is not None and contact in opted_out:
        reasons.append(Reason("opted_out", channel=channel))
    if contact is not None and contact in undeliverable:
        reasons.append(Reason("contact_undeliverable"))
    if contact is not None and contact in used_contacts and not reasons:
        reasons.append(Reason("same_contact_as_other_party", other=used_contacts[contact]))
    if reasons:
        return Outcome(party.party_id, channel, False, tuple(reasons), contact)
    assert contact is not None
    used_contacts[contact] = party.party_id
    return Outcome(
        party.party_id, channel, True, (Reason("eligible"), *notes), contact, on_behalf_of
    )
