"""Files an RMS drops into a folder: VN_DROP_DIR/<agency slug>/*.jsonl|*.csv, or an RMS's own
CSV export read through the agency's mapping for files of that name (`connectors.mapped_csv`).

The worker looks every few seconds. A file is taken once its size has stopped changing, is
recorded by its SHA-256 (the same bytes dropped again are not taken in twice), and moved to
done/ (or rejected/ when it cannot be read at all) with a .summary.json beside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from victim_notify.agencies.models import Agency
from victim_notify.intake.connectors.mapped_csv import (
    FILE_SUFFIXES,
    mapping_for,
    read_mapped_file,
)
from victim_notify.intake.files import UnreadableFile, read_records
from victim_notify.intake.models import ImportFile, Source
from victim_notify.intake.store import IncomingRecord, ingest

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0  # a file still being written changes size or mtime within this time
STALE_RUN = dt.timedelta(minutes=10)  # an import left 'running' this long died; take it again
# The documented formats, and what RMS exports read through a CSV mapping may be named.
SUFFIXES = {".jsonl", *FILE_SUFFIXES}


def waiting_files(drop_dir: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    if not drop_dir.is_dir():
        return found
    for agency_dir in sorted(p for p in drop_dir.iterdir() if p.is_dir()):
        for path in sorted(agency_dir.iterdir()):
            if path.is_file() and path.suffix.lower() in SUFFIXES:
                if time.time() - path.stat().st_mtime >= SETTLE_SECONDS:
                    found.append((agency_dir.name, path))
    return found


def _claim(agency: Agency, path: Path, digest: str) -> ImportFile | None:
    try:
        with transaction.atomic():
            return ImportFile.objects.create(
                agency=agency, name=path.name, sha256=digest, status="running"
            )
    except IntegrityError:
        pass
    stale = timezone.now() - STALE_RUN
    existing = ImportFile.objects.get(agency=agency, sha256=digest)
    if existing.status == "running" and ImportFile.objects.filter(
        pk=existing.pk, status="running", created_at__lt=stale
    ).update(created_at=timezone.now()):
        return existing
    return None


def _move(path: Path, folder: str, summary: dict[str, Any]) -> None:
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f"{timezone.now():%Y%m%dT%H%M%S}-{path.name}"
    path.replace(target)
    target.with_name(target.name + ".summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False)
    )


def records_in(agency: Agency, path: Path) -> list[IncomingRecord]:
    """Every record in a file, read with the agency's CSV mapping for files of that name if
    it has one, otherwise as a file in the documented formats."""
    mapping = mapping_for(agency, path.name)
    if mapping is None:
        if path.suffix.lower() not in {".jsonl", ".csv"}:
            raise UnreadableFile(
                f"no CSV mapping of this agency is for files named like {path.name!r}: name "
                "the file to match one, or use the documented .jsonl or .csv formats"
            )
        return read_records(path)
    return read_mapped_file(path, mapping)


def import_waiting_files(drop_dir: Path | None = None) -> list[dict[str, Any]]:
    done = []
    for slug, path in waiting_files(drop_dir or settings.DROP_DIR):
        agency = Agency.objects.filter(slug=slug).first()
        if agency is None:
            log.warning("drop folder for an unknown agency", extra={"folder": slug})
            continue
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            continue  # another worker took it and moved it to done/ since we looked
        job = _claim(agency, path, digest)
        if job is None:
            existing = ImportFile.objects.get(agency=agency, sha256=digest)
            if existing.status != "running":
                try:
                    _move(
                        path,
                        "done",
                        {"duplicate_of": existing.name, "imported_at": str(existing.finished_at)},
                    )
                except FileNotFoundError:
                    pass  # another worker set the same copy aside first
            continue
        try:
            summary: dict[str, Any] = ingest(
                agency, records_in(agency, path), source=Source.FILE, source_name=path.name
            ).as_dict()
            job.status, folder = "done", "done"
        except UnreadableFile as exc:
            summary = {"error": str(exc)}
            job.status, folder = "rejected", "rejected"
        job.summary = {k: v for k, v in summary.items() if k not in ("quarantined", "warnings")} | {
            "quarantined": len(summary.get("quarantined", []))
        }
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "summary", "finished_at"])
        _move(path, folder, summary)
        done.append({"agency": slug, "file": path.name, "status": job.status})
    return done
