"""A simulated RMS feed: report records in the intake JSON format, for the demo and benchmarks.

Everything is invented. Phone numbers are only ever in the fictional range NPA-555-0100..0199
(over a few hundred real US area codes, so tens of thousands of distinct numbers, all of which
`phonenumbers` accepts), email addresses are only at example.com, example.org and example.net,
and names come from Faker.

Two profiles:

- `realistic()`: the mix a city of about half a million sends in a month, modelled on the
  Tucson case study: mostly thefts, burglaries, vehicle crimes, vandalism, assaults and fraud;
  about one report in ten with an offense a message must never be sent about; contacts so that
  about 14.5% of the messages go by email; juveniles, businesses, suspects sharing a victim's
  phone, missing contact details, and a low rate (~2.5%) of the typing mistakes clerks make.
- `clean()`: one adult victim, one eligible offense, an approved status and exactly one
  contact, so a benchmark knows in advance which messages should come out.

The same seed and the same `now` give the same records.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import random
import unicodedata
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from faker import Faker

DEMO_AGENCY_FILE = Path(__file__).resolve().parent / "demo_data" / "agency.json"

# Real US area codes (long in service) whose 555-0100..555-0199 numbers `phonenumbers` accepts
# as valid. 555-01XX is reserved for fiction in every one of them.
AREA_CODES: tuple[str, ...] = tuple(
    """
    201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231
    234 239 240 248 251 252 253 254 256 260 262 267 269 270 272 276 281 301 302 303 304 305
    307 308 309 310 312 313 314 315 316 317 318 319 320 321 323 325 330 331 334 336 337 339
    346 347 351 352 360 361 385 386 401 402 404 405 406 407 408 409 410 412 413 414 415 417
    419 423 424 425 430 432 434 435 440 442 443 458 469 470 475 478 479 480 484 501 502 503
    504 505 507 508 509 510 512 513 515 516 517 518 520 530 539 540 541 551 559 561 562 563
    567 570 571 573 574 575 580 585 586 601 602 603 605 606 607 608 609 610 612 614 615 616
    617 618 619 620 623 626 630 631 636 641 646 650 651 657 660 661 662 678 682 701 702 703
    704 706 707 708 712 713 714 715 716 717 718 719 720 724 727 731 732 734 740 747 754 757
    760 763 765 770 772 773 774 775 779 781 785 786 801 802 803 804 805 806 808 810 812 813
    814 815 816 817 818 828 830 831 832 843 845 847 848 850 856 857 858 859 860 862 863 864
    865 870 901 903 904 906 907 908 909 910 912 913 914 915 916 917 918 919 920 925 928 929
    931 936 937 940 941 947 949 951 952 954 956 970 971 972 973 978 979 980 984 985 989
    """.split()
)
LOCAL_AREA_CODE = "520"
ARIZONA_AREA_CODES = ("602", "480", "623", "928")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# Share of reports by patrol division, roughly by population. Codes not listed share equally.
DIVISION_SHARES = {"W": 0.27, "E": 0.24, "S": 0.27, "M": 0.22}

# Offenses that often come with a second, lesser one on the same report (most serious first).
COMPANIONS: dict[str, tuple[str, ...]] = {
    "220": ("23H", "290", "23D", "240"),
    "240": ("23F", "290"),
    "23F": ("290", "23G", "26B"),
    "120": ("13B", "13A", "26B"),
    "13A": ("290", "13C", "520"),
    "13B": ("290", "13C"),
    "DV": ("13B", "290", "13C", "90C"),
    "26F": ("26B", "26A"),
    "26A": ("26E", "26F"),
    "23H": ("290", "26B"),
    "HR": ("290",),
    "90J": ("290", "23H"),
}
SECOND_OFFENSE_SHARE = 0.2
# Offenses whose victim is "society": the report has a reporting party instead of a victim.
NO_VICTIM_CODES = frozenset({"35A"})
# Offenses with no suspect known at the scene (the other party is not an offender).
NO_SUSPECT_CODES = frozenset({"MVA", "LP", "DTH", "SUI", "280"})
CHILD_CODES = frozenset({"CHA", "36B"})
PERSON_CODES = frozenset(
    {
        "13A",
        "13B",
        "13C",
        "100",
        "120",
        "HAR",
        "DV",
        "STK",
        "09A",
        "09B",
        "11A",
        "11B",
        "11C",
        "11D",
        "36A",
        "64A",
        "64B",
        "90C",
        "210",
        "CHA",
        "36B",
    }
)
BUSINESS_CODES = {
    "23C": 0.9,
    "23E": 0.8,
    "250": 0.4,
    "270": 0.5,
    "90A": 0.6,
    "290": 0.12,
    "220": 0.15,
    "23D": 0.2,
    "90J": 0.3,
}

# NIBRS victim-to-offender relationships (see /data/nibrs), weighted.
STRANGER_LIKE = {"ST": 36, "AQ": 28, "RU": 16, "NE": 9, "FR": 7, "EE": 2, "ER": 1, "OK": 1}
FAMILY_LIKE = {
    "BG": 32,
    "SE": 18,
    "XR": 12,
    "XS": 4,
    "CS": 4,
    "PA": 6,
    "CH": 7,
    "SB": 7,
    "OF": 6,
    "IL": 2,
    "SP": 1,
    "SC": 1,
}
PROPERTY_RELATIONS = {"ST": 46, "RU": 30, "AQ": 12, "NE": 5, "FR": 3, "EE": 2, "OF": 1, "CH": 1}

STATUSES = {"approved": 0.875, "Approved": 0.005, "pending_review": 0.08, "returned": 0.04}
TYPO_SHARE = 0.025
SPANISH_SHARE = 0.25

# Names as people really write them, which a system must carry untouched.
SPECIAL_FIRST_NAMES = (
    "Zoë",
    "José",
    "Chloé",
    "Renée",
    "Björn",
    "Siobhán",
    "Thảo",
    "Ángel",
    "Inés",
    "Søren",
    "François",
    "Nguyệt",
    "Dolores",
    "Jesús",
    "Noémie",
)
SPECIAL_LAST_NAMES = (
    "O'Brien",
    "O'Connor",
    "D'Angelo",
    "Nguyễn",
    "Trần",
    "Phạm",
    "Müller",
    "Núñez",
    "Peña",
    "Ibáñez",
    "St. Clair",
    "López-Ortiz",
    "Van der Berg",
    "MacAllister",
    "Ó Súilleabháin",
    "Dvořák",
)

BAD_OFFENSE_CODES = ("23X", "13", "2300", "23-F", "290A", "23f", "13b", "22O", "26")
BAD_DIVISIONS = ("X", "WEST", "N", "ODW", "w", "99")

T = TypeVar("T")


@dataclass(frozen=True)
class OffenseChoice:
    code: str
    category: str  # "" or a sensitive category
    weight: float


def _pick(rng: random.Random, weights: Mapping[T, float]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _is_valid_phone(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, "US"))
    except phonenumbers.NumberParseException:
        return False


def _is_valid_email(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class Simulator:
    """Generates report records as an RMS would send them. Not thread-safe."""

    def __init__(
        self,
        offenses: list[OffenseChoice],
        divisions: list[str],
        *,
        seed: int | None = None,
        now: dt.datetime | None = None,
        timezone: str = "America/Phoenix",
        email_share: float = 0.145,
        number_prefix: str = "",
        first_number: int = 1,
    ) -> None:
        if not offenses:
            raise ValueError("at least one offense is needed")
        if not divisions:
            raise ValueError("at least one division is needed")
        if not 0.0 <= email_share <= 1.0:
            raise ValueError("email_share must be between 0 and 1")
        self.offenses = list(offenses)
        self.divisions = list(divisions)
        self.zone = zoneinfo.ZoneInfo(timezone)
        if now is None:
            now = dt.datetime.now(dt.UTC)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=self.zone)  # a naive `now` is agency local time
        self.now = now.astimezone(self.zone)
        self.email_share = email_share
        self.number_prefix = number_prefix or self.now.strftime("%y%m-")
        self._numbers = itertools.count(first_number)
        self._rng = random.Random(seed)
        self._fake_en = Faker("en_US")
        self._fake_es = Faker("es_MX")
        self._fake_en.seed_instance(self._rng.getrandbits(32))
        self._fake_es.seed_instance(self._rng.getrandbits(32))

        self._by_code = {o.code: o for o in self.offenses}
        self._offense_weights = {o.code: o.weight for o in self.offenses if o.weight > 0}
        self._eligible_weights = {
            o.code: o.weight for o in self.offenses if o.weight > 0 and not o.category
        }
        if not self._offense_weights:
            raise ValueError("at least one offense needs a positive weight")
        shares = {d: DIVISION_SHARES.get(d, 0.0) for d in self.divisions}
        if not any(shares.values()):
            shares = dict.fromkeys(self.divisions, 1.0)
        self._division_weights = {d: w for d, w in shares.items() if w > 0}
        # Contact mix for a person who is written to: none, both, email only, phone only.
        # Messages by email = (email only + both) / (phone only + email only + 2 * both).
        self._p_none = 0.045  # plus juveniles without a phone: ~6.5% of victims
        self._p_both = min(0.06, email_share / 2)
        self._p_email = max(0.0, email_share * (1 - self._p_none + self._p_both) - self._p_both)
        self._officers = [self._new_officer() for _ in range(240)]
        self._used_contacts: set[str] = set()  # phones (10 digits) already on this report

    # ----------------------------------------------------------------- construction helpers

    @classmethod
    def from_demo_data(cls, **kwargs: Any) -> Simulator:
        """A simulator for the demo agency in demo_data/agency.json."""
        data = json.loads(DEMO_AGENCY_FILE.read_text(encoding="utf-8"))
        offenses = [
            OffenseChoice(o["code"], o["sensitive_category"], float(o["weight"]))
            for o in data["offenses"]
        ]
        divisions = [d["code"] for d in data["divisions"]]
        kwargs.setdefault("timezone", data["agency"]["timezone"])
        return cls(offenses, divisions, **kwargs)

    def records(self, n: int, profile: str = "realistic") -> Iterator[dict]:
        """`n` records of one profile: "realistic" or "clean"."""
        make = {"realistic": self.realistic, "clean": self.clean}.get(profile)
        if make is None:
            raise ValueError(f"unknown profile {profile!r} (realistic or clean)")
        for _ in range(n):
            yield make()

    # ----------------------------------------------------------------------------- profiles

    def realistic(self) -> dict:
        """One report as the RMS would send it, typing mistakes and all."""
        rng = self._rng
        self._used_contacts = set()
        reported = self._reported_at()
        offenses = self._offenses()
        primary = offenses[0]
        category = self._by_code[primary].category if primary in self._by_code else ""
        record = self._skeleton(reported, offenses, _pick(rng, STATUSES))
        parties: list[dict] = []

        juvenile_victim = primary in CHILD_CODES or rng.random() < 0.035
        spanish = rng.random() < SPANISH_SHARE
        if primary in NO_VICTIM_CODES:
            parties.append(self._person("RP1", "reporting_party", reported, spanish=spanish))
        else:
            count = _pick(rng, {1: 0.88, 2: 0.09, 3: 0.03})
            for index in range(1, count + 1):
                is_business = index == 1 and rng.random() < BUSINESS_CODES.get(primary, 0.03)
                if is_business:
                    parties.append(self._business(f"V{index}", spanish=spanish))
                else:
                    minor = juvenile_victim and index == 1
                    parties.append(
                        self._person(
                            f"V{index}",
                            "victim",
                            reported,
                            minor=minor,
                            spanish=spanish if index == 1 else rng.random() < SPANISH_SHARE,
                        )
                    )
        victims = [p for p in parties if p["role"] == "victim"]
        first = parties[0]

        if juvenile_victim and victims and victims[0]["kind"] == "person" and rng.random() < 0.85:
            guardian = self._person(
                "G1", "guardian", reported, spanish=spanish, last_name=victims[0]["last_name"]
            )
            parties.append(guardian)
        elif victims and rng.random() < 0.15:
            reporter = self._person(
                "RP1", "reporting_party", reported, spanish=rng.random() < SPANISH_SHARE
            )
            if first["phone"] and rng.random() < 0.3:
                reporter["phone"] = first["phone"]  # a household phone, or the same cell
            parties.append(reporter)

        dv_flag = primary == "DV" and rng.random() < 0.92
        has_suspect = rng.random() < self._suspect_share(primary)
        if victims and primary not in NO_SUSPECT_CODES and has_suspect:
            suspect = self._suspect("S1", reported)
            code = self._relationship(primary)
            if code in FAMILY_LIKE and primary in PERSON_CODES and rng.random() < 0.55:
                dv_flag = True
            for victim in victims:
                victim["relationships"].append({"party_id": "S1", "code": code})
            share_rate = 0.06 if code in FAMILY_LIKE else 0.006
            if victims[0]["phone"] and rng.random() < share_rate:
                suspect["phone"] = victims[0]["phone"]  # a family phone, or the suspect's own
            parties.append(suspect)
        if rng.random() < 0.08:
            for index in range(1, _pick(rng, {1: 0.8, 2: 0.2}) + 1):
                witness = self._person(
                    f"W{index}", "witness", reported, spanish=rng.random() < SPANISH_SHARE
                )
                witness["email"] = ""
                witness["phone"] = witness["phone"] or self._phone()
                parties.append(witness)

        record["parties"] = parties
        record["domestic_violence"] = dv_flag or (not category and rng.random() < 0.004)
        record["do_not_notify"] = rng.random() < 0.01
        if rng.random() < TYPO_SHARE:
            self._typo(record)
        return record

    def clean(self) -> dict:
        """One report that must produce exactly one message: one adult victim, an eligible
        offense, an approved status, exactly one valid contact, no typos."""
        rng = self._rng
        self._used_contacts = set()
        reported = self._reported_at()
        code = _pick(rng, self._eligible_weights) if self._eligible_weights else None
        if code is None:
            raise ValueError("no offense without a sensitive category to choose from")
        record = self._skeleton(reported, [code], "approved")
        victim = self._person(
            "V1", "victim", reported, spanish=rng.random() < SPANISH_SHARE, adult=True
        )
        victim["juvenile"] = rng.choice([None, False])
        if rng.random() < self.email_share:
            victim["phone"], victim["email"] = "", victim["email"] or self._email(victim)
        else:
            victim["phone"], victim["email"] = victim["phone"] or self._phone(), ""
        parties = [victim]
        if code not in NO_SUSPECT_CODES and rng.random() < 0.25:
            suspect = self._suspect("S1", reported)
            suspect["phone"] = suspect["email"] = ""
            victim["relationships"].append(
                {"party_id": "S1", "code": _pick(rng, {"ST": 6, "AQ": 3, "RU": 2})}
            )
            parties.append(suspect)
        record["parties"] = parties
        return record

    def amendment(self, record: dict) -> dict:
        """A plausible new version of `record`: a corrected phone, a reclassified offense, a
        victim added, an email added, a status change, or, for an approved report, a detective
        assigned or the case cleared by an arrest. The input is not changed."""
        rng = self._rng
        new = copy.deepcopy(record)
        self._used_contacts = {
            "".join(ch for ch in p.get("phone") or "" if ch.isdigit())[-10:]
            for p in new.get("parties", [])
        }
        victims = [p for p in new.get("parties", []) if p.get("role") == "victim"]
        people = [p for p in victims if p.get("kind", "person") == "person"]
        kinds: dict[str, float] = {"offense": 0.25, "victim_added": 0.15}
        if new.get("status", "").lower() == "cleared by arrest":
            pass  # cleared for good: never flipped back, so never a second arrest
        elif new.get("status", "").lower() != "approved":
            kinds["status"] = 0.6
        else:
            kinds["status"] = 0.05
            kinds["cleared"] = 0.05
            if "detective" not in new:
                kinds["detective"] = 0.2
        if people:
            kinds["phone"] = 0.3
            kinds["email"] = 0.1
        kind = _pick(rng, kinds)
        reported = self.now - dt.timedelta(hours=1)
        if kind == "cleared":
            new["status"] = "cleared by arrest"
        elif kind == "detective":
            first, last = self._name(spanish=rng.random() < SPANISH_SHARE)
            new["detective"] = {
                "name": f"Det. {first} {last}",
                "phone": f"({LOCAL_AREA_CODE}) 555-01{rng.randint(0, 99):02d}",
            }
        elif kind == "status":
            was_approved = new.get("status", "").lower() == "approved"
            new["status"] = "returned" if was_approved else "approved"
        elif kind == "offense":
            current = new["offenses"][0]
            choices = {c: w for c, w in self._offense_weights.items() if c != current}
            if choices:
                new["offenses"][0] = _pick(rng, choices)
                if len(new["offenses"]) > 1 and new["offenses"][1] == new["offenses"][0]:
                    del new["offenses"][1]
        elif kind == "victim_added":
            taken = {p["party_id"] for p in new["parties"]}
            party_id = next(f"V{i}" for i in itertools.count(1) if f"V{i}" not in taken)
            added = self._person(
                party_id, "victim", reported, spanish=rng.random() < SPANISH_SHARE, adult=True
            )
            if not (added["phone"] or added["email"]):
                added["phone"] = self._phone()
            if victims:
                added["relationships"] = copy.deepcopy(victims[0].get("relationships", []))
            new["parties"].insert(len(victims), added)
        elif kind == "phone":
            victim = rng.choice(people)
            victim["phone"] = self._phone()
        else:  # email
            victim = rng.choice(people)
            victim["email"] = self._email(victim)
        return new

    # ------------------------------------------------------------------------------ pieces

    def _skeleton(self, reported: dt.datetime, offenses: list[str], status: str) -> dict:
        rng = self._rng
        number = next(self._numbers)
        style = _pick(rng, {"offset": 0.55, "naive": 0.4, "utc": 0.05})
        occurred = self._occurred_at(reported, offenses[0])
        officer = rng.choice(self._officers)
        return {
            "report_number": f"{self.number_prefix}{number:07d}",
            "status": status,
            "reported_at": self._format_time(reported, style),
            "occurred_at": None if occurred is None else self._format_time(occurred, style),
            "officer": dict(officer),
            "division": _pick(rng, self._division_weights),
            "offenses": offenses,
            "domestic_violence": False,
            "do_not_notify": False,
            "parties": [],
        }

    def _reported_at(self) -> dt.datetime:
        # Reports reach intake minutes to a few hours after they are written: most are recent.
        minutes = min(self._rng.expovariate(1 / 70), 6 * 60) + self._rng.uniform(1, 5)
        return (self.now - dt.timedelta(minutes=minutes)).replace(microsecond=0)

    def _occurred_at(self, reported: dt.datetime, code: str) -> dt.datetime | None:
        rng = self._rng
        if rng.random() < 0.08:
            return None
        if code.startswith("26") or code in {"270", "250", "210", "90A"}:
            hours = rng.uniform(2, 24 * 45)  # fraud is found days or weeks later
        elif code in PERSON_CODES or code in {"MVA", "HR", "DTH", "SUI"}:
            hours = rng.expovariate(1 / 3)
        else:
            hours = rng.expovariate(1 / 14)  # overnight thefts found in the morning
        return (reported - dt.timedelta(hours=min(hours, 24 * 90) + 0.05)).replace(
            second=0, microsecond=0
        )

    def _format_time(self, when: dt.datetime, style: str) -> str:
        local = when.astimezone(self.zone)
        if style == "naive":
            return local.replace(tzinfo=None).isoformat(timespec="seconds")
        if style == "utc":
            return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return local.isoformat(timespec="seconds")

    def _offenses(self) -> list[str]:
        rng = self._rng
        primary = _pick(rng, self._offense_weights)
        offenses = [primary]
        companions = [c for c in COMPANIONS.get(primary, ()) if c in self._by_code]
        if companions and rng.random() < SECOND_OFFENSE_SHARE:
            offenses.append(rng.choice(companions))
        return offenses

    def _suspect_share(self, code: str) -> float:
        if code in {"DV", "STK", "HAR", "13B", "13C"}:
            return 0.85
        if code in PERSON_CODES:
            return 0.6
        if code in {"23C", "270", "26A"}:
            return 0.5
        return 0.18

    def _relationship(self, code: str) -> str:
        rng = self._rng
        if code in {"DV", "CHA", "36A"}:
            return _pick(rng, FAMILY_LIKE)
        if code in PERSON_CODES:
            return _pick(rng, FAMILY_LIKE) if rng.random() < 0.2 else _pick(rng, STRANGER_LIKE)
        return _pick(rng, PROPERTY_RELATIONS)

    def _new_officer(self) -> dict[str, str]:
        fake = self._fake_es if self._rng.random() < 0.22 else self._fake_en
        return {
            "name": f"{fake.first_name()} {fake.last_name()}",
            "badge": str(self._rng.randint(1000, 9999)),
        }

    def _name(self, spanish: bool) -> tuple[str, str]:
        rng = self._rng
        # Many English-speaking victims in the Southwest have Spanish names.
        fake = self._fake_es if spanish or rng.random() < 0.15 else self._fake_en
        first, last = fake.first_name(), fake.last_name()
        if rng.random() < 0.04:
            if rng.random() < 0.5:
                first = rng.choice(SPECIAL_FIRST_NAMES)
            else:
                last = rng.choice(SPECIAL_LAST_NAMES)
        return first, last

    def _person(
        self,
        party_id: str,
        role: str,
        reported: dt.datetime,
        *,
        spanish: bool,
        minor: bool = False,
        adult: bool = False,
        last_name: str | None = None,
    ) -> dict:
        rng = self._rng
        first, last = self._name(spanish)
        if last_name:
            last = last_name
        party = self._party(party_id, role, "person")
        party["first_name"], party["last_name"] = first, last
        if spanish:
            party["language"] = "es" if rng.random() < 0.9 else "ES"
        else:
            party["language"] = "en" if rng.random() < 0.6 else ""
        today = reported.astimezone(self.zone).date()
        if minor:
            age = rng.randint(6, 17)
            if rng.random() < 0.7:
                party["date_of_birth"] = self._birth_date(today, age)
            else:
                party["juvenile"] = True
        else:
            age = min(int(rng.triangular(18, 92, 34)), 91)
            if adult or rng.random() > 0.12:
                party["date_of_birth"] = self._birth_date(today, age)
            if rng.random() < 0.2:
                party["juvenile"] = False
        self._contacts(party, minor=minor)
        return party

    def _business(self, party_id: str, *, spanish: bool) -> dict:
        rng = self._rng
        party = self._party(party_id, "victim", "business")
        fake = self._fake_es if spanish and rng.random() < 0.3 else self._fake_en
        party["business_name"] = fake.company()
        party["language"] = "es" if spanish and rng.random() < 0.3 else ""
        self._contacts(party, minor=False)
        return party

    def _suspect(self, party_id: str, reported: dt.datetime) -> dict:
        rng = self._rng
        party = self._party(party_id, "suspect", "person")
        if rng.random() < 0.7:  # otherwise unknown: no name at all
            party["first_name"], party["last_name"] = self._name(rng.random() < 0.3)
            if rng.random() < 0.6:
                age = min(int(rng.triangular(14, 70, 27)), 69)
                party["date_of_birth"] = self._birth_date(reported.date(), age)
            if rng.random() < 0.08:
                party["phone"] = self._phone()
        return party

    @staticmethod
    def _party(party_id: str, role: str, kind: str) -> dict:
        return {
            "party_id": party_id,
            "role": role,
            "kind": kind,
            "first_name": "",
            "last_name": "",
            "business_name": "",
            "phone": "",
            "email": "",
            "language": "",
            "date_of_birth": None,
            "juvenile": None,
            "relationships": [],
        }

    def _birth_date(self, today: dt.date, age: int) -> str:
        """A date of birth that makes someone exactly `age` years old on `today`."""
        day = 28 if (today.month, today.day) == (2, 29) else today.day
        latest = today.replace(year=today.year - age, day=day)
        return (latest - dt.timedelta(days=self._rng.randint(0, 364))).isoformat()

    def _contacts(self, party: dict, *, minor: bool) -> None:
        rng = self._rng
        if minor:
            if rng.random() < 0.4:
                party["phone"] = self._phone()
            return
        draw = rng.random()
        if draw < self._p_none:
            return
        draw -= self._p_none
        if draw < self._p_both:
            party["phone"], party["email"] = self._phone(), self._email(party)
        elif draw < self._p_both + self._p_email:
            party["email"] = self._email(party)
        else:
            party["phone"] = self._phone()

    def _phone(self) -> str:
        rng = self._rng
        for _ in range(20):
            draw = rng.random()
            if draw < 0.3:
                npa = LOCAL_AREA_CODE
            elif draw < 0.4:
                npa = rng.choice(ARIZONA_AREA_CODES)
            else:
                npa = rng.choice(AREA_CODES)
            line = f"01{rng.randint(0, 99):02d}"
            if f"{npa}555{line}" not in self._used_contacts:
                break
        self._used_contacts.add(f"{npa}555{line}")  # distinct phones within one report
        style = _pick(rng, {"paren": 0.35, "dash": 0.35, "digits": 0.15, "e164": 0.1, "dot": 0.05})
        return {
            "paren": f"({npa}) 555-{line}",
            "dash": f"{npa}-555-{line}",
            "digits": f"{npa}555{line}",
            "e164": f"+1{npa}555{line}",
            "dot": f"{npa}.555.{line}",
        }[style]

    def _email(self, party: dict) -> str:
        rng = self._rng
        first = _ascii_slug(party.get("first_name", "")) or "info"
        last = (
            _ascii_slug(party.get("last_name", ""))
            or _ascii_slug(party.get("business_name", ""))[:20]
            or "contact"
        )
        shape = rng.randrange(5)
        number = rng.randint(1, 99)
        local = [
            f"{first}.{last}",
            f"{first[0]}{last}",
            f"{first}{last}{number}",
            f"{last}.{first}{number}",
            f"{first}_{last}",
        ][shape]
        if party.get("kind") == "business":
            local = rng.choice(["info", "manager", "office", "accounts"]) + f".{last[:16]}"
        return f"{local}@{rng.choice(EMAIL_DOMAINS)}"

    # ------------------------------------------------------------------------------- typos

    def _typo(self, record: dict) -> None:
        """One mistake of the kind clerks make, in a value; the keys stay schema-shaped."""
        rng = self._rng
        kind = _pick(
            rng, {"phone": 0.4, "email": 0.2, "offense": 0.15, "division": 0.1, "future": 0.15}
        )
        contactable = [p for p in record["parties"] if p["role"] != "suspect"]
        if kind == "phone":
            party = rng.choice(contactable)
            party["phone"] = self._bad_phone(party["phone"] or self._phone())
        elif kind == "email":
            party = rng.choice(contactable)
            party["email"] = self._bad_email(party["email"] or self._email(party))
        elif kind == "offense":
            known = set(self._by_code)
            record["offenses"][0] = rng.choice([c for c in BAD_OFFENSE_CODES if c not in known])
        elif kind == "division":
            record["division"] = rng.choice([d for d in BAD_DIVISIONS if d not in self.divisions])
        else:
            ahead = self.now + dt.timedelta(hours=rng.uniform(1, 72))
            # A wrong day typed into the report date; the occurrence stays before it.
            record["reported_at"] = self._format_time(ahead.replace(microsecond=0), "naive")

    def _bad_phone(self, good: str) -> str:
        rng = self._rng
        digits = "".join(ch for ch in good if ch.isdigit())[-10:]
        npa, line = digits[:3], digits[6:]
        candidates = [
            f"{npa}-555-{line[:2]}",  # cut short
            f"{npa}-555-{line}{rng.randint(0, 9)}",  # one digit too many
            f"555-{line}",  # no area code
            f"{npa[:2]}O-555-{line}",  # letter O for a zero
            rng.choice(["n/a", "NONE", "refused", "unk", "same"]),
            f"{npa}-555-{line[:3]}",
        ]
        for candidate in rng.sample(candidates, len(candidates)):
            if not _is_valid_phone(candidate):
                return candidate
        return "n/a"

    def _bad_email(self, good: str) -> str:
        rng = self._rng
        local, _, domain = good.partition("@")
        name, _, tld = domain.rpartition(".")
        candidates = [
            f"{local}@{name}{tld}",  # dot missing: maria@examplecom
            f"{local[:2]} {local[2:]}@{domain}",  # a space: jo hn@example.com
            f"{local}@@{domain}",
            f"{local}{domain}",  # @ missing
            f"{local}@{name},{tld}",
            f"{local}@{domain}.",
        ]
        for candidate in rng.sample(candidates, len(candidates)):
            if not _is_valid_email(candidate):
                return candidate
        return f"{local}@{name}{tld}"
