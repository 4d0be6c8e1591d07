"""An agency's configuration read once into plain values, for deciding and rendering many
records without asking the database again for each one."""

from __future__ import annotations

import datetime as dt
import threading
import time
import zoneinfo
from dataclasses import dataclass, field

from victim_notify.agencies.models import Agency
from victim_notify.rules.eligibility import Policy


@dataclass(frozen=True)
class OffenseWords:
    title: str
    explanation: str
    explanation_short: str
    next_steps: str
    next_steps_short: str


@dataclass(frozen=True)
class OffenseInfo:
    code: str
    title: str
    category: str
    group: str
    section_name: str
    section_phone: str
    section_hours: str
    words: dict[str, OffenseWords]  # by language


@dataclass(frozen=True)
class DivisionInfo:
    id: int
    code: str
    name: str
    substation_name: str
    substation_phone: str
    go_live_date: dt.date | None


@dataclass(frozen=True)
class AgencyConfig:
    agency: Agency
    zone: zoneinfo.ZoneInfo
    languages: tuple[str, ...]
    statutory_notices: dict[str, str]
    offenses: dict[str, OffenseInfo]
    divisions: dict[str, DivisionInfo]
    policy: Policy
    division_by_id: dict[int, DivisionInfo] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "division_by_id", {d.id: d for d in self.divisions.values()})

    @property
    def id(self) -> int:
        return self.agency.pk

    def language_for(self, preferred: str) -> str:
        """The party's language when the agency writes in it, else the agency's default."""
        if preferred in self.languages:
            return preferred
        return self.agency.default_language


def load_config(agency: Agency) -> AgencyConfig:
    agency.refresh_from_db()
    divisions = {
        d.code: DivisionInfo(
            d.pk, d.code, d.name, d.substation_name, d.substation_phone, d.go_live_date
        )
        for d in agency.divisions.all()
    }
    offenses: dict[str, OffenseInfo] = {}
    for offense in agency.offense_codes.select_related("section").prefetch_related("texts"):
        offenses[offense.code] = OffenseInfo(
            code=offense.code,
            title=offense.title,
            category=offense.sensitive_category,
            group=offense.group or "other",
            section_name=offense.section.name,
            section_phone=offense.section.phone,
            section_hours=offense.section.hours,
            words={
                t.language: OffenseWords(
                    t.title, t.explanation, t.explanation_short, t.next_steps, t.next_steps_short
                )
                for t in offense.texts.all()
            },
        )
    languages = {row.language: row.statutory_notice for row in agency.languages.all()}
    languages.setdefault(agency.default_language, "")
    policy = Policy(
        approved_statuses=frozenset(agency.approved_statuses),
        later_statuses=frozenset(agency.case_event_statuses),
        excluded_categories=frozenset(agency.excluded_categories),
        dv_relationship_codes=frozenset(agency.dv_relationship_codes),
        adult_age=agency.adult_age,
        notify_businesses=agency.notify_businesses,
        notify_reporting_parties=agency.notify_reporting_parties,
        sms_enabled=agency.sms_enabled,
        email_enabled=agency.email_enabled,
        email_only_without_text=agency.email_only_without_text,
    )
    return AgencyConfig(
        agency=agency,
        zone=agency.zone,
        languages=tuple(languages),
        statutory_notices={k: v for k, v in languages.items() if v},
        offenses=offenses,
        divisions=divisions,
        policy=policy,
    )


_cache: dict[int, tuple[float, AgencyConfig]] = {}
_cache_lock = threading.Lock()


def cached_config(agency_id: int, max_age: float = 10.0) -> AgencyConfig:
    """The configuration as of at most `max_age` seconds ago: the sender checks every message
    against it at hand-off without reading the whole offense table for each batch."""
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(agency_id)
    if hit is not None and now - hit[0] < max_age:
        return hit[1]
    config = load_config(Agency.objects.get(pk=agency_id))
    with _cache_lock:
        _cache[agency_id] = (now, config)
    return config


def forget(agency_id: int) -> None:
    """Drops this process's cached copy of the agency's configuration, after a change, so the
    next message is checked against it; other processes' copies expire within seconds."""
    with _cache_lock:
        _cache.pop(agency_id, None)
