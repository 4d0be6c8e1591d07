"""The send path: claim due outbox rows, check them once more, hand them to their providers,
record what happened.

Each step is a row changing state in the database. A row is claimed with a lease (status
`sending`); just before its message can reach a provider, `handed_over_at` is written, so after
a crash we know which rows a provider may have seen. A lease that runs out is looked at again
by `recover_stale_leases`: rows never handed over go back to pending; rows that were are checked
with the provider where it can be asked, and otherwise become `outcome_unknown` for a person
to decide. Nothing is ever silently sent twice.

For a provider that cannot be asked (SMTP, SMPP) `handed_over_at` is written a few rows at a
time, as places among the `concurrency` messages it has in flight come free, so a crash leaves
at most that many rows for a person; the others go back to pending and are sent on restart.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Field, ForeignObjectRel, Q, QuerySet
from django.utils import timezone

from victim_notify import column_arrays
from victim_notify.agencies.config import cached_config
from victim_notify.messages.delivery import after_permanent_failure
from victim_notify.messages.handoff import recheck
from victim_notify.messages.models import Notification, Status
from victim_notify.messages.schedule import quiet_hours
from victim_notify.messages.timing import hold_for_quiet_hours, retry_delay
from victim_notify.messages.unsubscribe import unsubscribe_headers
from victim_notify.providers import health, rate
from victim_notify.providers.base import (
    Accepted,
    Admit,
    CannotBeAsked,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentFailure,
    ProviderError,
    TransientFailure,
)
from victim_notify.providers.registry import names_for, provider_named

log = logging.getLogger(__name__)
T = TypeVar("T")

RECORD_EVERY = 50  # results written per transaction
ASK_AGAIN_AFTER = dt.timedelta(seconds=60)  # long enough for a slow provider to finish
# How long answers already received are kept trying to be written while the database is
# unreachable (a restart, a failover, cut connections) before the round gives up on them.
RECORD_PATIENCE_SECONDS = 60.0
# What a lost or refused connection raises; a statement the database refused is not one.
_CONNECTION_ERRORS = (OperationalError, InterfaceError)
# What sending needs of a notification; the rest of the row stays in the database.
_SEND_FIELDS = (
    "id",
    "agency_id",
    "report_id",
    "party_id",
    "contact_id",
    "kind",
    "channel",
    "facts_key",
    "subject",
    "body",
    "html",
    "attempts",
    "expires_at",
    "status",
)


def claim(worker_id: str, limit: int, now: dt.datetime) -> list[uuid.UUID]:
    """Take up to `limit` due rows for this worker. On PostgreSQL, rows another worker is
    claiming are skipped, not waited for; on SQLite the write lock serialises claims."""
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, not_before__lte=now)
            .order_by("not_before")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(
                status=Status.SENDING,
                claimed_by=worker_id,
                lease_expires_at=now + dt.timedelta(seconds=settings.LEASE_SECONDS),
                attempts=F("attempts") + 1,
                handed_over_at=None,
            )
    return ids


def outgoing(note: Notification) -> OutgoingMessage:
    agency = cached_config(note.agency_id).agency
    return OutgoingMessage(
        notification_id=note.pk,
        channel=note.channel,
        to=note.contact.value,
        sender=agency.sms_from if note.channel == "sms" else agency.sender_email,
        sender_name=agency.sender_name,
        reply_to=agency.reply_to,
        subject=note.subject,
        body=note.body,
        html=note.html,
        headers=unsubscribe_headers(note),
    )


def _mine(note_id: uuid.UUID, worker_id: str) -> QuerySet[Notification]:
    return Notification.objects.filter(pk=note_id, status=Status.SENDING, claimed_by=worker_id)


def send_due(worker_id: str, limit: int | None = None) -> int:
    """One round: claim, check, send, record. Returns how many rows were claimed."""
    now = timezone.now()
    ids = claim(worker_id, limit or settings.WORKER_BATCH_SIZE, now)
    if not ids:
        return 0
    notes = list(
        Notification.objects.filter(pk__in=ids)
        .select_related("contact")
        .only(*_SEND_FIELDS, "contact__value")
    )
    verdicts = recheck(notes, now)
    ready: dict[str, list[Notification]] = defaultdict(list)
    with transaction.atomic():
        for note in notes:
            verdict = verdicts[note.pk]
            if verdict.action == "send":
                ready[note.channel].append(note)
                continue
            changes: dict[str, object] = {
                "status_reason_codes": list(verdict.reasons),
                "lease_expires_at": None,
            }
            if verdict.action == "hold":
                # Not an attempt: the message was never offered to a provider.
                changes.update(
                    status=Status.PENDING,
                    not_before=verdict.not_before,
                    expires_at=verdict.expires_at,
                    attempts=F("attempts") - 1,
                )
            else:
                changes.update(
                    status=Status.CANCELLED if verdict.action == "cancel" else Status.EXPIRED,
                    finished_at=now,
                )
            _mine(note.pk, worker_id).update(**changes)
    if ready:
        _hand_over(worker_id, ready)
    return len(ids)


@dataclass(frozen=True)
class _Lane:
    """Messages going through one provider under one rate allowance."""

    provider: str
    rate_key: str
    per_second: int


def _lanes(ready: dict[str, list[Notification]]) -> dict[_Lane, list[Notification]]:
    lanes: dict[_Lane, list[Notification]] = defaultdict(list)
    chosen: dict[tuple[int, str], health.Route] = {}
    for channel, notes in ready.items():
        for note in notes:
            key = (note.agency_id, channel)
            if key not in chosen:  # one lookup per agency and channel in a batch
                chosen[key] = health.choose(note.agency_id, channel)
            route = chosen[key]
            rate_key = f"{route.provider}:{note.agency_id}" if route.messages_per_second else ""
            lanes[_Lane(route.provider, rate_key, route.messages_per_second)].append(note)
    return lanes


@dataclass
class _Admission:
    """A feeder asking the recording thread to write `handed_over_at` for the next messages
    of its lane, and waiting to hear which it may send."""

    lane: _Lane
    messages: list[OutgoingMessage]
    answered: threading.Event = dataclass_field(default_factory=threading.Event)
    admitted: list[OutgoingMessage] = dataclass_field(default_factory=list)


def _hand_over(worker_id: str, ready: dict[str, list[Notification]]) -> None:
    """Give every ready message to the provider its agency's routes pick (the first one up),
    all providers at once, and record outcomes as they arrive. `handed_over_at` is written
    before a message can reach its provider: after a crash it tells which rows a provider may
    have seen.

    For a provider that can be asked (Twilio, the outbox) a crash costs nothing but a lookup,
    so a lane's rows are all marked at once, in one UPDATE. For one that cannot (SMTP, SMPP)
    every row marked becomes `outcome_unknown` after a crash, so rows are marked in a sliding
    window: the provider admits the next messages only as places among the `concurrency` it
    has in flight come free (Provider.send_many's `admit`)."""
    lanes = _lanes(ready)
    providers = {lane: provider_named(lane.provider) for lane in lanes}  # config errors stop here
    by_id = {note.pk: note for notes in lanes.values() for note in notes}
    messages = {lane: [outgoing(n) for n in notes] for lane, notes in lanes.items()}
    windowed = {
        lane
        for lane, provider in providers.items()
        if not provider.can_be_asked and not provider.uses_database
    }
    now = timezone.now()
    for lane, notes in lanes.items():
        if lane not in windowed:
            Notification.objects.filter(
                pk__in=[n.pk for n in notes], status=Status.SENDING, claimed_by=worker_id
            ).update(handed_over_at=now, provider=lane.provider)

    results: queue.Queue[tuple[uuid.UUID, Accepted | ProviderError, str] | _Admission | None] = (
        queue.Queue()
    )
    # A provider that is the database itself (the development outbox) writes on this thread's
    # connection; the others run in feeder threads so every provider is in flight at once.
    inline = [lane for lane in lanes if providers[lane].uses_database]
    pending: list[tuple[Notification, Accepted | ProviderError, str]] = []
    for lane in inline:
        for message, result in providers[lane].send_many(messages[lane]):
            pending.append((by_id.pop(message.notification_id), result, lane.provider))

    # The windowed lanes' rows are marked on this thread, the one that records, on its own
    # connection: a feeder asks (an _Admission on the results queue) and waits for the answer.
    # Not on the feeder's or the provider's threads with connections of their own: that would
    # be a connection per lane held open across slow provider calls, writers contending for
    # SQLite's one write lock within a worker, and rows a test's open transaction holds
    # invisible to them. Marking waits behind at most one write of outcomes.
    abandoned = threading.Event()  # this thread stopped: admit nothing more

    def admit_for(lane: _Lane) -> Admit:
        def admit(group: list[OutgoingMessage]) -> list[OutgoingMessage]:
            if abandoned.is_set():
                return []
            request = _Admission(lane, group)
            results.put(request)
            while not request.answered.wait(0.5):
                if abandoned.is_set():
                    return []
            return request.admitted

        return admit

    def feed(lane: _Lane) -> None:
        admit = admit_for(lane) if lane in windowed else None
        try:
            waiting = messages[lane]
            while waiting:
                allowed = len(waiting)
                if lane.per_second:
                    allowed = rate.wait_for_allowance(lane.rate_key, allowed, lane.per_second)
                batch, waiting = waiting[:allowed], waiting[allowed:]
                sent = (
                    providers[lane].send_many(batch, admit=admit)
                    if admit
                    else providers[lane].send_many(batch)
                )
                for message, result in sent:
                    results.put((message.notification_id, result, lane.provider))
        finally:
            if lane.per_second:
                connection.close()  # the allowance lives in the database
            results.put(None)

    feeders = [
        threading.Thread(target=feed, args=(lane,), name=f"feed-{lane.provider}")
        for lane in lanes
        if lane not in inline
    ]
    for feeder in feeders:
        feeder.start()
    running = len(feeders)
    last_renewal = time.monotonic()
    try:
        while running:
            item = results.get()
            if item is None:
                running -= 1
                continue
            if isinstance(item, _Admission):
                for note_id in _admit(worker_id, item):
                    del by_id[note_id]  # never sent: nothing to record
                continue
            pending.append((by_id.pop(item[0]), item[1], item[2]))
            if len(pending) >= RECORD_EVERY:
                _record_patiently(worker_id, pending)
                pending = []
            if time.monotonic() - last_renewal > settings.LEASE_SECONDS / 3:
                _renew_leases(worker_id, list(by_id))
                last_renewal = time.monotonic()
        _record_patiently(worker_id, pending)
    except BaseException:
        abandoned.set()
        raise
    for feeder in feeders:
        feeder.join()


def _admit(worker_id: str, request: _Admission) -> list[uuid.UUID]:
    """Mark a feeder's next rows handed over and let it send those this worker still holds;
    returns the ids of those it may not send. A row the lease sweep took over meanwhile (this
    round ran past its lease) may already be pending again or sent by another worker. While
    the database is unreachable nothing is sent: the rows stay unmarked, so the sweep puts
    them back to pending when their lease runs out."""
    ids = [m.notification_id for m in request.messages]
    held: set[uuid.UUID] = set()
    try:
        held = _patiently(
            lambda: _mark_handed_over(worker_id, ids, request.lane.provider),
            "rows not marked handed over yet",
            len(ids),
        )
    except _CONNECTION_ERRORS:
        log.warning("rows not handed over: the database is unreachable", extra={"rows": len(ids)})
        connection.close()
        return ids
    finally:
        request.admitted = [m for m in request.messages if m.notification_id in held]
        request.answered.set()
    refused = [note_id for note_id in ids if note_id not in held]
    if refused:
        log.warning("rows taken over before their hand-over", extra={"rows": len(refused)})
    return refused


def _mark_handed_over(worker_id: str, ids: list[uuid.UUID], provider: str) -> set[uuid.UUID]:
    """Which of the rows are marked. The lease is renewed with the mark, so the sweep cannot
    requeue a row between this write and its hand-over."""
    now = timezone.now()
    mine = Notification.objects.filter(pk__in=ids, status=Status.SENDING, claimed_by=worker_id)
    marked = mine.update(
        handed_over_at=now,
        provider=provider,
        lease_expires_at=now + dt.timedelta(seconds=settings.LEASE_SECONDS),
    )
    if marked == len(ids):
        return set(ids)
    return set(mine.values_list("pk", flat=True))  # the rows just marked: they stay ours


def _renew_leases(worker_id: str, ids: list[uuid.UUID]) -> None:
    """Best effort: a lease that cannot be renewed while the database is away only means the
    rows may be looked at again; the answers still coming in must not be dropped for it."""
    try:
        Notification.objects.filter(pk__in=ids, status=Status.SENDING, claimed_by=worker_id).update(
            lease_expires_at=timezone.now() + dt.timedelta(seconds=settings.LEASE_SECONDS)
        )
    except _CONNECTION_ERRORS:
        log.warning("leases not renewed: the database is unreachable", exc_info=True)
        connection.close()


def _record_patiently(
    worker_id: str, results: list[tuple[Notification, Accepted | ProviderError, str]]
) -> None:
    """Record outcomes, trying again while the database is unreachable. The providers'
    answers exist only in this process's memory: dropped, every row would wait for its lease
    to run out, and a message to a provider that cannot be asked (SMTP, SMPP) would end
    `outcome_unknown` although it was sent. Writing late is safe: only rows this worker still
    holds change, so a row the lease sweep took over meanwhile keeps what the sweep found."""
    _patiently(lambda: _record(worker_id, results), "outcomes not recorded yet", len(results))


def _patiently(action: Callable[[], T], what: str, rows: int) -> T:
    """Run a write, trying again for RECORD_PATIENCE_SECONDS while the database is
    unreachable; then the connection error is raised."""
    deadline = time.monotonic() + RECORD_PATIENCE_SECONDS
    pause = 0.1
    while True:
        try:
            return action()
        except _CONNECTION_ERRORS:
            if time.monotonic() >= deadline:
                raise
            log.warning(
                f"{what}: the database is unreachable; trying again",
                extra={"rows": rows},
                exc_info=True,
            )
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def _record(
    worker_id: str, results: list[tuple[Notification, Accepted | ProviderError, str]]
) -> None:
    if not results:
        return
    now = timezone.now()
    # One guarded UPDATE per kind of outcome: only rows still claimed by this worker change.
    groups: dict[tuple[str, ...], list[Notification]] = defaultdict(list)
    for note, result, provider in results:
        changes = _outcome(note, result, now, provider_named(provider).can_be_asked)
        for field, value in changes.items():
            setattr(note, field, value)
        groups[tuple(sorted(changes))].append(note)
    with transaction.atomic():
        for fields, notes in groups.items():
            changed = _update_claimed(worker_id, fields, notes)
            if changed < len(notes):
                log.warning(
                    "outcomes arrived after their lease was taken over",
                    extra={"late": len(notes) - changed},
                )
        for note, result, _ in results:
            if isinstance(result, PermanentFailure) and note.status == Status.FAILED_PERMANENT:
                after_permanent_failure(note, result.code, str(result))
    try:
        _note_health(results, now)
    except _CONNECTION_ERRORS:
        # The outcomes are written; the failover's counts can miss one round.
        log.warning("provider health not updated: the database is unreachable", exc_info=True)
        connection.close()


def _note_health(
    results: list[tuple[Notification, Accepted | ProviderError, str]], now: dt.datetime
) -> None:
    """Tell the failover what each provider just did. Messages that failed on a provider now
    out of use try the next provider at once instead of waiting out their backoff."""
    by_provider: dict[str, list[tuple[Notification, Accepted | ProviderError]]] = defaultdict(list)
    for note, result, provider in results:
        by_provider[provider].append((note, result))
    for provider, outcomes in by_provider.items():
        successes = sum(isinstance(r, Accepted) for _, r in outcomes)
        failures = [(n, r) for n, r in outcomes if type(r) is TransientFailure]
        if not successes and not failures:
            continue
        health.note_results(
            provider, successes, len(failures), str(failures[-1][1]) if failures else ""
        )
        if failures and provider in health.down_providers():
            Notification.objects.filter(
                pk__in=[n.pk for n, _ in failures], status=Status.PENDING
            ).update(not_before=now)


def _update_claimed(worker_id: str, fields: tuple[str, ...], notes: list[Notification]) -> int:
    """Write the given fields of rows this worker still holds; returns how many it held.

    Django's bulk_update builds a CASE expression per row and field, which cost more than the
    sending itself at tens of thousands of messages: on PostgreSQL this is one UPDATE joined to
    the new values as arrays, elsewhere one executemany statement.
    """
    meta = Notification._meta
    quote = connection.ops.quote_name
    columns = [_stored(meta.get_field(name)) for name in fields]
    rows = [
        [c.get_db_prep_save(getattr(note, c.attname), connection) for c in columns]
        + [meta.pk.get_db_prep_value(note.pk, connection)]
        for note in notes
    ]
    # Only names from the model's own metadata go into the text; every value is a parameter.
    table, pk = quote(meta.db_table), quote(column_arrays.column_name(meta.pk))
    status, claimed_by = quote("status"), quote("claimed_by")
    if column_arrays.wanted(connection):
        names = [f"v{index}" for index in range(len(columns))]
        assignments = ", ".join(
            f"{quote(column_arrays.column_name(c))} = v.{name}"
            for c, name in zip(columns, names, strict=True)
        )
        unnest = column_arrays.unnest(connection, [*columns, meta.pk])
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608
            f"FROM {unnest} AS v({', '.join(names)}, row_id) "
            f"WHERE {table}.{pk} = v.row_id AND {table}.{status} = %s "
            f"AND {table}.{claimed_by} = %s"
        )
        params = [*column_arrays.columns(rows, len(columns) + 1), Status.SENDING, worker_id]
        with column_arrays.cursor(connection) as cursor:
            cursor.execute(sql, params, binary=True, prepare=False)
            return cursor.rowcount
    assignments = ", ".join(f"{quote(column_arrays.column_name(c))} = %s" for c in columns)
    guard = f"{pk} = %s AND {status} = %s AND {claimed_by} = %s"
    sql = f"UPDATE {table} SET {assignments} WHERE {guard}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*row, Status.SENDING, worker_id] for row in rows])
        return cursor.rowcount


def _stored(field: Field[Any, Any] | ForeignObjectRel) -> Field[Any, Any]:
    assert isinstance(field, Field), "only fields stored in the row are written"
    return field


def _outcome(
    note: Notification, result: Accepted | ProviderError, now: dt.datetime, can_be_asked: bool
) -> dict[str, object]:
    done: dict[str, object] = {"lease_expires_at": None}
    if isinstance(result, Accepted):
        delivered = result.provider_status == "delivered"
        return done | {
            "status": Status.DELIVERED if delivered else Status.SENT,
            "provider_message_id": result.provider_message_id,
            "provider_status": result.provider_status,
            "provider_error_code": "",
            "last_error": "",
            "sent_at": now,
            "finished_at": now if delivered else None,
        }
    failure = done | {"provider_error_code": result.code, "last_error": str(result)[:500]}
    if isinstance(result, OutcomeUnknown):
        if can_be_asked:
            # Stays claimed; when this short lease runs out the provider is asked whether it
            # has the message (recover_stale_leases) before anything is sent again.
            return failure | {"lease_expires_at": now + ASK_AGAIN_AFTER}
        return failure | {"status": Status.OUTCOME_UNKNOWN, "finished_at": now}
    if isinstance(result, PermanentFailure):
        return failure | {"status": Status.FAILED_PERMANENT, "finished_at": now}
    next_try = now + retry_delay(
        note.attempts, settings.RETRY_BASE_SECONDS, settings.RETRY_MAX_SECONDS
    )
    expires_at = note.expires_at
    if note.channel == "sms":
        next_try, expires_at = hold_for_quiet_hours(
            next_try, expires_at, quiet_hours(cached_config(note.agency_id))
        )
    if note.attempts >= settings.MAX_SEND_ATTEMPTS or next_try >= expires_at:
        return failure | {
            "status": Status.FAILED_TEMPORARY,
            "status_reason_codes": ["retries_exhausted"],
            "finished_at": now,
        }
    return failure | {"status": Status.PENDING, "not_before": next_try, "expires_at": expires_at}


def recover_stale_leases(now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Look again at rows whose worker stopped recording (it crashed, or was killed)."""
    now = now or timezone.now()
    counts = {"requeued": 0, "found_sent": 0, "unknown": 0}
    stale = list(
        Notification.objects.filter(status=Status.SENDING, lease_expires_at__lt=now).select_related(
            "contact"
        )[:limit]
    )
    for note in stale:
        still_stale = Notification.objects.filter(
            pk=note.pk, status=Status.SENDING, claimed_by=note.claimed_by, lease_expires_at__lt=now
        )
        if note.handed_over_at is None:
            # Guarded: the worker may have marked it (and renewed its lease) since it was read.
            counts["requeued"] += still_stale.filter(handed_over_at__isnull=True).update(
                status=Status.PENDING,
                not_before=now,
                lease_expires_at=None,
                claimed_by="",
                attempts=F("attempts") - 1,
            )
            continue
        provider = provider_named(note.provider or names_for(note.channel)[0])
        try:
            found = provider.find(outgoing(note))
        except CannotBeAsked:
            counts["unknown"] += still_stale.update(
                status=Status.OUTCOME_UNKNOWN,
                finished_at=now,
                lease_expires_at=None,
                last_error=(
                    f"the worker stopped while handing this to {provider.name}, "
                    "which cannot be asked"
                ),
            )
            continue
        except TransientFailure:
            continue  # ask again on the next sweep
        if found is None:
            counts["requeued"] += still_stale.update(
                status=Status.PENDING, not_before=now, lease_expires_at=None, claimed_by=""
            )
        else:
            counts["found_sent"] += still_stale.update(**_outcome(note, found, now, True))
    if any(counts.values()):
        log.info("stale leases recovered", extra=counts)
    return counts


def expire_overdue(now: dt.datetime | None = None) -> int:
    """Pending rows past their maximum age (held ones had their expiry moved with the hold)."""
    now = now or timezone.now()
    return Notification.objects.filter(Q(status=Status.PENDING) & Q(expires_at__lte=now)).update(
        status=Status.EXPIRED, status_reason_codes=["expired"], finished_at=now
    )
