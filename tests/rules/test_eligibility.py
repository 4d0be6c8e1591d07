"""Who may be told about a report, on which channel, and why not: table tests over
`decide_report`, one table per rule, then the combinations, then properties for random reports.

Every report starts from one that sends: an approved theft in a live division, one adult victim
with a valid mobile phone and an email. Each case changes only what its rule is about.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from victim_notify.agencies.models import DEFAULT_DV_RELATIONSHIPS, SensitiveCategory
from victim_notify.rules.eligibility import (
    EMAIL,
    SMS,
    UNKNOWN_OFFENSE,
    Outcome,
    PartyFacts,
    Policy,
    ReportFacts,
    decide_report,
    report_reasons,
)
from victim_notify.rules.reasons import Reason, known_codes, sentence

REPORT_DAY = dt.date(2026, 12, 1)
ADULT_DOB = dt.date(1980, 5, 17)
CHILD_DOB = dt.date(2014, 3, 9)  # 12 on the report date

V_PHONE, V_EMAIL = "+15205550134", "ana@example.org"
RP_PHONE, RP_EMAIL = "+15205550188", "rp@example.org"
G_PHONE, G_EMAIL = "+15205550199", "parent@example.org"
S_PHONE, S_EMAIL = "+15205550666", "suspect@example.org"

POLICY = Policy(
    approved_statuses=frozenset({"approved"}),
    excluded_categories=frozenset(SensitiveCategory.values),
    dv_relationship_codes=frozenset(DEFAULT_DV_RELATIONSHIPS),
)

# Every NIBRS victim-to-offender relationship code (victim_offender_relationship_codes.csv)
# and whether the issue calls it domestic violence: spouses, common-law and ex-spouses,
# boyfriends and girlfriends and former ones, the child of either, and family.
NIBRS_RELATIONSHIPS = {
    "AQ": ("acquaintance", False),
    "BE": ("babysittee", False),
    "BG": ("boyfriend or girlfriend", True),
    "CF": ("child of boyfriend or girlfriend", True),
    "EE": ("employee", False),
    "ER": ("employer", False),
    "XR": ("ex-boyfriend or ex-girlfriend", True),
    "XS": ("ex-spouse", True),
    "OF": ("other family member", True),
    "CH": ("child", True),
    "GC": ("grandchild", True),
    "GP": ("grandparent", True),
    "IL": ("in-law", True),
    "PA": ("parent", True),
    "SB": ("sibling", True),
    "SE": ("spouse", True),
    "CS": ("common-law spouse", True),
    "SC": ("step-child", True),
    "SP": ("step-parent", True),
    "SS": ("step-sibling", True),
    "FR": ("friend", False),
    "NE": ("neighbor", False),
    "OK": ("otherwise known", False),
    "RU": ("relationship unknown", False),
    "ST": ("stranger", False),
    "VO": ("victim was offender", False),
}


def victim(party_id: str = "V1", **changes: Any) -> PartyFacts:
    values: dict[str, Any] = {"phone": V_PHONE, "email": V_EMAIL, "date_of_birth": ADULT_DOB}
    values.update(changes)
    return PartyFacts(party_id, "victim", **values)


def child(party_id: str = "V1", **changes: Any) -> PartyFacts:
    values: dict[str, Any] = {"phone": None, "email": None, "date_of_birth": CHILD_DOB}
    values.update(changes)
    return PartyFacts(party_id, "victim", **values)


def guardian(party_id: str = "G1", **changes: Any) -> PartyFacts:
    values: dict[str, Any] = {"phone": G_PHONE, "email": G_EMAIL, "date_of_birth": ADULT_DOB}
    values.update(changes)
    return PartyFacts(party_id, "guardian", **values)


def reporting_party(party_id: str = "R1", **changes: Any) -> PartyFacts:
    values: dict[str, Any] = {"phone": RP_PHONE, "email": RP_EMAIL, "date_of_birth": ADULT_DOB}
    values.update(changes)
    return PartyFacts(party_id, "reporting_party", **values)


def suspect(party_id: str = "S1", **changes: Any) -> PartyFacts:
    values: dict[str, Any] = {"phone": S_PHONE, "email": S_EMAIL, "date_of_birth": ADULT_DOB}
    values.update(changes)
    return PartyFacts(party_id, "suspect", **values)


def witness(party_id: str = "W1", **changes: Any) -> PartyFacts:
    values: dict[str, Any] = {"phone": "+15205550177", "email": "w@example.org"}
    values.update(changes)
    return PartyFacts(party_id, "witness", **values)


def report(*parties: PartyFacts, **changes: Any) -> ReportFacts:
    values: dict[str, Any] = {
        "status": "approved",
        "reported_on": REPORT_DAY,
        "division_code": "W",
        "division_go_live": dt.date(2026, 1, 1),
        "offense_categories": (("23F", ""),),
        "domestic_violence": False,
        "do_not_notify": False,
        "parties": parties or (victim(),),
    }
    values.update(changes)
    return ReportFacts(**values)


def policy(**changes: Any) -> Policy:
    return dataclasses.replace(POLICY, **changes)


def outcome(outcomes: list[Outcome], party_id: str, channel: str | None) -> Outcome:
    found = [o for o in outcomes if o.party_id == party_id and o.channel == channel]
    assert len(found) == 1, f"expected one outcome for {party_id}/{channel}, got {outcomes}"
    return found[0]


def sent(outcomes: list[Outcome]) -> set[tuple[str, str | None]]:
    return {(o.party_id, o.channel) for o in outcomes if o.send}


def reason_codes_of(outcomes: list[Outcome], party_id: str) -> set[str]:
    return {code for o in outcomes if o.party_id == party_id for code in o.reason_codes}


# ---------------------------------------------------------------------------------------------
# The report that every table starts from sends, on both channels.


def test_plain_adult_victim_gets_a_text_and_an_email() -> None:
    outcomes, flag = decide_report(report(), POLICY)
    assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL)}
    assert outcome(outcomes, "V1", SMS).contact == V_PHONE
    assert outcome(outcomes, "V1", EMAIL).contact == V_EMAIL
    assert outcome(outcomes, "V1", SMS).reason_codes == ["eligible"]
    assert flag is False


# ---------------------------------------------------------------------------------------------
# Reasons that stop every message about a report.

REPORT_LEVEL = [
    pytest.param({"status": "draft"}, {}, "report_not_approved", id="status-not-approved"),
    pytest.param({"status": "returned"}, {}, "report_not_approved", id="status-returned"),
    pytest.param(
        {}, {"approved_statuses": frozenset()}, "report_not_approved", id="no-status-approved"
    ),
    pytest.param({"do_not_notify": True}, {}, "do_not_notify", id="officer-do-not-notify"),
    pytest.param({"domestic_violence": True}, {}, "domestic_violence_flag", id="dv-flag"),
    *[
        pytest.param(
            {"offense_categories": (("X1", category),)},
            {},
            f"excluded_offense_{category}",
            id=f"offense-{category}",
        )
        for category in SensitiveCategory.values
    ],
    pytest.param(
        {"offense_categories": (("23F", ""), ("11A", "sexual_offense"))},
        {},
        "excluded_offense_sexual_offense",
        id="second-offense-excluded",
    ),
    pytest.param(
        {"offense_categories": (("99Z", UNKNOWN_OFFENSE),)},
        {},
        "unknown_offense",
        id="offense-unknown",
    ),
    pytest.param(
        {"offense_categories": (("99Z", UNKNOWN_OFFENSE),)},
        {"excluded_categories": frozenset()},
        "unknown_offense",
        id="offense-unknown-even-with-nothing-excluded",
    ),
    pytest.param(
        {"division_go_live": REPORT_DAY + dt.timedelta(days=1)},
        {},
        "division_not_live",
        id="go-live-day-after-report",
    ),
    pytest.param({"division_go_live": None}, {}, "division_not_live", id="go-live-not-set"),
]


@pytest.mark.parametrize(("report_changes", "policy_changes", "code"), REPORT_LEVEL)
def test_report_level_reason_stops_every_party(
    report_changes: dict[str, Any], policy_changes: dict[str, Any], code: str
) -> None:
    facts = report(
        victim(), reporting_party(), child("V2"), guardian(), suspect(), witness(), **report_changes
    )
    outcomes, _ = decide_report(facts, policy(**policy_changes))
    assert sent(outcomes) == set()
    for party_id in ("V1", "R1", "V2", "G1"):
        held = outcome(outcomes, party_id, None)
        assert code in held.reason_codes
        # The report-level reason is the whole story: no party-level reason is mixed in.
        assert not {"minor", "minor_without_guardian", "guardian_of_no_minor"} & set(
            held.reason_codes
        )
    assert outcome(outcomes, "S1", None).reason_codes == ["suspect"]


REPORT_MAY_NOTIFY = [
    pytest.param({"division_go_live": REPORT_DAY}, {}, id="go-live-on-report-date"),
    pytest.param(
        {"division_go_live": REPORT_DAY - dt.timedelta(days=1)}, {}, id="go-live-day-before"
    ),
    pytest.param({"offense_categories": (("23F", ""),)}, {}, id="offense-not-sensitive"),
    pytest.param(
        {"offense_categories": (("90A", "stalking"),)},
        {"excluded_categories": frozenset(SensitiveCategory.values) - {"stalking"}},
        id="agency-notifies-stalking",
    ),
    pytest.param(
        {"status": "closed"},
        {"approved_statuses": frozenset({"approved", "closed"})},
        id="second-approved-status",
    ),
]


@pytest.mark.parametrize(("report_changes", "policy_changes"), REPORT_MAY_NOTIFY)
def test_report_may_notify(report_changes: dict[str, Any], policy_changes: dict[str, Any]) -> None:
    outcomes, _ = decide_report(report(**report_changes), policy(**policy_changes))
    assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL)}
    assert report_reasons(report(**report_changes), policy(**policy_changes)) == []


def test_every_reason_that_stops_the_report_is_listed() -> None:
    facts = report(
        status="draft",
        do_not_notify=True,
        domestic_violence=True,
        offense_categories=(("13B", "stalking"), ("99Z", UNKNOWN_OFFENSE)),
        division_go_live=None,
    )
    outcomes, _ = decide_report(facts, POLICY)
    assert outcome(outcomes, "V1", None).reason_codes == [
        "report_not_approved",
        "do_not_notify",
        "domestic_violence_flag",
        "excluded_offense_stalking",
        "unknown_offense",
        "division_not_live",
    ]


# ---------------------------------------------------------------------------------------------
# Domestic violence from the victim-to-suspect relationship (NIBRS codes).


def test_default_dv_codes_are_exactly_the_family_and_intimate_nibrs_codes() -> None:
    expected = {code for code, (_, is_dv) in NIBRS_RELATIONSHIPS.items() if is_dv}
    assert set(DEFAULT_DV_RELATIONSHIPS) == expected


@pytest.mark.parametrize(
    ("code", "is_dv"),
    [
        pytest.param(code, is_dv, id=f"{code}-{words}")
        for code, (words, is_dv) in NIBRS_RELATIONSHIPS.items()
    ],
)
def test_victim_to_suspect_relationship(code: str, is_dv: bool) -> None:
    facts = report(victim(relationships=(("S1", code),)), suspect())
    outcomes, _ = decide_report(facts, POLICY)
    if is_dv:
        assert sent(outcomes) == set()
        held = outcome(outcomes, "V1", None)
        assert held.reason_codes == ["domestic_violence_relationship"]
        assert held.reasons[0].params["codes"] == code
    else:
        assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL)}


DV_RELATIONSHIP_CASES = [
    pytest.param(
        (victim(relationships=(("S1", "se"),)), suspect()), POLICY, True, id="code-lower-case"
    ),
    pytest.param(
        (victim(relationships=(("S1", "Bg"),)), suspect()), POLICY, True, id="code-mixed-case"
    ),
    pytest.param(
        (victim(relationships=(("S1", "SE"),)), suspect()),
        policy(dv_relationship_codes=frozenset({"se", "bg"})),
        True,
        id="policy-codes-lower-case",
    ),
    pytest.param(
        (victim(), suspect(relationships=(("V1", "SE"),))),
        POLICY,
        True,
        id="recorded-on-the-suspect",
    ),
    pytest.param(
        (victim(relationships=(("S9", "XS"),)), suspect()),
        POLICY,
        True,
        id="to-a-party-no-longer-on-the-report",
    ),
    pytest.param(
        (victim(relationships=(("S1", "ST"), ("S2", "XR"))), suspect(), suspect("S2")),
        POLICY,
        True,
        id="second-suspect-is-ex",
    ),
    pytest.param(
        (victim(relationships=(("S1", "SE"),)), suspect()),
        policy(excluded_categories=frozenset(SensitiveCategory.values) - {"domestic_violence"}),
        False,
        id="agency-does-not-exclude-dv",
    ),
    pytest.param(
        (victim(relationships=(("S1", "SE"),)), suspect()),
        policy(dv_relationship_codes=frozenset({"BG"})),
        False,
        id="code-not-configured",
    ),
    # A family link that does not involve a suspect is not domestic violence: a husband
    # reporting his wife's stolen car, a parent written to about their child.
    pytest.param(
        (victim(relationships=(("R1", "SE"),)), reporting_party()),
        POLICY,
        False,
        id="victim-spouse-of-reporting-party",
    ),
    pytest.param(
        (child(relationships=(("G1", "CH"),)), guardian()),
        POLICY,
        False,
        id="victim-child-of-guardian",
    ),
    pytest.param(
        (victim(relationships=(("V2", "SB"),)), victim("V2", phone=None, email="v2@example.org")),
        POLICY,
        False,
        id="two-victims-siblings",
    ),
    pytest.param(
        (
            victim(relationships=(("S1", "ST"),)),
            suspect(relationships=(("S2", "SB"),)),
            suspect("S2"),
        ),
        POLICY,
        False,
        id="suspects-siblings-victim-stranger",
    ),
]


@pytest.mark.parametrize(("parties", "rules", "is_dv"), DV_RELATIONSHIP_CASES)
def test_dv_relationship(parties: tuple[PartyFacts, ...], rules: Policy, is_dv: bool) -> None:
    outcomes, _ = decide_report(report(*parties), rules)
    codes = reason_codes_of(outcomes, "V1")
    if is_dv:
        assert "domestic_violence_relationship" in codes
        assert ("V1", SMS) not in sent(outcomes)
    else:
        assert "domestic_violence_relationship" not in codes
        assert ("V1", SMS) in sent(outcomes) or ("V1", EMAIL) in sent(outcomes) or "minor" in codes


# ---------------------------------------------------------------------------------------------
# Age: no direct message to a minor; age on the report date.

AGE_CASES = [
    pytest.param(
        {"date_of_birth": dt.date(2008, 12, 1)}, REPORT_DAY, None, False, id="18-on-birthday"
    ),
    pytest.param(
        {"date_of_birth": dt.date(2008, 12, 2)}, REPORT_DAY, None, True, id="17-day-before-birthday"
    ),
    pytest.param(
        {"date_of_birth": dt.date(2008, 11, 30)}, REPORT_DAY, None, False, id="18-and-a-day"
    ),
    pytest.param(
        {"date_of_birth": dt.date(2008, 2, 29)},
        dt.date(2026, 2, 28),
        None,
        True,
        id="leap-day-born-feb-28",
    ),
    pytest.param(
        {"date_of_birth": dt.date(2008, 2, 29)},
        dt.date(2026, 3, 1),
        None,
        False,
        id="leap-day-born-mar-1",
    ),
    pytest.param({"date_of_birth": dt.date(2026, 11, 1)}, REPORT_DAY, None, True, id="infant"),
    pytest.param(
        {"date_of_birth": None, "juvenile": True}, REPORT_DAY, None, True, id="juvenile-flag"
    ),
    pytest.param(
        {"date_of_birth": None, "juvenile": False}, REPORT_DAY, None, False, id="adult-flag"
    ),
    pytest.param(
        {"date_of_birth": None, "juvenile": None}, REPORT_DAY, None, False, id="nothing-known"
    ),
    pytest.param(
        {"date_of_birth": dt.date(2012, 1, 1), "juvenile": False},
        REPORT_DAY,
        None,
        True,
        id="dob-minor-flag-adult",
    ),
    # Safer reading: either source saying minor is enough.
    pytest.param(
        {"date_of_birth": ADULT_DOB, "juvenile": True},
        REPORT_DAY,
        None,
        True,
        id="dob-adult-flag-juvenile",
    ),
    pytest.param(
        {"date_of_birth": dt.date(2006, 1, 1)}, REPORT_DAY, 21, True, id="20-where-adult-age-21"
    ),
    pytest.param(
        {"date_of_birth": dt.date(2005, 12, 1)}, REPORT_DAY, 21, False, id="21-where-adult-age-21"
    ),
]


@pytest.mark.parametrize(("changes", "day", "adult_age", "minor"), AGE_CASES)
def test_age_on_report_date(
    changes: dict[str, Any], day: dt.date, adult_age: int | None, minor: bool
) -> None:
    rules = policy(adult_age=adult_age) if adult_age else POLICY
    outcomes, _ = decide_report(report(victim(**changes), reported_on=day), rules)
    if minor:
        assert sent(outcomes) == set()
        assert outcome(outcomes, "V1", None).reason_codes == ["minor_without_guardian"]
    else:
        assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL)}


@pytest.mark.parametrize(
    ("changes", "assumed"),
    [
        pytest.param({"date_of_birth": None, "juvenile": None}, True, id="neither-given"),
        pytest.param({"date_of_birth": None, "juvenile": False}, False, id="juvenile-false"),
        pytest.param({"date_of_birth": ADULT_DOB, "juvenile": None}, False, id="dob-given"),
    ],
)
def test_party_of_unknown_age_is_treated_as_adult_and_the_decision_says_so(
    changes: dict[str, Any], assumed: bool
) -> None:
    outcomes, _ = decide_report(report(victim(**changes)), POLICY)
    for channel in (SMS, EMAIL):
        decided = outcome(outcomes, "V1", channel)
        assert decided.send
        assert ("assumed_adult" in decided.reason_codes) is assumed
        if assumed:
            assert "treated as an adult" in sentence(True, channel, decided.reasons)


@pytest.mark.parametrize(
    "party",
    [
        pytest.param(reporting_party(date_of_birth=None), id="reporting-party"),
        pytest.param(guardian(date_of_birth=None), id="guardian"),
    ],
)
def test_other_parties_of_unknown_age_are_also_said_to_be_assumed_adults(party: PartyFacts) -> None:
    outcomes, _ = decide_report(report(child(), party), POLICY)
    decided = outcome(outcomes, party.party_id, SMS)
    assert decided.send
    assert "assumed_adult" in decided.reason_codes


def test_business_is_not_said_to_be_an_assumed_adult() -> None:
    biz = victim(kind="business", date_of_birth=None)
    outcomes, _ = decide_report(report(biz), policy(notify_businesses=True))
    assert outcome(outcomes, "V1", SMS).reason_codes == ["eligible"]


# ---------------------------------------------------------------------------------------------
# Parents and guardians of minor victims.


def test_guardian_is_written_to_instead_of_the_minor() -> None:
    outcomes, _ = decide_report(report(child(phone=V_PHONE), guardian()), POLICY)
    assert sent(outcomes) == {("G1", SMS), ("G1", EMAIL)}
    assert outcome(outcomes, "V1", None).reason_codes == ["minor"]
    for channel in (SMS, EMAIL):
        told = outcome(outcomes, "G1", channel)
        assert told.on_behalf_of == "V1"
        assert told.reason_codes == ["eligible", "guardian_of_minor"]
        assert "(party V1)" in sentence(True, channel, told.reasons)


def test_guardian_with_two_minor_victims_gets_one_text_and_one_email() -> None:
    facts = report(child("V1"), child("V2", juvenile=True, date_of_birth=None), guardian())
    outcomes, _ = decide_report(facts, POLICY)
    assert sent(outcomes) == {("G1", SMS), ("G1", EMAIL)}
    told = outcome(outcomes, "G1", SMS)
    assert told.on_behalf_of == "V1"
    assert told.reasons[1].params["minor"] == "V1, V2"
    assert outcome(outcomes, "V2", None).reason_codes == ["minor"]


def test_guardian_when_no_victim_is_a_minor_is_not_written_to() -> None:
    outcomes, _ = decide_report(report(victim(), guardian()), POLICY)
    assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL)}
    assert outcome(outcomes, "G1", None).reason_codes == ["guardian_of_no_minor"]


def test_minor_reporting_party_does_not_make_a_guardian_eligible() -> None:
    facts = report(victim(), reporting_party(date_of_birth=CHILD_DOB), guardian())
    outcomes, _ = decide_report(facts, POLICY)
    assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL)}
    assert outcome(outcomes, "G1", None).reason_codes == ["guardian_of_no_minor"]
    held = outcome(outcomes, "R1", None)
    assert held.reason_codes == ["minor_not_victim"]
    # Nobody is told in the minor reporting party's place, and the sentence must not claim it.
    assert "guardian is told" not in sentence(False, None, held.reasons)


def test_minor_victim_without_guardian_is_told_nothing() -> None:
    outcomes, flag = decide_report(report(child(phone=V_PHONE, email=V_EMAIL)), POLICY)
    assert sent(outcomes) == set()
    assert outcome(outcomes, "V1", None).reason_codes == ["minor_without_guardian"]
    assert flag is False


def test_guardian_who_is_a_minor_is_not_written_to() -> None:
    outcomes, _ = decide_report(
        report(child(), guardian(juvenile=True, date_of_birth=None)), POLICY
    )
    assert sent(outcomes) == set()
    assert "minor_not_victim" in outcome(outcomes, "G1", None).reason_codes


def test_guardian_sharing_the_minors_household_phone_gets_the_text() -> None:
    outcomes, _ = decide_report(report(child(phone=G_PHONE), guardian()), POLICY)
    assert outcome(outcomes, "G1", SMS).send
    assert outcome(outcomes, "G1", SMS).contact == G_PHONE


def test_guardian_sharing_a_suspects_phone_is_held_and_flagged() -> None:
    facts = report(child(), guardian(phone=S_PHONE), suspect())
    outcomes, flag = decide_report(facts, POLICY)
    assert sent(outcomes) == set()
    assert "shares_contact_with_suspect" in outcome(outcomes, "G1", None).reason_codes
    assert flag is True


def test_dv_and_minor_report_level_reason_wins() -> None:
    facts = report(
        child(relationships=(("S1", "PA"),)), guardian(), suspect(), domestic_violence=True
    )
    outcomes, _ = decide_report(facts, POLICY)
    assert sent(outcomes) == set()
    expected = ["domestic_violence_flag", "domestic_violence_relationship"]
    assert outcome(outcomes, "V1", None).reason_codes == expected
    assert outcome(outcomes, "G1", None).reason_codes == expected


# ---------------------------------------------------------------------------------------------
# Suspects, witnesses, and contacts a suspect shares.


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(report(suspect()), id="alone"),
        pytest.param(report(victim(), suspect()), id="with-victim"),
        pytest.param(report(suspect(juvenile=False, date_of_birth=None)), id="known-adult"),
        pytest.param(report(suspect(kind="business")), id="business"),
        pytest.param(report(child(), suspect(), guardian()), id="with-minor-and-guardian"),
        pytest.param(report(victim(phone=S_PHONE), suspect()), id="sharing-victims-phone"),
        pytest.param(report(suspect(), reporting_party()), id="with-reporting-party"),
    ],
)
@pytest.mark.parametrize(
    "rules",
    [
        pytest.param(POLICY, id="default-policy"),
        pytest.param(
            policy(notify_businesses=True, notify_reporting_parties=True), id="permissive-policy"
        ),
    ],
)
def test_suspect_is_never_written_to(facts: ReportFacts, rules: Policy) -> None:
    outcomes, _ = decide_report(facts, rules)
    assert outcome(outcomes, "S1", None).reason_codes == ["suspect"]
    assert not [o for o in outcomes if o.party_id == "S1" and o.send]


def test_witness_is_not_written_to() -> None:
    outcomes, _ = decide_report(report(victim(), witness()), POLICY)
    assert outcome(outcomes, "W1", None).reason_codes == ["role_not_notified"]
    assert "a witness is not notified" in sentence(
        False, None, outcome(outcomes, "W1", None).reasons
    )


SHARED_WITH_SUSPECT = [
    pytest.param(victim(phone=S_PHONE), "V1", id="victim-phone"),
    pytest.param(victim(email=S_EMAIL), "V1", id="victim-email"),
    pytest.param(victim(phone=S_PHONE, email=None), "V1", id="victim-phone-no-email"),
    pytest.param(reporting_party(phone=S_PHONE), "R1", id="reporting-party-phone"),
]


@pytest.mark.parametrize(("party", "held_id"), SHARED_WITH_SUSPECT)
def test_contact_shared_with_a_suspect_holds_the_party_and_flags_the_report(
    party: PartyFacts, held_id: str
) -> None:
    parties = (party, suspect()) if party.role == "victim" else (victim(), party, suspect())
    outcomes, flag = decide_report(report(*parties), POLICY)
    held = outcome(outcomes, held_id, None)
    assert held.reason_codes == ["shares_contact_with_suspect"]
    # Held on every channel: the other contact may be read by the suspect too.
    assert not [o for o in outcomes if o.party_id == held_id and o.send]
    assert flag is True


def test_no_flag_when_no_contact_is_shared() -> None:
    _, flag = decide_report(report(victim(), suspect()), POLICY)
    assert flag is False


def test_shared_contact_on_an_excluded_report_still_flags_for_an_advocate() -> None:
    # Safer reading: the advocate should hear of a suspect holding the victim's phone even when
    # the report is excluded anyway (here domestic violence).
    facts = report(victim(phone=S_PHONE), suspect(), domestic_violence=True)
    outcomes, flag = decide_report(facts, POLICY)
    assert sent(outcomes) == set()
    assert flag is True


# ---------------------------------------------------------------------------------------------
# Opt-outs, per contact and channel.

OPT_OUT = [
    pytest.param({V_PHONE}, {("V1", EMAIL)}, id="phone-opted-out-blocks-text-only"),
    pytest.param({V_EMAIL}, {("V1", SMS)}, id="email-opted-out-blocks-email-only"),
    pytest.param({V_PHONE, V_EMAIL}, set(), id="both-opted-out"),
    pytest.param({"+15205559999"}, {("V1", SMS), ("V1", EMAIL)}, id="someone-else-opted-out"),
]


@pytest.mark.parametrize(("opted_out", "expected"), OPT_OUT)
def test_opted_out_contact(opted_out: set[str], expected: set[tuple[str, str]]) -> None:
    outcomes, _ = decide_report(report(), POLICY, opted_out)
    assert sent(outcomes) == expected
    for o in outcomes:
        if o.contact in opted_out:
            assert "opted_out" in o.reason_codes


def test_household_phone_opted_out_blocks_every_party_on_it() -> None:
    facts = report(victim(email=None), reporting_party(phone=V_PHONE, email=None))
    outcomes, _ = decide_report(facts, POLICY, {V_PHONE})
    assert sent(outcomes) == set()
    assert "opted_out" in outcome(outcomes, "V1", SMS).reason_codes
    assert "opted_out" in outcome(outcomes, "R1", SMS).reason_codes


# ---------------------------------------------------------------------------------------------
# Businesses and reporting parties, by policy.

OPTIONAL_PARTIES = [
    pytest.param(victim(kind="business", date_of_birth=None), {}, "business", id="business-off"),
    pytest.param(
        victim(kind="business", date_of_birth=None),
        {"notify_businesses": True},
        None,
        id="business-on",
    ),
    pytest.param(reporting_party(), {}, None, id="reporting-party-on"),
    pytest.param(
        reporting_party(),
        {"notify_reporting_parties": False},
        "reporting_parties_off",
        id="reporting-party-off",
    ),
    pytest.param(
        reporting_party(kind="business", date_of_birth=None),
        {"notify_businesses": True, "notify_reporting_parties": False},
        "reporting_parties_off",
        id="business-reporting-party-off",
    ),
]


@pytest.mark.parametrize(("party", "policy_changes", "held_code"), OPTIONAL_PARTIES)
def test_optional_parties(
    party: PartyFacts, policy_changes: dict[str, Any], held_code: str | None
) -> None:
    outcomes, _ = decide_report(report(party), policy(**policy_changes))
    if held_code is None:
        assert sent(outcomes) == {(party.party_id, SMS), (party.party_id, EMAIL)}
    else:
        assert sent(outcomes) == set()
        assert held_code in outcome(outcomes, party.party_id, None).reason_codes


# ---------------------------------------------------------------------------------------------
# One message per contact per report.


def test_household_phone_shared_by_victim_and_reporting_party_gets_one_text() -> None:
    facts = report(reporting_party(phone=V_PHONE), victim())  # listed first, still written after
    outcomes, _ = decide_report(facts, POLICY)
    assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL), ("R1", EMAIL)}
    duplicate = outcome(outcomes, "R1", SMS)
    assert duplicate.reason_codes == ["same_contact_as_other_party"]
    assert duplicate.reasons[0].params["other"] == "V1"


def test_two_victims_on_one_phone_get_one_text() -> None:
    facts = report(victim("V2", email="v2@example.org"), victim("V1"))
    outcomes, _ = decide_report(facts, POLICY)
    assert sent(outcomes) == {("V1", SMS), ("V1", EMAIL), ("V2", EMAIL)}
    assert outcome(outcomes, "V2", SMS).reason_codes == ["same_contact_as_other_party"]


def test_guardian_before_reporting_party_on_a_shared_phone() -> None:
    facts = report(child(), reporting_party(phone=G_PHONE, email=G_EMAIL), guardian())
    outcomes, _ = decide_report(facts, POLICY)
    assert sent(outcomes) == {("G1", SMS), ("G1", EMAIL)}
    assert outcome(outcomes, "R1", SMS).reason_codes == ["same_contact_as_other_party"]
    assert outcome(outcomes, "R1", EMAIL).reason_codes == ["same_contact_as_other_party"]


def test_opted_out_email_is_refused_for_every_party_sharing_it() -> None:
    # The victim opted out of email only; the shared phone still reaches the household once.
    facts = report(victim(), reporting_party(phone=V_PHONE, email=V_EMAIL))
    outcomes, _ = decide_report(facts, POLICY, {V_EMAIL})
    assert sent(outcomes) == {("V1", SMS)}
    assert outcome(outcomes, "R1", EMAIL).reason_codes == ["opted_out"]


# ---------------------------------------------------------------------------------------------
# Contact details and channels.

CONTACT_CASES = [
    pytest.param({"phone": None}, SMS, ["no_phone"], id="no-phone"),
    pytest.param(
        {"phone": None, "phone_invalid": True}, SMS, ["invalid_phone"], id="invalid-phone"
    ),
    pytest.param({"phone_invalid": True}, SMS, ["invalid_phone"], id="invalid-phone-kept-anyway"),
    pytest.param({"phone_is_landline": True}, SMS, ["landline"], id="landline"),
    pytest.param({"email": None}, EMAIL, ["no_email"], id="no-email"),
    pytest.param(
        {"email": None, "email_invalid": True}, EMAIL, ["invalid_email"], id="invalid-email"
    ),
    pytest.param({"email_invalid": True}, EMAIL, ["invalid_email"], id="invalid-email-kept-anyway"),
]


@pytest.mark.parametrize(("changes", "blocked", "codes"), CONTACT_CASES)
def test_contact_problems_block_that_channel_only(
    changes: dict[str, Any], blocked: str, codes: list[str]
) -> None:
    outcomes, _ = decide_report(report(victim(**changes)), POLICY)
    other = EMAIL if blocked == SMS else SMS
    assert outcome(outcomes, "V1", blocked).reason_codes == codes
    assert not outcome(outcomes, "V1", blocked).send
    assert outcome(outcomes, "V1", other).send


def test_landline_still_gets_the_email() -> None:
    outcomes, _ = decide_report(report(victim(phone_is_landline=True)), POLICY)
    assert sent(outcomes) == {("V1", EMAIL)}


@pytest.mark.parametrize(
    ("policy_changes", "expected"),
    [
        pytest.param({"sms_enabled": False}, {("V1", EMAIL)}, id="texts-off"),
        pytest.param({"email_enabled": False}, {("V1", SMS)}, id="emails-off"),
        pytest.param({"sms_enabled": False, "email_enabled": False}, set(), id="both-off"),
    ],
)
def test_channel_turned_off(policy_changes: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    outcomes, _ = decide_report(report(), policy(**policy_changes))
    assert sent(outcomes) == expected
    for o in outcomes:
        if not o.send:
            assert "channel_off" in o.reason_codes


# ---------------------------------------------------------------------------------------------
# Every reason the rules produce reads as a sentence a supervisor understands.

# Everything decide_report can say, with the parameters each must carry.
PRODUCED: dict[str, set[str]] = {
    "eligible": set(),
    "assumed_adult": set(),
    "guardian_of_minor": {"minor"},
    "report_not_approved": {"status"},
    "do_not_notify": set(),
    "domestic_violence_flag": set(),
    "domestic_violence_relationship": {"codes"},
    "unknown_offense": {"offense"},
    "division_not_live": {"division", "go_live"},
    "suspect": set(),
    "role_not_notified": {"role"},
    "reporting_parties_off": set(),
    "guardian_of_no_minor": set(),
    "business": set(),
    "minor": set(),
    "minor_without_guardian": set(),
    "minor_not_victim": set(),
    "shares_contact_with_suspect": set(),
    "channel_off": {"channel"},
    "no_phone": set(),
    "invalid_phone": set(),
    "landline": set(),
    "no_email": set(),
    "invalid_email": set(),
    "opted_out": {"channel"},
    "same_contact_as_other_party": {"other"},
    "prefers_other_channel": {"channel"},
    **{f"excluded_offense_{category}": {"offense"} for category in SensitiveCategory.values},
}


def _all_table_outcomes() -> list[Outcome]:
    """Every outcome of a set of reports that between them trip every rule."""
    reports: list[tuple[ReportFacts, Policy, set[str]]] = []
    for case in REPORT_LEVEL:
        report_changes, policy_changes, _ = case.values
        reports.append(
            (report(victim(), witness(), **report_changes), policy(**policy_changes), set())
        )
    reports += [
        (report(victim(relationships=(("S1", "SE"),)), suspect()), POLICY, set()),
        (
            report(victim(date_of_birth=None), guardian(), reporting_party(phone=V_PHONE)),
            POLICY,
            set(),
        ),
        (report(child(), guardian()), POLICY, set()),
        (report(child(), reporting_party(date_of_birth=CHILD_DOB)), POLICY, set()),
        (report(victim(phone=S_PHONE), suspect()), POLICY, set()),
        (
            report(victim(kind="business"), reporting_party()),
            policy(notify_reporting_parties=False),
            set(),
        ),
        (
            report(
                victim(phone=None, email=None),
                victim("V2", phone_invalid=True, email_invalid=True, phone=None, email=None),
            ),
            POLICY,
            set(),
        ),
        (report(victim(phone_is_landline=True)), policy(email_enabled=False), {V_EMAIL}),
        (report(victim()), POLICY, {V_PHONE}),
        (report(victim(preferred_channel="email")), POLICY, set()),
    ]
    return [
        o for facts, rules, opted_out in reports for o in decide_report(facts, rules, opted_out)[0]
    ]


def test_the_tables_reach_every_reason_the_rules_produce() -> None:
    produced = {code for o in _all_table_outcomes() for code in o.reason_codes}
    assert produced == set(PRODUCED)


@pytest.mark.parametrize("code", sorted(PRODUCED))
def test_every_reason_code_has_a_real_sentence(code: str) -> None:
    assert code in known_codes()
    params = {name: f"<{name}>" for name in PRODUCED[code]}
    text = Reason(code, **params).describe()
    assert text.lower() != code.replace("_", " ").lower()
    assert not re.search(r"[{}]", text), text
    for value in params.values():
        assert value in text
    assert len(text.split()) >= 3


@pytest.mark.parametrize("category", SensitiveCategory.values)
def test_every_sensitive_category_has_words(category: str) -> None:
    assert f"excluded_offense_{category}" in known_codes()


def test_every_produced_outcome_reads_as_a_complete_sentence() -> None:
    for o in _all_table_outcomes():
        text = sentence(o.send, o.channel, o.reasons)
        assert not re.search(r"[{}]", text), text
        assert text.endswith(".")
        assert "_" not in text, text


@pytest.mark.parametrize(
    ("send", "channel", "reasons", "expected"),
    [
        pytest.param(
            True,
            SMS,
            (Reason("eligible"),),
            "Text to be sent: every rule allows it.",
            id="text-sent",
        ),
        pytest.param(
            True,
            EMAIL,
            (Reason("eligible"), Reason("assumed_adult")),
            "Email to be sent: every rule allows it; the record gives no date of birth or "
            "juvenile flag, so the person is treated as an adult.",
            id="email-sent-assumed-adult",
        ),
        pytest.param(
            False,
            SMS,
            (Reason("landline"),),
            "No text: the phone number is a landline.",
            id="no-text",
        ),
        pytest.param(
            False,
            EMAIL,
            (Reason("opted_out", channel="email"),),
            "No email: this contact opted out of email messages from the agency.",
            id="no-email-opted-out",
        ),
        pytest.param(
            False,
            SMS,
            (Reason("opted_out", channel="sms"),),
            "No text: this contact opted out of text messages from the agency.",
            id="no-text-opted-out-says-text-not-sms",
        ),
        pytest.param(
            False,
            SMS,
            (Reason("channel_off", channel="sms"),),
            "No text: the agency has text messages turned off.",
            id="texts-off-says-text-not-sms",
        ),
        pytest.param(
            False,
            None,
            (Reason("report_not_approved", status="draft"), Reason("do_not_notify")),
            "Not contacted: the report's status is 'draft', which is not an approved status; "
            "the officer marked the report do-not-notify.",
            id="not-contacted",
        ),
    ],
)
def test_sentence(
    send: bool, channel: str | None, reasons: tuple[Reason, ...], expected: str
) -> None:
    assert sentence(send, channel, reasons) == expected


# ---------------------------------------------------------------------------------------------
# Properties over random reports.

ROLES = ["victim", "victim", "guardian", "reporting_party", "suspect", "witness"]
PHONES = ["+15205550101", "+15205550102", "+15205550103"]
EMAILS = ["a@example.org", "b@example.org"]
CATEGORIES = ["", "", UNKNOWN_OFFENSE, *SensitiveCategory.values]
CODES = [*NIBRS_RELATIONSHIPS, "se", "bg"]


@st.composite
def party_lists(draw: st.DrawFn) -> tuple[PartyFacts, ...]:
    count = draw(st.integers(1, 5))
    ids = [f"P{i}" for i in range(count)]
    parties = []
    for party_id in ids:
        relationships = draw(
            st.lists(st.tuples(st.sampled_from([*ids, "GONE"]), st.sampled_from(CODES)), max_size=2)
        )
        parties.append(
            PartyFacts(
                party_id=party_id,
                role=draw(st.sampled_from(ROLES)),
                kind=draw(st.sampled_from(["person", "person", "business"])),
                phone=draw(st.sampled_from([None, *PHONES])),
                phone_invalid=draw(st.booleans()),
                phone_is_landline=draw(st.booleans()),
                email=draw(st.sampled_from([None, *EMAILS])),
                email_invalid=draw(st.booleans()),
                date_of_birth=draw(
                    st.one_of(st.none(), st.dates(dt.date(1930, 1, 1), dt.date(2026, 12, 31)))
                ),
                juvenile=draw(st.sampled_from([None, True, False])),
                relationships=tuple(relationships),
            )
        )
    return tuple(parties)


reports = st.builds(
    ReportFacts,
    status=st.sampled_from(["approved", "approved", "draft"]),
    reported_on=st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
    division_code=st.just("W"),
    division_go_live=st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31))),
    offense_categories=st.lists(
        st.tuples(st.sampled_from(["23F", "13A", "99Z"]), st.sampled_from(CATEGORIES)),
        min_size=1,
        max_size=3,
    ).map(tuple),
    domestic_violence=st.booleans(),
    do_not_notify=st.booleans(),
    parties=party_lists(),
)

policies = st.builds(
    Policy,
    approved_statuses=st.sampled_from([frozenset({"approved"}), frozenset({"approved", "draft"})]),
    excluded_categories=st.frozensets(st.sampled_from(SensitiveCategory.values)),
    dv_relationship_codes=st.sampled_from(
        [frozenset(DEFAULT_DV_RELATIONSHIPS), frozenset({"SE", "bg"})]
    ),
    adult_age=st.sampled_from([18, 21]),
    notify_businesses=st.booleans(),
    notify_reporting_parties=st.booleans(),
    sms_enabled=st.booleans(),
    email_enabled=st.booleans(),
)


def _minor(party: PartyFacts, rules: Policy, day: dt.date) -> bool:
    """Independent of the module: under age by date of birth, or flagged juvenile."""
    if party.juvenile:
        return True
    if party.date_of_birth is None:
        return False
    dob = party.date_of_birth
    age = day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
    return age < rules.adult_age


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=reports, rules=policies, opted_out=st.frozensets(st.sampled_from(PHONES + EMAILS)))
def test_properties_of_every_decision(
    facts: ReportFacts, rules: Policy, opted_out: frozenset[str]
) -> None:
    outcomes, flag = decide_report(facts, rules, opted_out)
    parties = {p.party_id: p for p in facts.parties}
    suspect_contacts = {
        c for p in facts.parties if p.role == "suspect" for c in (p.phone, p.email) if c
    }
    report_blocked = bool(report_reasons(facts, rules))

    # Every party is decided.
    assert {o.party_id for o in outcomes} == set(parties)

    for o in outcomes:
        party = parties[o.party_id]
        # (c) every outcome explains itself, in words.
        assert o.reasons
        assert all(code in known_codes() for code in o.reason_codes), o.reason_codes
        text = sentence(o.send, o.channel, o.reasons)
        assert not re.search(r"[{}]", text), text
        if not o.send:
            continue
        # (a) nobody who must not be written to is.
        assert party.role in ("victim", "guardian", "reporting_party"), o
        assert not report_blocked, o
        assert party.kind == "business" or not _minor(party, rules, facts.reported_on), o
        assert o.contact is not None
        assert o.contact not in opted_out, o
        assert o.contact not in suspect_contacts, o
        assert rules.sms_enabled if o.channel == SMS else rules.email_enabled
        if o.channel == SMS:
            assert (
                o.contact == party.phone and not party.phone_invalid and not party.phone_is_landline
            )
        else:
            assert o.contact == party.email and not party.email_invalid
        if party.role == "guardian":
            assert o.on_behalf_of is not None
            minor = parties[o.on_behalf_of]
            assert minor.role == "victim" and _minor(minor, rules, facts.reported_on)

    # (b) one message per contact and channel.
    sends = [(o.contact, o.channel) for o in outcomes if o.send]
    assert len(sends) == len(set(sends))

    # A party sharing a contact with a suspect always reaches an advocate.
    if any(
        p.role in ("victim", "guardian", "reporting_party")
        and {p.phone, p.email} & suspect_contacts
        for p in facts.parties
    ):
        assert flag


def test_a_person_who_chose_one_channel_is_written_to_on_that_one_only() -> None:
    outcomes, _ = decide_report(report(victim(preferred_channel="email")), POLICY)
    sends = {o.channel: o.send for o in outcomes}
    assert sends == {"sms": False, "email": True}
    (text,) = [o for o in outcomes if o.channel == "sms"]
    assert text.reason_codes == ["prefers_other_channel"]
