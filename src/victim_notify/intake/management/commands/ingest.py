"""victim-notify ingest PATH --agency SLUG: take in a JSON Lines or CSV file of reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from victim_notify.agencies.models import Agency
from victim_notify.intake.files import UnreadableFile, read_records
from victim_notify.intake.models import Source
from victim_notify.intake.store import ingest


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
            "--format", choices=["jsonl", "csv"], help="Default: from the file name."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agency = Agency.objects.get(slug=options["agency"])
        except Agency.DoesNotExist:
            raise CommandError(f"no agency with slug {options['agency']!r}") from None
        path: Path = options["path"]
        try:
            records = read_records(path, options["format"])
        except UnreadableFile as exc:
            raise CommandError(f"{path}: {exc}") from exc
        summary = ingest(agency, records, source=Source.FILE, source_name=path.name)
        self.stdout.write(
            json.dumps({"file": str(path), **summary.as_dict()}, ensure_ascii=False, indent=2)
        )
