"""victim-notify purge [--dry-run]: remove personal data whose retention has run out."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from victim_notify.privacy.purge import purge


class Command(BaseCommand):
    help = "Purge personal data past each agency's retention periods (legal holds excepted)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = purge(dry_run=options["dry_run"])
        self.stdout.write(json.dumps({"dry_run": options["dry_run"], **counts.as_dict()}))
