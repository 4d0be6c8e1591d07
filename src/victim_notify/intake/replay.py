"""Replaying a quarantined record once its raw text has been corrected."""

from __future__ import annotations

import json

from django.utils import timezone

from victim_notify.intake.connectors.nibrs_flat import looks_like_flat_file
from victim_notify.intake.files import UnreadableFile, read_csv
from victim_notify.intake.models import QuarantinedRecord, QuarantineStatus, Source
from victim_notify.intake.store import IncomingRecord, ingest


def replay(record: QuarantinedRecord) -> str:
    """Send the record's (possibly corrected) raw JSON through intake again. Returns the
    outcome; when it is still invalid a new quarantined record holds the new errors and this
    one is closed as replayed, so the history of attempts is kept."""
    incoming = read_raw(record.raw, record.record_index or 0)
    summary = ingest(
        record.agency, [incoming], source=Source.REPLAY, source_name=f"quarantine #{record.pk}"
    )
    outcome = summary.results[0].outcome
    record.status = QuarantineStatus.REPLAYED
    record.resolved_at = timezone.now()
    record.resolution_note = f"replayed: {outcome}"
    record.save(update_fields=["status", "resolved_at", "resolution_note"])
    return outcome


def read_raw(raw: str, index: int) -> IncomingRecord:
    """A quarantined record's raw text read as intake reads it: a JSON object, or a CSV header
    and the rows of one report."""
    if raw.lstrip().startswith("{"):
        try:
            return IncomingRecord(index, raw, json.loads(raw))
        except json.JSONDecodeError as exc:
            return IncomingRecord(index, raw, parse_error=f"not valid JSON: {exc.msg}")
    if raw.lstrip().startswith("<") or looks_like_flat_file(raw.encode()):
        return IncomingRecord(
            index,
            raw,
            parse_error="a NIBRS report that could not be read cannot be corrected here: correct "
            "it in the RMS and send the incident again",
        )
    # Records from CSV files are kept as their header and rows.
    try:
        first = next(iter(read_csv(raw.encode())), None)
    except UnreadableFile as exc:
        return IncomingRecord(index, raw, parse_error=str(exc))
    return first or IncomingRecord(index, raw, parse_error="no rows")
