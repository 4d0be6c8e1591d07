"""Case events as the RMS sends them: validated, stored once (the RMS's event key, or the
event's kind and time), then announced."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, WithJsonSchema

from victim_notify.agencies.models import Agency
from victim_notify.cases.models import CaseEvent, EventKind
from victim_notify.cases.notify import announce
from victim_notify.contacts.normalise import normalise_phone
from victim_notify.intake.models import Report
from victim_notify.intake.store import VersionEvent
from victim_notify.intake.validate import CLOCK_SKEW, FieldError, pointer


def _text(limit: int, least: int = 0) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=least, max_length=limit)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_number: Annotated[str, _text(40, 1)]
    kind: Annotated[EventKind, WithJsonSchema({"type": "string", "enum": EventKind.values})]
    occurred_at: Annotated[str, _text(40, 1)]
    event_id: Annotated[str, _text(80)] = ""
    detective_name: Annotated[str, _text(120)] = ""
    detective_phone: Annotated[str, _text(40)] = ""
    appearance_at: Annotated[str, _text(40)] = ""
    court: Annotated[str, _text(200)] = ""


@dataclass
class EventSummary:
    received: int = 0
    accepted: int = 0
    unchanged: int = 0
    notifications_queued: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def take_in(agency: Agency, records: list[Any], source: str = "api") -> EventSummary:
    summary = EventSummary()
    now = timezone.now()
    for index, raw in enumerate(records):
        summary.received += 1
        checked = _check(agency, raw, now)
        if isinstance(checked, list):
            number = raw.get("report_number") if isinstance(raw, dict) else None
            summary.rejected.append(
                {
                    "index": index,
                    "report_number": number if isinstance(number, str) else None,
                    "errors": [e.as_dict() for e in checked],
                }
            )
            continue
        try:
            with transaction.atomic():
                checked.source = source
                checked.save()
                summary.notifications_queued += announce(checked, now)
            summary.accepted += 1
        except IntegrityError:  # the same event again
            summary.unchanged += 1
    return summary


def from_versions(agency: Agency, told: list[VersionEvent], now: dt.datetime) -> int:
    """The case events new report versions tell of (a status the agency says means one, a
    detective named), each stored once and announced. Returns how many messages were queued.
    Runs in the transaction that stores the versions.

    A status event the case already has (of that kind, from the RMS's events or an earlier
    status) is not told again: an RMS toggling a status back and forth must not tell a victim
    of a second arrest. A detective is told when their name differs from the last one told."""
    reports = {
        r.report_number: r
        for r in Report.objects.filter(
            agency=agency, report_number__in=[event.report_number for event in told]
        )
    }
    queued = 0
    for item in told:
        report = reports[item.report_number]
        earlier = CaseEvent.objects.filter(report=report, kind=item.kind)
        if item.kind == EventKind.DETECTIVE_ASSIGNED:
            last = earlier.order_by("-occurred_at", "-pk").first()
            if (
                last is not None
                and last.detective_name.casefold() == item.detective_name.casefold()
            ):
                continue
        elif earlier.exists():
            continue
        event, created = CaseEvent.objects.get_or_create(
            report=report,
            event_id=item.event_id,
            defaults={
                "agency": agency,
                "kind": item.kind,
                "occurred_at": now,
                "source": report.source,
                "detective_name": item.detective_name,
                "detective_phone": item.detective_phone,
            },
        )
        if created:
            queued += announce(event, now)
    return queued


def _check(agency: Agency, raw: Any, now: dt.datetime) -> CaseEvent | list[FieldError]:
    if not isinstance(raw, dict):
        return [FieldError("", "each event must be a JSON object")]
    try:
        data = EventIn.model_validate(raw)
    except ValidationError as exc:
        return [
            FieldError(
                pointer(tuple(e["loc"])),
                "required"
                if e["type"] == "missing"
                else "unknown field (check its spelling)"
                if e["type"] == "extra_forbidden"
                else e["msg"],
            )
            for e in exc.errors(include_url=False)
        ]
    errors: list[FieldError] = []
    occurred = _when(data.occurred_at, "/occurred_at", agency, errors)
    if occurred and occurred > now + CLOCK_SKEW:
        errors.append(FieldError("/occurred_at", "is in the future"))
    appearance = _when(data.appearance_at, "/appearance_at", agency, errors)
    if data.kind == EventKind.INITIAL_APPEARANCE and not data.appearance_at:
        errors.append(FieldError("/appearance_at", "required for an initial appearance"))
    if data.kind == EventKind.DETECTIVE_ASSIGNED and not data.detective_name:
        errors.append(FieldError("/detective_name", "required for a detective assigned"))
    phone = ""
    if data.detective_phone:
        normalised = normalise_phone(data.detective_phone, agency.phone_region)
        if normalised.value is None:
            errors.append(FieldError("/detective_phone", normalised.error or "not a phone"))
        phone = normalised.value or ""
    report = Report.objects.filter(agency=agency, report_number=data.report_number).first()
    if report is None:
        errors.append(FieldError("/report_number", "no such report: send the report first"))
    elif report.purged_at is not None:
        errors.append(FieldError("/report_number", "the report's personal data was purged"))
    if errors or occurred is None or report is None:
        return errors
    return CaseEvent(
        agency=agency,
        report=report,
        kind=data.kind,
        event_id=data.event_id or f"{data.kind}:{occurred.isoformat()}",
        occurred_at=occurred,
        detective_name=data.detective_name,
        detective_phone=phone,
        appearance_at=appearance,
        court=data.court,
    )


def _when(text: str, where: str, agency: Agency, errors: list[FieldError]) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(where, "not an ISO 8601 date and time, e.g. 2026-12-03T21:15:00"))
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=agency.zone)
    return value.astimezone(dt.UTC)
