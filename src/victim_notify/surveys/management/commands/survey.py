"""victim-notify survey create|list|import|report|export|coverage

survey create SLUG --agency AGENCY --name NAME --starts-on DATE [--share-notified 90] ...
survey import SLUG FILE.csv      answers collected elsewhere; bad rows listed, good rows kept
survey report SLUG [--out DIR] [--json] [--effect 0.05]
survey export SLUG [--out FILE]  anonymized, for researchers
survey coverage [--runs 2000]    the simulation study behind the report's intervals
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from victim_notify.agencies.models import Agency
from victim_notify.surveys.export import anonymized_csv
from victim_notify.surveys.importing import import_answers
from victim_notify.surveys.models import Experiment
from victim_notify.surveys.report import to_json, write_report
from victim_notify.surveys.setup import create_experiment


class Command(BaseCommand):
    help = "Experiments and their surveys: create, import answers, report, export."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="A new experiment with the default questions.")
        create.add_argument("experiment")
        create.add_argument("--agency", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--starts-on", required=True, type=dt.date.fromisoformat)
        create.add_argument("--ends-on", type=dt.date.fromisoformat)
        create.add_argument("--share-notified", type=int, default=90)
        create.add_argument("--survey-delay-days", type=int, default=7)
        create.add_argument("--stratify-by", default="division,offense_group")
        create.add_argument("--no-survey", action="store_true")

        listing = actions.add_parser("list", help="The experiments and their size.")
        listing.add_argument("--agency")

        importing = actions.add_parser("import", help="Answers collected elsewhere, from a CSV.")
        importing.add_argument("experiment")
        importing.add_argument("file", type=Path)
        importing.add_argument("--agency")

        report = actions.add_parser("report", help="The analysis as HTML, JSON and CSV.")
        report.add_argument("experiment")
        report.add_argument("--agency")
        report.add_argument("--out", type=Path, default=Path("."))
        report.add_argument("--json", action="store_true", help="Print every figure on stdout.")
        report.add_argument(
            "--effect", type=float, default=0.05, help="Difference to plan for (0.05 = 5 points)."
        )

        export = actions.add_parser("export", help="Anonymized answers for researchers.")
        export.add_argument("experiment")
        export.add_argument("--agency")
        export.add_argument("--out", type=Path)

        coverage = actions.add_parser("coverage", help="Coverage of the intervals, simulated.")
        coverage.add_argument("--runs", type=int, default=2000)
        coverage.add_argument("--seed", type=int, default=20261204)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _experiment(self, options: dict[str, Any]) -> Experiment:
        found = Experiment.objects.filter(slug=options["experiment"]).select_related("agency")
        if options.get("agency"):
            found = found.filter(agency__slug=options["agency"])
        experiments = list(found)
        if not experiments:
            raise CommandError(f"no experiment {options['experiment']!r}")
        if len(experiments) > 1:
            raise CommandError("several agencies have this experiment; name one with --agency")
        return experiments[0]

    def _create(self, options: dict[str, Any]) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        try:
            experiment = create_experiment(
                agency,
                options["experiment"],
                options["name"],
                options["starts_on"],
                ends_on=options["ends_on"],
                share_notified=options["share_notified"],
                survey_delay_days=options["survey_delay_days"],
                stratify_by=[s for s in options["stratify_by"].split(",") if s],
                survey_enabled=not options["no_survey"],
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from error
        self.stdout.write(f"created {experiment.slug} for {agency.slug}")

    def _list(self, options: dict[str, Any]) -> None:
        experiments = Experiment.objects.select_related("agency").order_by("starts_on")
        if options.get("agency"):
            experiments = experiments.filter(agency__slug=options["agency"])
        for e in experiments:
            people = e.participants.count()
            ends = e.ends_on or "open"
            self.stdout.write(
                f"{e.agency.slug}/{e.slug}  {e.starts_on} to {ends}  {e.share_notified}% in A  "
                f"{people} people  {e.name}"
            )

    def _import(self, options: dict[str, Any]) -> None:
        experiment = self._experiment(options)
        try:
            text = options["file"].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from error
        result = import_answers(experiment, text)
        for line, problem in result.errors:
            self.stderr.write(f"{options['file']}:{line}: {problem}")
        self.stdout.write(
            f"{result.answers} answers imported for {result.participants} new participants, "
            f"{result.unchanged} already there, {len(result.errors)} rows with errors"
        )
        if result.errors and not result.answers and not result.unchanged:
            raise CommandError("nothing could be imported")

    def _report(self, options: dict[str, Any]) -> None:
        experiment = self._experiment(options)
        figures, paths = write_report(experiment, options["out"], effect=options["effect"])
        if options["json"]:
            self.stdout.write(to_json(figures))
            return
        for row in figures["outcomes"]:
            self.stdout.write(f"{row['sentence']} {row['verdict']}")
        for path in paths:
            self.stderr.write(f"wrote {path}")

    def _export(self, options: dict[str, Any]) -> None:
        text = anonymized_csv(self._experiment(options))
        if options["out"]:
            options["out"].write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def _coverage(self, options: dict[str, Any]) -> None:
        from victim_notify.surveys import coverage

        study = coverage.coverage_study(runs=options["runs"], seed=options["seed"])
        null = coverage.false_positive_rate(runs=options["runs"], seed=options["seed"])
        self.stdout.write(coverage.format_table(study, null))
