"""victim-notify notifications --agency SLUG --json: every decision, sent or not."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from victim_notify.agencies.models import Agency
from victim_notify.messages.models import Notification
from victim_notify.rules.models import Decision


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


class Command(BaseCommand):
    help = "List every decision for an agency, oldest first: one JSON object per line with --json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--agency", required=True)
        parser.add_argument(
            "--json", action="store_true", help="JSON Lines (the only format for now)."
        )
        parser.add_argument("--report", help="Only this report number.")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        decisions = (
            Decision.objects.filter(agency=agency).select_related("report", "party").order_by("pk")
        )
        if options["report"]:
            decisions = decisions.filter(report__report_number=options["report"])
        for chunk_start in range(0, decisions.count(), 2000):
            chunk = list(decisions[chunk_start : chunk_start + 2000])
            notes = {n.decision_id: n for n in Notification.objects.filter(decision__in=chunk)}
            for decision in chunk:
                note = notes.get(decision.pk)
                line = {
                    "report_number": decision.report.report_number,
                    "report_version": decision.report_version,
                    "party_role": decision.party.role,
                    "channel": note.channel if note else None,
                    "status": note.status if note else "not_sent",
                    "reason_codes": decision.reason_codes
                    + (note.status_reason_codes if note else []),
                    "decision": decision.sentence,
                    "scheduled_at": _iso(note.not_before) if note else None,
                    "sent_at": _iso(note.sent_at) if note else None,
                    "body": note.body if note else None,
                }
                self.stdout.write(json.dumps(line, ensure_ascii=False))
