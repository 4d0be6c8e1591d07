"""Taking in CAD snapshots of calls for service, and the texts they lead to.

Two texts to the caller, each at most once per call (the outbox's facts key is the call and
the text):
- while the call waits: when no unit has been sent within the agency's minutes for its
  priority, a text with the call number and what to expect; it is queued for that moment
  and cancelled at hand-off if a unit was sent in between;
- when the call closes: a text with the call number (and the report number, if one was taken).

A caller is never texted when the agency has call texts off, CAD flags the caller, or the call
type contains a word the agency never texts about (the phone may be a suspect's); the reason
is kept on the call. Each snapshot is taken in its own transaction, holding the call's row, so
two deliveries of the same change at once send one text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from victim_notify.agencies.config import AgencyConfig, cached_config
from victim_notify.agencies.models import Agency
from victim_notify.calls.models import Call, Withheld
from victim_notify.calls.snapshots import Reading, Snapshot
from victim_notify.contacts.models import Contact, ContactKind
from victim_notify.contacts.normalise import display_phone, normalise_phone
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.render import render_answer
from victim_notify.messages.schedule import TemplateBook

# A text about a call is worth sending only while it is news.
MAX_AGE: dict[str, dt.timedelta] = {
    MessageKind.CALL_RECEIVED: dt.timedelta(hours=1),
    MessageKind.CALL_CLOSED: dt.timedelta(hours=6),
}
_TIMES = ("received_at", "dispatched_at", "on_scene_at", "closed_at")


@dataclass
class CallSummary:
    received: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    texts_queued: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def take_in(
    agency: Agency, readings: Iterable[Reading], now: dt.datetime | None = None
) -> CallSummary:
    summary = CallSummary()
    for reading in readings:
        summary.received += 1
        if reading.snapshot is None:
            summary.rejected.append(
                {
                    "index": reading.index,
                    "call_number": reading.call_number or None,
                    "errors": [e.as_dict() for e in reading.errors],
                }
            )
            continue
        outcome, queued = _take(agency, reading.snapshot, now or timezone.now())
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        summary.texts_queued += queued
    return summary


def _take(agency: Agency, snapshot: Snapshot, now: dt.datetime) -> tuple[str, int]:
    for attempt in range(2):
        try:
            with transaction.atomic():
                call = (
                    Call.objects.select_for_update()
                    .filter(agency=agency, call_number=snapshot.call_number)
                    .first()
                )
                if call is None:
                    call, outcome = _new(agency, snapshot), "new"
                elif (
                    snapshot.updated_at
                    and call.cad_updated_at
                    and snapshot.updated_at < call.cad_updated_at
                ):
                    return "stale", 0
                else:
                    outcome = "updated" if _merge(call, snapshot) else "unchanged"
                config = cached_config(agency.pk)
                _decide(call, config)
                call.save()
                return outcome, _queue_texts(call, config, now)
        except IntegrityError:  # another delivery created it first: take it as an update
            if attempt:
                raise
    raise AssertionError("unreachable")


def _new(agency: Agency, snapshot: Snapshot) -> Call:
    call = Call(agency=agency, call_number=snapshot.call_number)
    _merge(call, snapshot)
    return call


def _merge(call: Call, snapshot: Snapshot) -> bool:
    """Fill in what the snapshot says; True when anything changed."""
    fields = (*_TIMES, "priority", "nature", "report_number", "caller_phone_id")
    before = {f: getattr(call, f, None) for f in (*fields, "caller_language", "do_not_text")}
    for name in _TIMES:
        value = getattr(snapshot, name)
        if value is not None:
            setattr(call, name, value)
    for name in ("priority", "nature", "report_number", "caller_language"):
        if getattr(snapshot, name):
            setattr(call, name, getattr(snapshot, name))
    if snapshot.caller_phone:
        call.caller_phone = _phone(call.agency, snapshot.caller_phone)
        call.caller_phone_invalid = call.caller_phone is None
    # Once flagged, the caller stays flagged: when in doubt, do not text.
    call.do_not_text = call.do_not_text or snapshot.do_not_text
    if snapshot.updated_at:
        call.cad_updated_at = snapshot.updated_at
    after = {f: getattr(call, f, None) for f in before}
    return before != after


def _phone(agency: Agency, raw: str) -> Contact | None:
    number = normalise_phone(raw, agency.phone_region)
    if number.value is None or number.landline:
        return None
    return Contact.objects.get_or_add(ContactKind.PHONE, number.value)


def _decide(call: Call, config: AgencyConfig) -> None:
    call.texts_withheld = withheld(call, config) or ""


def withheld(call: Call, config: AgencyConfig) -> str | None:
    """Why the caller is not to be texted, or None."""
    agency = config.agency
    if not agency.call_texts_enabled:
        return Withheld.DISABLED
    if call.do_not_text:
        return Withheld.DO_NOT_TEXT
    if _excluded_nature(call.nature, agency.call_natures_not_texted):
        return Withheld.EXCLUDED_NATURE
    if call.caller_phone_id is None:
        return Withheld.INVALID_PHONE if call.caller_phone_invalid else Withheld.NO_PHONE
    return None


def _excluded_nature(nature: str, words: list[str]) -> bool:
    return any(re.search(rf"\b{re.escape(w.strip())}\b", nature, re.IGNORECASE) for w in words)


def wait_minutes(call: Call, config: AgencyConfig) -> int | None:
    minutes = config.agency.call_wait_minutes.get(call.priority.lstrip("Pp0") or "0")
    return minutes if isinstance(minutes, int) else None


def _queue_texts(call: Call, config: AgencyConfig, now: dt.datetime) -> int:
    if call.texts_withheld or call.caller_phone is None:
        return 0
    queued = 0
    minutes = wait_minutes(call, config)
    if minutes is not None and not call.answered:
        due = max(call.received_at + dt.timedelta(minutes=minutes), now)
        if due - call.received_at < MAX_AGE[MessageKind.CALL_RECEIVED]:
            queued += _queue(
                call, config, MessageKind.CALL_RECEIVED, due, {"wait_minutes": minutes}
            )
    if call.closed_at and now - call.closed_at < MAX_AGE[MessageKind.CALL_CLOSED]:
        queued += _queue(call, config, MessageKind.CALL_CLOSED, now, {"wait_minutes": minutes or 0})
    return queued


def call_context(
    config: AgencyConfig, call_number: str, received_at: dt.datetime, report_number: str
) -> dict[str, object]:
    """What a caller's text can show (templating.CALL_PLACEHOLDERS)."""
    agency = config.agency
    return {
        "agency_name": agency.name,
        "agency_short_name": agency.short_name,
        "agency_phone": display_phone(agency.main_phone) if agency.main_phone else "",
        "call_number": call_number,
        "report_number": report_number,
        "received_time": timezone.localtime(received_at, config.zone).strftime("%H:%M"),
        "wait_minutes": 0,
    }


def facts_key(call: Call, kind: str) -> str:
    return f"call:{call.pk}:{kind}"


def _queue(
    call: Call, config: AgencyConfig, kind: str, due: dt.datetime, extra: dict[str, Any]
) -> int:
    """Queue the text unless it went already (the call's row is held: one at a time)."""
    if kind in call.texts_queued:
        return 0
    assert call.caller_phone is not None
    language = config.language_for(call.caller_language)
    template = TemplateBook(config).get(kind, "sms", language)
    agency = config.agency
    context = call_context(config, call.call_number, call.received_at, call.report_number)
    context.update(extra)
    rendered = render_answer(template, context, config, "sms", language)
    Notification.objects.create(
        agency=agency,
        contact=call.caller_phone,
        kind=kind,
        channel="sms",
        language=language,
        facts_key=facts_key(call, kind),
        template=template,
        **rendered.content(),
        status=Status.PENDING,
        due_at=due,
        not_before=due,
        expires_at=due + MAX_AGE[kind],
    )
    call.texts_queued = [*call.texts_queued, kind]
    Call.objects.filter(pk=call.pk).update(texts_queued=call.texts_queued)
    return 1
