"""Taking in report records: validate, store as a new report or a new version, decide, and
queue messages, all in one transaction per batch, so a crash leaves either all of a batch or
none of it. Bad records go to quarantine with their field errors; the rest of the batch goes on.

The API, the file importer and the simulated feed all come through `ingest`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from victim_notify.agencies.config import AgencyConfig, load_config
from victim_notify.agencies.models import Agency
from victim_notify.contacts.models import Contact
from victim_notify.intake.models import Party, QuarantinedRecord, Report, ReportVersion
from victim_notify.intake.prepared import PreparedInsert
from victim_notify.intake.quiet import heard
from victim_notify.intake.validate import FieldError, ValidParty, ValidReport, validate_record
from victim_notify.messages.models import Notification
from victim_notify.messages.schedule import Schedule, TemplateBook
from victim_notify.messages.schedule import plan as plan_schedule
from victim_notify.privacy.fields import refresh_indexes
from victim_notify.rules.models import Decision
from victim_notify.surveys.assignment import Enrolment

log = logging.getLogger(__name__)

CHUNK_SIZE = 200
# NUL (PostgreSQL refuses it) and lone surrogates (not encodable as UTF-8) cannot be stored or
# answered; a quarantined record may carry them in its raw text, report number or field names.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_PARTY_FIELDS = [
    "role",
    "kind",
    "first_name",
    "last_name",
    "business_name",
    "phone",
    "phone_invalid",
    "phone_is_landline",
    "email",
    "email_invalid",
    "language",
    "date_of_birth",
    "juvenile",
    "relationships",
    "removed",
    "first_name_index",
    "last_name_index",
]
_REPORT_FIELDS = [
    "version",
    "status",
    "occurred_at",
    "reported_at",
    "approved_at",
    "officer_name",
    "officer_badge",
    "detective_name",
    "detective_phone",
    "division",
    "offense_codes",
    "domestic_violence",
    "do_not_notify",
    "source",
    "content_hash",
    "updated_at",
    "needs_advocate_review",
    "purged_at",
]


@dataclass(frozen=True)
class VersionEvent:
    """A case event a new version of a report tells of, keyed so the same version again is
    the same event."""

    report_number: str
    kind: str
    event_id: str
    detective_name: str = ""
    detective_phone: str = ""


@dataclass
class IncomingRecord:
    """One record as received: its position, its exact text (kept if it is quarantined), and
    the parsed value, or the reason it could not be parsed."""

    index: int
    raw: str
    data: Any = None
    parse_error: str | None = None
    # Where a record that could not be read still names its report (rows of one report that
    # disagree, a broken row), so the quarantine shows which report is waiting.
    report_number: str | None = None
    # What the connector that built the record wants kept with it (a victim with no contact
    # record): stored as warnings on the version when the record is taken in.
    notes: list[FieldError] = field(default_factory=list)

    @classmethod
    def from_object(cls, index: int, data: Any) -> IncomingRecord:
        return cls(index, json.dumps(data, ensure_ascii=False, default=str), data)


@dataclass
class RecordResult:
    index: int
    report_number: str | None
    outcome: str  # accepted | unchanged | amended | quarantined
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    quarantine_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"index": self.index, "report_number": self.report_number}
        if self.errors:
            entry["errors"] = self.errors
            entry["quarantine_id"] = self.quarantine_id
        if self.warnings:
            entry["warnings"] = self.warnings
        return entry


@dataclass
class IngestSummary:
    results: list[RecordResult] = field(default_factory=list)
    notifications_queued: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.results, key=lambda r: r.index)
        return {
            "received": len(ordered),
            "accepted": self.count("accepted"),
            "unchanged": self.count("unchanged"),
            "amended": self.count("amended"),
            "quarantined": [r.as_dict() for r in ordered if r.outcome == "quarantined"],
            "warnings": [r.as_dict() for r in ordered if r.warnings and r.outcome != "quarantined"],
            "notifications_queued": self.notifications_queued,
        }


def _storable(text: str) -> str:
    """`text` with each character a database cannot hold written as its JSON escape (\\u0000),
    so raw JSON stays JSON that reads back to the same value."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _chunks(records: Iterable[IncomingRecord], size: int) -> Iterator[list[IncomingRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ingest(
    agency: Agency,
    records: Iterable[IncomingRecord],
    *,
    source: str,
    source_name: str = "",
    now: dt.datetime | None = None,
    trial: bool = False,
) -> IngestSummary:
    """Take records in; `trial` when `dry_run` will roll it all back (said so in the log)."""
    config = load_config(agency)
    book = TemplateBook(config)
    summary = IngestSummary()
    for chunk in _chunks(records, CHUNK_SIZE):
        moment = now or timezone.now()
        valid: list[tuple[IncomingRecord, ValidReport]] = []
        held: list[tuple[IncomingRecord, list[FieldError], str | None]] = []
        for record in chunk:
            if record.parse_error is not None:
                held.append((record, [FieldError("", record.parse_error)], record.report_number))
                continue
            checked = validate_record(record.data, config, moment)
            if isinstance(checked, ValidReport):
                checked.warnings.extend(record.notes)
                valid.append((record, checked))
            else:
                held.append((record, checked, _number(record)))

        # A report number twice in one chunk is an amendment of the first: store in turns.
        while valid:
            seen: set[str] = set()
            batch: list[tuple[IncomingRecord, ValidReport]] = []
            later: list[tuple[IncomingRecord, ValidReport]] = []
            for item in valid:
                (later if item[1].report_number in seen else batch).append(item)
                seen.add(item[1].report_number)
            results, queued, failed = _store_safely(config, book, batch, source, moment)
            summary.results.extend(results)
            summary.notifications_queued += queued
            held.extend(failed)
            valid = later
        summary.results.extend(_quarantine(config, held, source, source_name, trial))
    if summary.results:
        heard(agency, source)
    return summary


def dry_run(
    agency: Agency, records: Iterable[IncomingRecord], *, source: str, source_name: str = ""
) -> IngestSummary:
    """What `ingest` would do with these records (accepted, amended, unchanged, quarantined
    with which errors, how many messages queued), worked out by doing it in transactions that
    are rolled back: nothing is kept and nothing is sent. Each chunk is tried in its own
    transaction so no lock is held for long (on SQLite, the write lock); a report number that
    comes again in a later chunk is judged against what is stored, not against the first."""
    summary = IngestSummary()
    for chunk in _chunks(records, CHUNK_SIZE):
        try:
            with transaction.atomic():
                part = ingest(agency, chunk, source=source, source_name=source_name, trial=True)
                transaction.set_rollback(True)
        except DatabaseError as exc:
            reason = {"pointer": "", "message": f"could not be tried ({type(exc).__name__})"}
            part = IngestSummary(
                [RecordResult(r.index, _number(r), "quarantined", [reason]) for r in chunk]
            )
        summary.results.extend(part.results)
        summary.notifications_queued += part.notifications_queued
    for result in summary.results:
        result.quarantine_id = None  # rolled back with the rest
    return summary


def _number(record: IncomingRecord) -> str | None:
    number = record.data.get("report_number") if isinstance(record.data, dict) else None
    return number if isinstance(number, str) else None


def _quarantine(
    config: AgencyConfig,
    held: list[tuple[IncomingRecord, list[FieldError], str | None]],
    source: str,
    source_name: str,
    trial: bool = False,
) -> list[RecordResult]:
    held = [
        (
            record,
            [FieldError(_storable(e.pointer), _storable(e.message)) for e in errors],
            _storable(number) if number is not None else None,
        )
        for record, errors, number in held
    ]
    rows = QuarantinedRecord.objects.bulk_create(
        [
            QuarantinedRecord(
                agency=config.agency,
                source=source,
                source_name=_storable(source_name)[:300],
                record_index=record.index,
                report_number=(number or "")[:40],
                raw=_storable(record.raw),
                errors=[e.as_dict() for e in errors],
            )
            for record, errors, number in held
        ]
    )
    if rows:
        log.info(
            "records would be quarantined (a dry run)" if trial else "records quarantined",
            extra={"count": len(rows), "agency": config.agency.slug},
        )
    return [
        RecordResult(
            record.index, number, "quarantined", [e.as_dict() for e in errors], quarantine_id=row.pk
        )
        for (record, errors, number), row in zip(held, rows, strict=True)
    ]


class _Stale(Exception):
    """Another process changed a report of the batch between planning and writing."""


@dataclass
class _Plan:
    """Everything a batch will write, worked out before taking the database's write lock."""

    results: list[RecordResult]
    seen: dict[str, tuple[int, str] | None]  # report number -> (version, hash) as read
    amended: list[Report]
    updated_parties: list[Party]
    inserts: list[PreparedInsert | Enrolment]  # in an order that satisfies their foreign keys
    schedule: Schedule
    # What the new versions say happened to their cases (a status, a detective named).
    case_events: list[VersionEvent] = field(default_factory=list)


def _store_safely(
    config: AgencyConfig,
    book: TemplateBook,
    batch: list[tuple[IncomingRecord, ValidReport]],
    source: str,
    now: dt.datetime,
) -> tuple[list[RecordResult], int, list[tuple[IncomingRecord, list[FieldError], str | None]]]:
    """Store a batch; when another process stored one of its reports meanwhile, plan again
    (the report is then an amendment, or unchanged). A record that cannot be stored on its own
    is quarantined instead of failing its neighbours."""
    for _ in range(5):
        try:
            results, queued = _store(config, book, batch, source, now)
            return results, queued, []
        except (IntegrityError, _Stale):
            continue
        except DatabaseError:  # e.g. a value the database refuses: find the record, one by one
            break
    results = []
    queued = 0
    failed: list[tuple[IncomingRecord, list[FieldError], str | None]] = []
    for item in batch:
        try:
            one, count = _store(config, book, [item], source, now)
            results.extend(one)
            queued += count
        except DatabaseError as exc:
            log.exception("record could not be stored", extra={"index": item[0].index})
            failed.append(
                (
                    item[0],
                    [
                        FieldError(
                            "", f"could not be stored ({type(exc).__name__}); kept for replay"
                        )
                    ],
                    item[1].report_number,
                )
            )
    return results, queued, failed


def _store(
    config: AgencyConfig,
    book: TemplateBook,
    batch: list[tuple[IncomingRecord, ValidReport]],
    source: str,
    now: dt.datetime,
) -> tuple[list[RecordResult], int]:
    """Plan outside the write lock (reads, rules, rendering), then write in one transaction,
    after checking nothing the plan read has changed. SQLite has one writer at a time: keeping
    the work outside the lock lets the sender write its outcomes while a big file comes in."""
    plan = _plan(config, book, batch, source, now)
    with transaction.atomic():
        told = _write(plan, config.agency, now)
    return plan.results, len(plan.schedule.notifications) + told


def _plan(
    config: AgencyConfig,
    book: TemplateBook,
    batch: list[tuple[IncomingRecord, ValidReport]],
    source: str,
    now: dt.datetime,
) -> _Plan:
    agency = config.agency
    numbers = [valid.report_number for _, valid in batch]
    existing = {
        r.report_number: r for r in Report.objects.filter(agency=agency, report_number__in=numbers)
    }
    seen = {
        n: (existing[n].version, existing[n].content_hash) if n in existing else None
        for n in numbers
    }
    # Contacts are shared and never removed, so creating them ahead of the batch is harmless
    # even if the batch is then planned again.
    contact_ids = Contact.objects.ids_for(
        {("phone", p.phone) for _, v in batch for p in v.parties if p.phone}
        | {("email", p.email) for _, v in batch for p in v.parties if p.email}
    )

    results: list[RecordResult] = []
    created: list[tuple[Report, ValidReport]] = []
    amended: list[tuple[Report, ValidReport]] = []
    case_events: list[VersionEvent] = []
    for record, valid in batch:
        digest = valid.content_hash()
        warnings = [w.as_dict() for w in valid.warnings]
        report = existing.get(valid.report_number)
        if report is not None and report.content_hash == digest:
            results.append(
                RecordResult(record.index, valid.report_number, "unchanged", warnings=warnings)
            )
            continue
        if report is None:
            report = Report(agency=agency, report_number=valid.report_number, version=1)
            created.append((report, valid))
            outcome = "accepted"
        else:
            report.version += 1
            amended.append((report, valid))
            outcome = "amended"
        case_events.extend(_events_told(report, valid, config))
        _apply(report, valid, config, source, digest, now)
        results.append(RecordResult(record.index, valid.report_number, outcome, warnings=warnings))

    new_parties, updated_parties, parties = _plan_parties(created, amended, contact_ids)
    changed = [(report, parties[report.report_number]) for report, _ in created + amended]
    contact_values = {pk: value for (_, value), pk in contact_ids.items()}
    schedule = plan_schedule(config, book, changed, contact_values, now)
    versions = [
        ReportVersion(
            report=report,
            number=report.version,
            content_hash=report.content_hash,
            payload=valid.payload(),
            warnings=[w.as_dict() for w in valid.warnings],
            source=source,
        )
        for report, valid in created + amended
    ]
    inserts: list[PreparedInsert | Enrolment] = [
        PreparedInsert(Report, [report for report, _ in created]),
        PreparedInsert(ReportVersion, versions),
        PreparedInsert(Party, new_parties),
        schedule.enrolment
        or Enrolment.none(config),  # assignment is recorded before the decisions it leads to
        PreparedInsert(Decision, [decision for decision, _ in schedule.pairs]),
        PreparedInsert(Notification, schedule.notifications),
    ]
    return _Plan(
        results, seen, [r for r, _ in amended], updated_parties, inserts, schedule, case_events
    )


def _write(plan: _Plan, agency: Agency, now: dt.datetime) -> int:
    """Returns how many case-event messages the batch's status changes queued."""
    current = {
        number: (version, digest)
        for number, version, digest in Report.objects.filter(
            agency=agency, report_number__in=list(plan.seen)
        ).values_list("report_number", "version", "content_hash")
    }
    if any(current.get(number) != state for number, state in plan.seen.items()):
        raise _Stale
    Report.objects.bulk_update(plan.amended, _REPORT_FIELDS)
    refresh_indexes(plan.updated_parties)
    Party.objects.bulk_update(plan.updated_parties, _PARTY_FIELDS)
    for insert in plan.inserts:
        insert.execute()
    plan.schedule.cancel_superseded(now)
    if plan.case_events:
        from victim_notify.cases.intake import from_versions  # cases builds on intake

        return from_versions(agency, plan.case_events, now)
    return 0


def _events_told(report: Report, valid: ValidReport, config: AgencyConfig) -> list[VersionEvent]:
    """What a new version says happened, against the report as it stood before it: a status
    the agency says means an event, or a detective not named before. Only about a report
    that was approved (a later status is one an approved report moves on to), or, for the
    detective, one this version approves: its first notice goes, and then who to call.
    Whether the case already had such an event is checked when it is stored (cases.intake)."""
    approved_now = report.approved_at is None and valid.status in config.policy.approved_statuses
    if report.approved_at is None and not approved_now:
        return []
    events = []
    kind = config.agency.case_event_statuses.get(valid.status)
    if kind and valid.status != report.status and not approved_now:
        events.append(
            VersionEvent(report.report_number, kind, f"status:{valid.status}:v{report.version}")
        )
    name, phone = valid.detective_name, valid.detective_phone
    if approved_now and not name:  # named while pending, by a version this one leaves in force
        name, phone = report.detective_name, report.detective_phone
    if name and (approved_now or name.casefold() != report.detective_name.casefold()):
        events.append(
            VersionEvent(
                report.report_number,
                "detective_assigned",
                f"detective:v{report.version}",
                name,
                phone,
            )
        )
    return events


def _apply(
    report: Report,
    valid: ValidReport,
    config: AgencyConfig,
    source: str,
    digest: str,
    now: dt.datetime,
) -> None:
    report.status = valid.status
    report.occurred_at = valid.occurred_at
    report.reported_at = valid.reported_at
    report.officer_name = valid.officer_name
    report.officer_badge = valid.officer_badge
    if valid.detective_name:  # a version that names none leaves the one named before
        report.detective_name = valid.detective_name
        report.detective_phone = valid.detective_phone
    report.division_id = config.divisions[valid.division_code].id
    report.offense_codes = valid.offenses
    report.domestic_violence = valid.domestic_violence
    report.do_not_notify = valid.do_not_notify
    report.source = source
    report.content_hash = digest
    report.updated_at = now
    report.purged_at = None  # a new version brings personal data back: retention starts again
    if report.approved_at is None and valid.status in config.policy.approved_statuses:
        report.approved_at = now


def _fill(party: Party, incoming: ValidParty, contact_ids: dict[tuple[str, str], int]) -> None:
    party.role = incoming.role
    party.kind = incoming.kind
    party.first_name = incoming.first_name
    party.last_name = incoming.last_name
    party.business_name = incoming.business_name
    party.phone_id = contact_ids[("phone", incoming.phone)] if incoming.phone else None
    party.phone_invalid = incoming.phone_invalid
    party.phone_is_landline = incoming.phone_is_landline
    party.email_id = contact_ids[("email", incoming.email)] if incoming.email else None
    party.email_invalid = incoming.email_invalid
    party.language = party.preferred_language or incoming.language
    party.date_of_birth = incoming.date_of_birth
    party.juvenile = incoming.juvenile
    party.relationships = incoming.relationships
    party.removed = False


def _plan_parties(
    created: list[tuple[Report, ValidReport]],
    amended: list[tuple[Report, ValidReport]],
    contact_ids: dict[tuple[str, str], int],
) -> tuple[list[Party], list[Party], dict[str, list[Party]]]:
    """New and changed parties, and every party of each report by report number (a party no
    longer on an amended report is kept, marked removed)."""
    by_report: dict[str, list[Party]] = {}
    new_parties: list[Party] = []
    for report, valid in created:
        by_report[report.report_number] = []
        for incoming in valid.parties:
            party = Party(report=report, party_id=incoming.party_id)
            _fill(party, incoming, contact_ids)
            new_parties.append(party)
            by_report[report.report_number].append(party)

    known: dict[tuple[int, str], Party] = {
        (p.report_id, p.party_id): p
        for p in Party.objects.filter(report__in=[r for r, _ in amended])
    }
    updated: list[Party] = []
    for report, valid in amended:
        by_report[report.report_number] = []
        incoming_ids = set()
        for incoming in valid.parties:
            incoming_ids.add(incoming.party_id)
            known_party = known.get((report.pk, incoming.party_id))
            if known_party is None:
                party = Party(report=report, party_id=incoming.party_id)
                new_parties.append(party)
            else:
                party = known_party
                updated.append(party)
            _fill(party, incoming, contact_ids)
            by_report[report.report_number].append(party)
        for (report_id, party_id), party in known.items():
            if report_id == report.pk and party_id not in incoming_ids:
                party.removed = True
                updated.append(party)
                by_report[report.report_number].append(party)
    return new_parties, updated, by_report
