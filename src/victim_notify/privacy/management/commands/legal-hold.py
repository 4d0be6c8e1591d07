"""victim-notify legal-hold place|release|list --agency SLUG [REPORT] [--reason TEXT]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from victim_notify.agencies.models import Agency
from victim_notify.intake.models import Report
from victim_notify.privacy.holds import place_hold, release_hold


class Command(BaseCommand):
    help = "Keep a report whole past its retention period (a legal hold), or release it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["place", "release", "list"])
        parser.add_argument("report_number", nargs="?")
        parser.add_argument("--agency", required=True)
        parser.add_argument("--reason", default="", help="A case or order number; no names.")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        if options["action"] == "list":
            for number, reason in Report.objects.filter(agency=agency, legal_hold=True).values_list(
                "report_number", "legal_hold_reason"
            ):
                self.stdout.write(f"{number}\t{reason}")
            return
        report = Report.objects.filter(
            agency=agency, report_number=options["report_number"] or ""
        ).first()
        if report is None:
            raise CommandError("no such report")
        if options["action"] == "place":
            if not options["reason"]:
                raise CommandError("--reason is required to place a hold")
            place_hold(report, options["reason"], actor_label="command")
            self.stdout.write("held")
        else:
            release_hold(report, actor_label="command")
            self.stdout.write("released")
