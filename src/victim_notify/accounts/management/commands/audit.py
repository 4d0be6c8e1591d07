"""victim-notify audit verify | export [--agency SLUG] [--since DATE]"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from victim_notify.accounts.audit import verify_chain
from victim_notify.accounts.export import write_csv
from victim_notify.accounts.models import AuditEvent


class Command(BaseCommand):
    help = "Check that the audit trail is whole and unchanged, or export it as CSV."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Walk the hash chain; exit 1 if any entry was changed.")
        export = sub.add_parser("export", help="Write the trail as CSV to standard output.")
        export.add_argument("--agency", help="Only this agency's entries (its slug).")
        export.add_argument("--since", type=dt.date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            check = verify_chain()
            if not check.intact:
                where = f" at entry #{check.first_bad_id}" if check.first_bad_id else ""
                raise CommandError(f"audit trail broken{where}: {check.problem}")
            self.stdout.write(f"audit trail intact: {check.entries} entries")
            return
        events = AuditEvent.objects.order_by("id")
        if options["agency"]:
            events = events.filter(agency__slug=options["agency"])
        if options["since"]:
            events = events.filter(at__date__gte=options["since"])
        write_csv(events, self.stdout)
