"""The demo agency's data and the simulated RMS feed. No database needed."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from functools import cache
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from victim_notify.agencies.models import DEFAULT_DV_RELATIONSHIPS, SensitiveCategory
from victim_notify.demo.simulator import (
    AREA_CODES,
    DEMO_AGENCY_FILE,
    OffenseChoice,
    Simulator,
)
from victim_notify.intake.schema import ReportIn

NOW = dt.datetime(2026, 12, 3, 21, 15, tzinfo=dt.UTC)  # 2:15 p.m. in Saguaro City
ZONE_OFFSET = dt.timezone(dt.timedelta(hours=-7))  # America/Phoenix, no daylight saving time
CATEGORIES = {"", *SensitiveCategory.values}
DV_RELATIONSHIPS = set(DEFAULT_DV_RELATIONSHIPS)
TEXT_KEYS = ("title", "explanation", "explanation_short", "next_steps", "next_steps_short")
TYPOGRAPHY = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2010\u2011\u2013\u2014\u2212\u2026\u00a0"
EXAMPLE_DOMAIN = re.compile(r"@example\.(com|org|net)$")


@cache
def agency() -> dict[str, Any]:
    return json.loads(DEMO_AGENCY_FILE.read_text(encoding="utf-8"))


@cache
def categories() -> dict[str, str]:
    return {o["code"]: o["sensitive_category"] for o in agency()["offenses"]}


@cache
def realistic_sample() -> tuple[dict, ...]:
    return tuple(Simulator.from_demo_data(seed=2026, now=NOW).records(5000))


def parsed_phone(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def email_ok(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=ZONE_OFFSET)


def age_on(born: str, day: dt.date) -> int:
    birth = dt.date.fromisoformat(born)
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def has_typo(record: dict) -> bool:
    """Any of the mistakes the simulator makes on purpose, found from the outside."""
    for party in record["parties"]:
        if party["phone"] and parsed_phone(party["phone"]) is None:
            return True
        if party["email"] and not email_ok(party["email"]):
            return True
    if any(code not in categories() for code in record["offenses"]):
        return True
    if record["division"] not in {d["code"] for d in agency()["divisions"]}:
        return True
    return parse_time(record["reported_at"]) > NOW + dt.timedelta(minutes=10)


def is_juvenile(party: dict, day: dt.date) -> bool:
    if party["date_of_birth"]:
        return age_on(party["date_of_birth"], day) < 18
    return party["juvenile"] is True


def mix(records: tuple[dict, ...] | list[dict]) -> dict[str, float]:
    """The shares the simulator promises, measured from the records alone."""
    n = len(records)
    counts: Counter[str] = Counter()
    victims = phones = emails = 0
    for record in records:
        day = parse_time(record["reported_at"]).astimezone(ZONE_OFFSET).date()
        parties = record["parties"]
        by_role = Counter(p["role"] for p in parties)
        victim_rows = [p for p in parties if p["role"] == "victim"]
        sensitive = any(categories().get(code) for code in record["offenses"])
        dv = record["domestic_violence"] or any(
            r["code"] in DV_RELATIONSHIPS for p in parties for r in p["relationships"]
        )
        counts["sensitive_offense"] += sensitive
        counts["domestic_violence"] += dv
        counts["excluded_for_safety"] += sensitive or dv
        counts["not_approved"] += record["status"].lower() != "approved"
        counts["juvenile"] += any(
            p["kind"] == "person" and is_juvenile(p, day) for p in victim_rows
        )
        counts["typo"] += has_typo(record)
        counts["two_offenses"] += len(record["offenses"]) > 1
        counts["suspect"] += by_role["suspect"] > 0
        counts["reporting_party"] += by_role["reporting_party"] > 0
        counts["guardian"] += by_role["guardian"] > 0
        counts["business_victim"] += any(p["kind"] == "business" for p in victim_rows)
        counts["do_not_notify"] += record["do_not_notify"]
        suspect_phones = {p["phone"] for p in parties if p["role"] == "suspect" and p["phone"]}
        counts["suspect_shares_phone"] += any(
            p["phone"] in suspect_phones for p in parties if p["role"] != "suspect"
        )
        counts["no_offset"] += not re.search(r"(Z|[+-]\d\d:\d\d)$", record["reported_at"])
        for party in victim_rows:
            victims += 1
            counts["victim_no_contact"] += not (party["phone"] or party["email"])
            counts["victim_spanish"] += party["language"].lower() == "es"
        # Who could be written to: adults (as far as the record says) and their distinct
        # valid contacts; each is one message.
        contacts = set()
        for party in parties:
            if party["role"] in {"victim", "reporting_party", "guardian"} and (
                party["kind"] == "person" and not is_juvenile(party, day)
            ):
                if party["phone"] and (number := parsed_phone(party["phone"])) is not None:
                    contacts.add(("sms", number.national_number))
                if party["email"] and email_ok(party["email"]):
                    contacts.add(("email", party["email"].lower()))
        phones += sum(kind == "sms" for kind, _ in contacts)
        emails += sum(kind == "email" for kind, _ in contacts)
    shares = {key: counts[key] / n for key in counts if not key.startswith("victim_")}
    shares["victim_no_contact"] = counts["victim_no_contact"] / victims
    shares["victim_spanish"] = counts["victim_spanish"] / victims
    shares["email_share_of_messages"] = emails / (phones + emails)
    return shares


# --------------------------------------------------------------------------- agency.json


def test_demo_agency_loads_with_the_promised_shape() -> None:
    data = agency()
    assert set(data) == {"agency", "languages", "divisions", "sections", "offenses"}
    fields = data["agency"]
    assert fields["slug"] == "demo"
    assert fields["timezone"] == "America/Phoenix"
    assert fields["default_language"] == "en"
    assert fields["approved_statuses"] == ["approved"]
    assert set(data["languages"]) == {"en", "es"}
    assert all(v["statutory_notice"].strip() for v in data["languages"].values())
    assert "30" in data["languages"]["en"]["statutory_notice"]


def test_four_divisions_west_live_first() -> None:
    divisions = {d["code"]: d for d in agency()["divisions"]}
    assert len(divisions) == 4
    assert divisions["W"]["go_live_date"] == "2026-04-01"
    others = [d["go_live_date"] for code, d in divisions.items() if code != "W"]
    assert all(date > "2026-04-01" for date in others)


def test_only_fictional_phones_and_example_domains() -> None:
    data = agency()
    phones = [data["agency"]["sms_from"]]
    phones += [d["substation_phone"] for d in data["divisions"]]
    phones += [s["phone"] for s in data["sections"]]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert re.fullmatch(r"\+1\d{3}55501\d\d", phone), phone
        assert parsed_phone(phone) is not None
    for key in ("sender_email", "reply_to"):
        assert data["agency"][key].rpartition("@")[2].startswith("saguarocity.example")


def test_offenses_have_texts_in_both_languages() -> None:
    data = agency()
    offenses = data["offenses"]
    sections = {s["code"] for s in data["sections"]}
    codes = [o["code"] for o in offenses]
    assert len(offenses) >= 45
    assert len(set(codes)) == len(codes)
    for offense in offenses:
        assert offense["sensitive_category"] in CATEGORIES, offense["code"]
        assert offense["section"] in sections, offense["code"]
        assert offense["weight"] > 0
        assert 0 < len(offense["title"]) <= 120
        assert set(offense["texts"]) == {"en", "es"}, offense["code"]
        for language, words in offense["texts"].items():
            where = f"{offense['code']}/{language}"
            assert set(words) == set(TEXT_KEYS), where
            assert all(words[key].strip() for key in TEXT_KEYS), where
            assert len(words["title"]) <= 120, where
            assert len(words["explanation_short"]) <= 160, where
            assert len(words["next_steps_short"]) <= 200, where
            for key in ("explanation_short", "next_steps_short"):
                assert not set(words[key]) & set(TYPOGRAPHY), f"{where} {key}"
            if language == "en":
                # English texts stay in the GSM-7 alphabet: 160 characters a text segment.
                assert all(words[key].isascii() for key in TEXT_KEYS), where


def test_spanish_is_not_english() -> None:
    for offense in agency()["offenses"]:
        en, es = offense["texts"]["en"], offense["texts"]["es"]
        assert en["explanation"] != es["explanation"], offense["code"]
        assert en["next_steps_short"] != es["next_steps_short"], offense["code"]
    spanish = " ".join(o["texts"]["es"]["next_steps"] for o in agency()["offenses"])
    assert re.search("[áéíóúñ]", spanish)


def test_real_nibrs_codes_and_the_sensitive_ones_are_marked() -> None:
    category = categories()
    for code in (
        "13A",
        "13B",
        "13C",
        "120",
        "200",
        "220",
        "23A",
        "23F",
        "23H",
        "240",
        "250",
        "26A",
        "26F",
        "270",
        "280",
        "290",
        "35A",
        "100",
        "210",
        "370",
        "64A",
    ):
        assert code in category, code
    assert {category[c] for c in ("09A", "09B", "09C", "DTH")} == {"death"}
    assert {category[c] for c in ("11A", "11B", "11C", "11D", "36A", "36B")} == {"sexual_offense"}
    assert {category[c] for c in ("64A", "64B")} == {"human_trafficking"}
    assert category["DV"] == "domestic_violence"
    assert category["STK"] == "stalking"
    assert category["CHA"] == "child_abuse"
    assert category["SUI"] == "suicide"
    assert category["23F"] == category["26F"] == category["MVA"] == ""
    weights = {o["code"]: o["weight"] for o in agency()["offenses"]}
    sensitive = sum(w for c, w in weights.items() if category[c])
    assert 0.07 <= sensitive / sum(weights.values()) <= 0.12
    assert weights["23H"] > weights["13A"] > weights["09A"]


# --------------------------------------------------------------------------- the feed


def test_area_codes_are_real_and_their_fictional_numbers_valid() -> None:
    assert len(AREA_CODES) >= 250
    assert len(set(AREA_CODES)) == len(AREA_CODES)
    for npa in AREA_CODES:
        for line in ("0100", "0150", "0199"):
            number = phonenumbers.parse(f"+1{npa}555{line}")
            assert phonenumbers.is_valid_number(number), npa
            assert phonenumbers.region_code_for_number(number) == "US", npa


def test_clean_records_validate_and_have_exactly_one_contact() -> None:
    sim = Simulator.from_demo_data(seed=11, now=NOW)
    emails = 0
    for record in sim.records(2000, profile="clean"):
        ReportIn.model_validate(record)
        assert record["status"] == "approved"
        assert len(record["offenses"]) == 1
        assert categories()[record["offenses"][0]] == ""
        assert not record["domestic_violence"] and not record["do_not_notify"]
        assert not has_typo(record)
        victims = [p for p in record["parties"] if p["role"] == "victim"]
        assert len(victims) == 1
        victim = victims[0]
        assert victim["kind"] == "person"
        assert victim["date_of_birth"] and victim["juvenile"] is not True
        day = parse_time(record["reported_at"]).astimezone(ZONE_OFFSET).date()
        assert age_on(victim["date_of_birth"], day) >= 18
        contacts = [c for p in record["parties"] for c in (p["phone"], p["email"]) if c]
        assert len(contacts) == 1
        assert contacts[0] in (victim["phone"], victim["email"])
        emails += bool(victim["email"])
        for party in record["parties"]:
            assert not {r["code"] for r in party["relationships"]} & DV_RELATIONSHIPS
    assert 0.11 <= emails / 2000 <= 0.18


def test_clean_email_share_is_a_parameter() -> None:
    sim = Simulator.from_demo_data(seed=3, now=NOW, email_share=1.0)
    assert all(r["parties"][0]["email"] for r in sim.records(50, "clean"))
    sim = Simulator.from_demo_data(seed=3, now=NOW, email_share=0.0)
    assert all(r["parties"][0]["phone"] for r in sim.records(50, "clean"))


def test_realistic_records_match_the_schema_apart_from_typos() -> None:
    for record in realistic_sample():
        ReportIn.model_validate(record)
        ids = [p["party_id"] for p in record["parties"]]
        assert len(set(ids)) == len(ids)
        for party in record["parties"]:
            assert all(r["party_id"] in ids for r in party["relationships"])
        if record["occurred_at"] and not has_typo(record):
            assert parse_time(record["occurred_at"]) <= parse_time(record["reported_at"])


def test_realistic_mix_is_in_the_promised_ranges() -> None:
    shares = mix(realistic_sample())
    expected = {
        "sensitive_offense": (0.07, 0.13),
        "excluded_for_safety": (0.10, 0.18),
        "email_share_of_messages": (0.125, 0.165),
        "juvenile": (0.025, 0.06),
        "victim_no_contact": (0.045, 0.085),
        "typo": (0.015, 0.04),
        "not_approved": (0.08, 0.17),
        "victim_spanish": (0.18, 0.30),
        "suspect_shares_phone": (0.001, 0.02),
        "business_victim": (0.03, 0.12),
        "do_not_notify": (0.002, 0.02),
        "no_offset": (0.25, 0.55),
    }
    for key, (low, high) in expected.items():
        assert low <= shares[key] <= high, f"{key}: {shares[key]:.3%}"


def test_every_phone_and_email_is_fictional() -> None:
    phones = emails = 0
    sim = Simulator.from_demo_data(seed=5, now=NOW)
    records = [*realistic_sample(), *sim.records(500, "clean")]
    for record in records:
        for party in record["parties"]:
            if party["phone"]:
                number = parsed_phone(party["phone"])
                if number is not None:
                    phones += 1
                    assert str(number.national_number)[3:].startswith("55501"), party["phone"]
            if party["email"]:
                assert "example" in party["email"], party["email"]
                if email_ok(party["email"]):
                    emails += 1
                    assert EXAMPLE_DOMAIN.search(party["email"]), party["email"]
    assert phones > 4000 and emails > 500


def test_many_distinct_phone_numbers() -> None:
    numbers = {
        parsed_phone(p["phone"]).national_number  # type: ignore[union-attr]
        for r in realistic_sample()
        for p in r["parties"]
        if p["phone"] and parsed_phone(p["phone"])
    }
    assert len(numbers) > 3000


def test_names_keep_accents_and_apostrophes() -> None:
    names = {
        p[key]
        for r in realistic_sample()
        for p in r["parties"]
        for key in ("first_name", "last_name")
    }
    assert any("'" in name for name in names)
    assert any(not name.isascii() for name in names)


def test_same_seed_same_records() -> None:
    first = Simulator.from_demo_data(seed=42, now=NOW)
    second = Simulator.from_demo_data(seed=42, now=NOW)
    assert list(first.records(300)) == list(second.records(300))
    assert [first.clean() for _ in range(50)] == [second.clean() for _ in range(50)]
    other = Simulator.from_demo_data(seed=43, now=NOW)
    assert list(first.records(20)) != list(other.records(20))


def test_report_numbers_are_unique_and_shaped() -> None:
    numbers = [r["report_number"] for r in realistic_sample()]
    assert len(set(numbers)) == len(numbers)
    assert numbers[0] == "2612-0000001"
    sim = Simulator.from_demo_data(seed=1, now=NOW, number_prefix="T", first_number=990)
    assert [r["report_number"] for r in sim.records(2)] == ["T0000990", "T0000991"]


def test_reported_within_hours_before_now() -> None:
    for record in realistic_sample():
        if has_typo(record):
            continue
        age = NOW - parse_time(record["reported_at"])
        assert dt.timedelta(0) <= age <= dt.timedelta(hours=7), record["reported_at"]


def test_amendment_is_a_new_valid_version_of_the_same_report() -> None:
    sim = Simulator.from_demo_data(seed=8, now=NOW)
    changed = 0
    for record in sim.records(300, "clean"):
        before = json.loads(json.dumps(record))
        amended = sim.amendment(record)
        assert record == before  # the input is left alone
        ReportIn.model_validate(amended)
        assert amended["report_number"] == record["report_number"]
        assert not has_typo(amended)
        changed += amended != record
    assert changed >= 290


def test_amendment_approves_a_pending_report() -> None:
    sim = Simulator.from_demo_data(seed=9, now=NOW)
    pending = [r for r in sim.records(400) if r["status"] == "pending_review"]
    statuses = Counter(sim.amendment(r)["status"] for r in pending)
    assert statuses["approved"] > len(pending) / 3


def test_amendments_of_approved_reports_assign_detectives_and_clear_cases() -> None:
    sim = Simulator.from_demo_data(seed=10, now=NOW)
    amended = [sim.amendment(r) for r in sim.records(400, "clean")]
    detectives = [a["detective"] for a in amended if "detective" in a]
    assert 40 <= len(detectives) <= 130
    for detective in detectives:
        assert detective["name"].startswith("Det. ")
        assert re.fullmatch(r"\(520\) 555-01\d\d", detective["phone"])
    cleared = sum(a["status"] == "cleared by arrest" for a in amended)
    assert 5 <= cleared <= 45
    agency = json.loads(DEMO_AGENCY_FILE.read_text(encoding="utf-8"))["agency"]
    assert agency["case_event_statuses"]["cleared by arrest"] == "suspect_arrested"


@pytest.mark.django_db
def test_the_demo_agency_tells_victims_of_the_simulated_case_events() -> None:
    from victim_notify.agencies.setup import load_agency
    from victim_notify.cases.models import CaseEvent
    from victim_notify.intake.store import IncomingRecord, ingest

    agency = load_agency(json.loads(DEMO_AGENCY_FILE.read_text(encoding="utf-8")))
    agency.full_clean()
    sim = Simulator.from_demo_data(seed=11, now=dt.datetime.now(dt.UTC))
    records = list(sim.records(200, "clean"))
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")
    amended = [sim.amendment(r) for r in records]
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(amended)], source="api")
    kinds = Counter(CaseEvent.objects.values_list("kind", flat=True))
    assert kinds["detective_assigned"] == sum("detective" in a for a in amended) > 0
    assert kinds["suspect_arrested"] == sum(a["status"] == "cleared by arrest" for a in amended) > 0


def test_simulator_works_with_any_offense_list() -> None:
    offenses = [OffenseChoice("23F", "", 3.0), OffenseChoice("DV", "domestic_violence", 1.0)]
    sim = Simulator(offenses, ["A", "B"], seed=1, now=NOW, number_prefix="X-")
    records = list(sim.records(200))
    assert {r["division"] for r in records} <= {"A", "B", "X", "WEST", "N", "ODW", "w", "99"}
    assert sum(r["offenses"][0] not in {"23F", "DV"} for r in records) <= 10  # typos only
    assert {r["offenses"][0] for r in sim.records(100, "clean")} == {"23F"}
    with pytest.raises(ValueError):
        list(sim.records(1, profile="chaotic"))
