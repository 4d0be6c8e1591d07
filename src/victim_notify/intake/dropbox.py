"""Files an RMS drops into a folder: VN_DROP_DIR/<agency slug>/*.jsonl|*.csv, an RMS's own
CSV export read through the agency's mapping for files of that name (`connectors.mapped_csv`),
or NIBRS (XML or flat) with its contacts feed beside it (`connectors.nibrs_files`).

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
from victim_notify.calls.files import is_calls_file, take_in_calls_file
from victim_notify.intake.connectors.database import FeedError
from victim_notify.intake.connectors.mapped_csv import (
    FILE_SUFFIXES,
    mapping_for,
    read_mapped_file,
)
from victim_notify.intake.connectors.nibrs import Reading
from victim_notify.intake.connectors.nibrs_files import (
    FLAT_SUFFIXES,
    contacts_beside,
    contacts_view,
    is_contacts_file,
    nibrs_kind,
    read_nibrs_file,
    tell_events,
)
from victim_notify.intake.files import UnreadableFile, read_records
from victim_notify.intake.models import ImportFile, Source
from victim_notify.intake.store import ingest

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0  # a file still being written changes size or mtime within this time
STALE_RUN = dt.timedelta(minutes=10)  # an import left 'running' this long died; take it again
# How long a NIBRS file waits for its contacts file before it is set aside.
CONTACTS_WAIT = dt.timedelta(minutes=15)
# The documented formats, what RMS exports read through a CSV mapping may be named, and NIBRS.
SUFFIXES = {".jsonl", ".xml", ".json", *FILE_SUFFIXES, *FLAT_SUFFIXES}


def waiting_files(drop_dir: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    if not drop_dir.is_dir():
        return found
    for agency_dir in sorted(p for p in drop_dir.iterdir() if p.is_dir()):
        for path in sorted(agency_dir.iterdir()):
            if (
                path.is_file()
                and path.suffix.lower() in SUFFIXES
                and not is_contacts_file(path)  # taken with its NIBRS file
            ):
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
    stamp = f"{timezone.now():%Y%m%dT%H%M%S}"
    target = target_dir / f"{stamp}-{path.name}"
    path.replace(target)
    contacts = contacts_beside(path)
    if nibrs_kind(target) and contacts.exists():
        contacts.replace(target_dir / f"{stamp}-{contacts.name}")
    target.with_name(target.name + ".summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False)
    )


def records_in(agency: Agency, path: Path) -> Reading:
    """Every record in a file, read with the agency's CSV mapping for files of that name if
    it has one, else as NIBRS with its contacts file, else in the documented formats."""
    mapping = mapping_for(agency, path.name)
    if mapping is not None:
        return Reading(read_mapped_file(path, mapping))
    kind = nibrs_kind(path)
    if kind is not None:
        beside = contacts_beside(path)
        if not beside.exists() and contacts_view(agency) is None:
            raise UnreadableFile(
                f"NIBRS carries no names or phones, and no contacts file {beside.name} "
                f"came with it within {CONTACTS_WAIT.seconds // 60} minutes: drop both again"
            )
        return read_nibrs_file(agency, path, kind, beside if beside.exists() else None)
    if path.suffix.lower() not in {".jsonl", ".csv"}:
        raise UnreadableFile(
            f"no CSV mapping of this agency is for files named like {path.name!r}, and it is "
            "not NIBRS: name the file to match a mapping, or use the documented .jsonl or .csv "
            "formats"
        )
    return Reading(read_records(path))


def _waiting_for_contacts(agency: Agency, path: Path) -> bool:
    """A NIBRS file whose contacts file has not come yet, for a while."""
    if mapping_for(agency, path.name) or not nibrs_kind(path):
        return False
    if contacts_beside(path).exists() or contacts_view(agency) is not None:
        return False
    return time.time() - path.stat().st_mtime < CONTACTS_WAIT.total_seconds()


def _digest(path: Path) -> str:
    """The file's SHA-256, with its contacts file's when it has one: the same NIBRS file
    dropped again with corrected contacts is new."""
    digest = hashlib.sha256(path.read_bytes())
    contacts = contacts_beside(path)
    if nibrs_kind(path) and contacts.exists():
        digest.update(contacts.read_bytes())
    return digest.hexdigest()


def import_waiting_files(drop_dir: Path | None = None) -> list[dict[str, Any]]:
    done = []
    for slug, path in waiting_files(drop_dir or settings.DROP_DIR):
        agency = Agency.objects.filter(slug=slug).first()
        if agency is None:
            log.warning("drop folder for an unknown agency", extra={"folder": slug})
            continue
        try:
            if _waiting_for_contacts(agency, path):
                continue
            digest = _digest(path)
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
            summary: dict[str, Any]
            if is_calls_file(path):
                summary = take_in_calls_file(agency, path).as_dict()
            else:
                reading = records_in(agency, path)
                summary = ingest(
                    agency, reading.records, source=Source.FILE, source_name=path.name
                ).as_dict()
                if reading.passed_over:
                    summary["passed_over"] = reading.passed_over
                tell_events(agency, reading, summary)
            job.status, folder = "done", "done"
        except UnreadableFile as exc:
            summary = {"error": str(exc)}
            job.status, folder = "rejected", "rejected"
        except FeedError as exc:  # the contacts view is down: the file is for a later round
            log.warning(
                "contacts view cannot be read", extra={"file": path.name, "error": str(exc)}
            )
            job.delete()
            continue
        lists = ("quarantined", "warnings", "passed_over", "rejected")
        job.summary = {k: v for k, v in summary.items() if k not in lists} | {
            "quarantined": len(summary.get("quarantined", summary.get("rejected", [])))
        }
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "summary", "finished_at"])
        _move(path, folder, summary)
        done.append({"agency": slug, "file": path.name, "status": job.status})
    return done
