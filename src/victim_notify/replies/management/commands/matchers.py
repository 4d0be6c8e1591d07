"""victim-notify matchers [--split test] [--misses]: how well the reply matchers do."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from victim_notify.replies.evaluation import format_table, misclassified


class Command(BaseCommand):
    help = (
        "Precision and recall of the free-text opt-out and urgency matchers on their labelled "
        "sets (the test half was never used to tune them)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--split", choices=["test", "tune", "all"], default="test")
        parser.add_argument("--misses", action="store_true", help="List what each gets wrong.")

    def handle(self, *args: Any, **options: Any) -> None:
        split = None if options["split"] == "all" else options["split"]
        self.stdout.write("\n".join(format_table(split)))
        if options["misses"]:
            for matcher in ("opt_out", "urgency"):
                for row, predicted in misclassified(matcher, split):
                    said = "flagged" if predicted else "missed"
                    self.stdout.write(f"{matcher} {said} ({row.label}): {row.text}")
