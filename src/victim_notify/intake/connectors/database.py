"""Reports read from a view in the agency's own database (PostgreSQL or MariaDB), through
SQLAlchemy Core; and the contacts feed of NIBRS files looked up in such a view.

A report is only whole with all its people, so the view is read a report at a time: a report
read from its one changed row would lose the others. A report's change time is the latest of
its rows'. Polling keeps a high-water mark, the (change time, report number) of the last report
read; each poll reads the reports whose change time is past it, in that order, up to a batch,
each with all its rows. So a report is read once for each time it changes, and a batch never
ends half-way through one. The reports go through intake and the mark moves on in one
transaction of ours, so a crash in between reads the same reports again and intake, which
takes the same content once, sends nothing twice.

Rows are only read once they are `settle_seconds` old by the database's own clock: a row whose
change is still being committed carries a time that is already past, and reading past it
before it is visible would skip it for good.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from victim_notify.intake.connectors.contacts import ContactBook, book_from_rows
from victim_notify.intake.connectors.mapped_csv import FIELDS, sources, translate
from victim_notify.intake.files import PARTY_COLUMNS, REPORT_COLUMNS, reports_from_rows
from victim_notify.intake.models import DatabaseFeed, FeedPurpose, Source
from victim_notify.intake.store import IncomingRecord, IngestSummary, ingest

log = logging.getLogger(__name__)

BATCH_REPORTS = 200
LEASE = dt.timedelta(minutes=5)
_engines: dict[tuple[int, str], sa.Engine] = {}


class FeedError(Exception):
    """The feed cannot be read as configured; the message says why, for the administrator."""


@dataclass
class PollResult:
    reports: int
    summary: IngestSummary


def engine(feed: DatabaseFeed) -> sa.Engine:
    key = (feed.pk, feed.database_url)
    if key not in _engines:
        try:
            _engines[key] = sa.create_engine(feed.database_url, pool_pre_ping=True, pool_size=1)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise FeedError(f"the database URL cannot be used: {exc}") from exc
    return _engines[key]


def _table(connection: sa.Connection, view: str) -> sa.Table:
    schema, _, name = view.rpartition(".")
    try:
        return sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=connection)
    except sa.exc.NoSuchTableError:
        raise FeedError(f"the database has no view or table {view!r}") from None


def _column(table: sa.Table, name: str, what: str) -> sa.Column[Any]:
    if name not in table.c:
        raise FeedError(f"{table.fullname} has no column {name!r} ({what})")
    return table.c[name]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def _problem(exc: sa.exc.SQLAlchemyError) -> str:
    """The database's own words (not SQLAlchemy's, which repeat the statement)."""
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {str(cause).strip()[:200]}"


def _load(text: str) -> Any:
    return dt.datetime.fromisoformat(text) if text else None


def poll(feed: DatabaseFeed, batch: int = BATCH_REPORTS) -> PollResult:
    """Read the reports changed since the mark, take them in, move the mark. Raises FeedError
    when the view cannot be read as configured."""
    report_column = _report_column(feed)
    try:
        with engine(feed).connect() as connection:
            table = _table(connection, feed.view)
            changed = _column(table, feed.changed_column, "when each row changed")
            number = _column(table, report_column, "the report number")
            for name in _needed_columns(feed):
                _column(table, name, "named by the mapping")
            now: dt.datetime = connection.execute(
                sa.select(sa.func.current_timestamp())
            ).scalar_one()
            upto = now - dt.timedelta(seconds=feed.settle_seconds)
            since = _load(feed.high_water_changed)
            if since is None:  # a new feed starts from now: history is not sent
                _mark(feed, _text(upto), "")
                return PollResult(0, IngestSummary())
            last_change = sa.func.max(changed)
            after = last_change > since
            if feed.high_water_key:
                after = sa.or_(after, sa.and_(last_change == since, number > feed.high_water_key))
            touched = sa.select(number).where(changed >= since)
            found = connection.execute(
                sa.select(number, last_change)
                .where(number.in_(touched))
                .group_by(number)
                .having(after, last_change <= upto)
                .order_by(last_change, number)
                .limit(batch)
            ).all()
            if not found:
                _mark(feed, feed.high_water_changed, feed.high_water_key)
                return PollResult(0, IngestSummary())
            rows = (
                connection.execute(
                    sa.select(table).where(number.in_([row[0] for row in found])).order_by(number)
                )
                .mappings()
                .all()
            )
    except sa.exc.SQLAlchemyError as exc:
        raise FeedError(_problem(exc)) from exc

    records = list(_records(feed, rows))
    last_number, last_time = found[-1]
    with transaction.atomic():
        summary = ingest(feed.agency, records, source=Source.DATABASE, source_name=feed.name)
        _mark(feed, _text(last_time), _text(last_number))
    return PollResult(len(found), summary)


def _report_column(feed: DatabaseFeed) -> str:
    if feed.mapping is None:
        return "report_number"
    columns = sources(feed.mapping, "report_number")
    if len(columns) != 1:
        raise FeedError(f"mapping {feed.mapping.name!r} names no report number column")
    return columns[0]


def _needed_columns(feed: DatabaseFeed) -> list[str]:
    if feed.mapping is None:
        return ["report_number", "party_id", "role"]
    return [column for field in FIELDS for column in sources(feed.mapping, field)]


def _records(feed: DatabaseFeed, rows: Sequence[Any]) -> Iterable[IncomingRecord]:
    """The rows as records: grouped by report as the documented CSV is."""
    ours = [*REPORT_COLUMNS, *PARTY_COLUMNS]
    texts: list[tuple[int, dict[str, str]]] = []
    for index, row in enumerate(rows, start=1):
        cells = {str(k): _text(v) for k, v in row.items()}
        if feed.mapping is not None:
            texts.append((index, translate(cells, feed.mapping)))
        else:
            texts.append((index, {c: cells.get(c, "") for c in ours}))
    return reports_from_rows(ours, texts)


def _mark(feed: DatabaseFeed, changed: str, key: str) -> None:
    feed.high_water_changed, feed.high_water_key = changed, key
    feed.last_polled_at, feed.last_error = timezone.now(), ""
    feed.save(
        update_fields=["high_water_changed", "high_water_key", "last_polled_at", "last_error"]
    )


def contacts_for(feed: DatabaseFeed, numbers: Iterable[str]) -> ContactBook:
    """The contacts feed rows of these incidents, from the agency's contacts view."""
    wanted = sorted({n for n in numbers if n})
    try:
        with engine(feed).connect() as connection:
            table = _table(connection, feed.view)
            incident = _column(table, "incident_number", "the incident number")
            rows = connection.execute(sa.select(table).where(incident.in_(wanted))).mappings().all()
    except sa.exc.SQLAlchemyError as exc:
        raise FeedError(_problem(exc)) from exc
    return book_from_rows(
        (index, {str(k): _text(v) for k, v in row.items()}) for index, row in enumerate(rows, 1)
    )


def poll_due_feeds(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Poll every enabled reports feed whose time has come; one worker at a time per feed
    (the one whose update takes its lease)."""
    now = now or timezone.now()
    done = []
    feeds = DatabaseFeed.objects.filter(enabled=True, purpose=FeedPurpose.REPORTS)
    for feed in feeds.select_related("agency", "mapping"):
        since = now - dt.timedelta(seconds=feed.poll_seconds)
        if feed.last_polled_at and feed.last_polled_at > since:
            continue
        free = Q(polling_until__isnull=True) | Q(polling_until__lt=now)
        if not DatabaseFeed.objects.filter(free, pk=feed.pk).update(polling_until=now + LEASE):
            continue
        try:
            result = poll(feed)
            done.append({"feed": feed.name} | result.summary.as_dict())
        except FeedError as exc:
            log.warning(
                "database feed cannot be read", extra={"feed": feed.name, "error": str(exc)}
            )
            DatabaseFeed.objects.filter(pk=feed.pk).update(
                last_error=str(exc)[:300], last_polled_at=now
            )
        finally:
            DatabaseFeed.objects.filter(pk=feed.pk).update(polling_until=None)
    return done
