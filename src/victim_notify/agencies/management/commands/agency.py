"""victim-notify agency load FILE.json"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.core.management.base import BaseCommand, CommandError

from victim_notify.agencies.setup import load_agency


class Command(BaseCommand):
    help = "Create or update an agency and its configuration from a JSON description."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["load"])
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = json.loads(options["path"].read_text(encoding="utf-8"))
            agency = load_agency(data)
        # A misspelt field (FieldError), a value of the wrong kind (ValueError, TypeError):
        # the file is wrong, so say so, and nothing of it is kept (load_agency is atomic).
        except (OSError, ValueError, TypeError, KeyError, FieldError, ValidationError) as exc:
            detail = f"missing or unknown key {exc}" if isinstance(exc, KeyError) else exc
            raise CommandError(f"{options['path']}: {detail}") from exc
        self.stdout.write(f"loaded {agency.slug}")
