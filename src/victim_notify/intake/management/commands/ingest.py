"""victim-notify ingest PATH --agency SLUG [--mapping NAME] [--contacts FILE] [--dry-run]: take
in a JSON Lines or CSV file of reports, an RMS's own CSV export through one of the agency's
mappings, or a NIBRS file (XML or flat) with its contacts feed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from victim_notify.agencies.models import Agency
from victim_notify.calls.files import is_calls_file, take_in_calls_file
from victim_notify.intake.connectors.database import FeedError
from victim_notify.intake.connectors.mapped_csv import mapping_for, read_mapped_file
from victim_notify.intake.connectors.nibrs import Reading
from victim_notify.intake.connectors.nibrs_files import (
    FLAT,
    XML,
    contacts_beside,
    contacts_view,
    nibrs_kind,
    read_nibrs_file,
    tell_events,
)
from victim_notify.intake.files import UnreadableFile, read_records
from victim_notify.intake.models import CsvMapping, Source
from victim_notify.intake.store import dry_run, ingest


class Command(BaseCommand):
    help = (
        "Take in a file of reports (JSON Lines, or CSV with the documented columns) and print a "
        "JSON summary. Bad records are quarantined and the rest processed (exit 0); a file that "
        "cannot be read at all exits 1."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--agency", required=True, help="The agency's slug.")
        parser.add_argument(
            "--format",
            choices=["jsonl", "csv", XML, FLAT],
            help="Default: from the file name (.xml is NIBRS XML; .nibrs, or .txt and .dat that "
            "start with a NIBRS segment, the NIBRS flat file).",
        )
        parser.add_argument(
            "--contacts",
            type=Path,
            help="For NIBRS: the contacts feed (CSV). Default: NAME.contacts.csv beside the file.",
        )
        parser.add_argument(
            "--mapping",
            help="Read the file through this CSV mapping of the agency's. Default: the mapping "
            "whose file pattern matches the file's name, if any and no --format is given.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be accepted, amended and quarantined, and keep nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agency = Agency.objects.get(slug=options["agency"])
        except Agency.DoesNotExist:
            raise CommandError(f"no agency with slug {options['agency']!r}") from None
        path: Path = options["path"]
        if is_calls_file(path):
            if options["dry_run"]:
                raise CommandError("--dry-run is for reports, not for calls")
            try:
                calls = take_in_calls_file(agency, path)
            except UnreadableFile as exc:
                raise CommandError(f"{path}: {exc}") from exc
            out = {"file": str(path), "calls": True} | calls.as_dict()
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        mapping = None
        if options["mapping"]:
            mapping = CsvMapping.objects.filter(agency=agency, name=options["mapping"]).first()
            if mapping is None:
                raise CommandError(f"the agency has no CSV mapping named {options['mapping']!r}")
        elif not options["format"]:
            mapping = mapping_for(agency, path.name)
        kind = options["format"] if options["format"] in (XML, FLAT) else None
        if mapping is None and not options["format"]:
            kind = nibrs_kind(path)
        try:
            if kind is not None:
                if options["contacts"] and not options["contacts"].exists():
                    raise CommandError(f"no contacts file {options['contacts']}")
                contacts: Path = options["contacts"] or contacts_beside(path)
                if not contacts.exists() and contacts_view(agency) is None:
                    raise CommandError(
                        f"{path}: NIBRS carries no names or phones; give the contacts feed "
                        f"with --contacts FILE (no {contacts.name} beside it, and the agency "
                        "has no contacts view)"
                    )
                given = contacts if contacts.exists() else None
                reading = read_nibrs_file(agency, path, kind, given)
            elif mapping is not None:
                reading = Reading(read_mapped_file(path, mapping))
            else:
                reading = Reading(read_records(path, options["format"]))
        except (UnreadableFile, FeedError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        take_in = dry_run if options["dry_run"] else ingest
        summary = take_in(agency, reading.records, source=Source.FILE, source_name=path.name)
        head: dict[str, Any] = {"file": str(path)}
        if mapping is not None:
            head["mapping"] = mapping.name
        if kind is not None:
            head["format"] = kind
        if options["dry_run"]:
            head["dry_run"] = True
        tail: dict[str, Any] = {"passed_over": reading.passed_over} if reading.passed_over else {}
        if not options["dry_run"]:
            tell_events(agency, reading, tail)
        self.stdout.write(json.dumps(head | summary.as_dict() | tail, ensure_ascii=False, indent=2))
