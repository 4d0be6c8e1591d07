"""victim-notify simulate --agency SLUG --reports N: push realistic generated reports through
the real intake path (in-process, or over the HTTP API with --url and --token)."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from victim_notify.agencies.models import Agency
from victim_notify.demo.history import plausible_answer
from victim_notify.demo.simulator import OffenseChoice, Simulator
from victim_notify.intake.models import Report, Source
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages.models import MessageKind, Notification
from victim_notify.replies.inbound import receive
from victim_notify.surveys.models import Participant

BATCH = 500
# Who fetches a tracking image or a details link: people's phones and mail apps, and the
# machines that fetch on their own.
READERS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Barracuda Sentinel (EE)",
    "facebookexternalhit/1.1 Facebot Twitterbot/1.0",
]
# What victims text back, most of it from the case study.
REPLIES = [
    "Thank you very much for all your help.",
    "Thanks",
    "Heroes in blue out there, thanks",
    "Ok. Thanks",
    "Thank you. I will call if assailant comes back.",
    "YES MAY I HELP IN ANY WAY",
    "Yes I filed thank you",
    "Thank you for looking into the matter",
    "Gracias",
    "Muchas gracias por la información",
    "STOP",
    "no más mensajes por favor",
    "HELP",
    "he came back and he is outside my door right now",
    "ya regresó y está afuera de mi casa",
]
DEMO_DATA = Path(__file__).resolve().parents[2] / "demo_data" / "agency.json"


def _demo_weights() -> dict[str, float]:
    """How often each offense occurs, from the demo agency's data; other agencies' codes
    that the demo does not know get weight 1."""
    data = json.loads(DEMO_DATA.read_text(encoding="utf-8"))
    return {o["code"]: float(o.get("weight", 1.0)) for o in data["offenses"]}


def simulator_for(agency: Agency, seed: int | None, prefix: str) -> Simulator:
    """A simulator drawing from the agency's own offense table and divisions, numbering
    reports after the highest number already stored with the same prefix."""
    weights = _demo_weights()
    offenses = [
        OffenseChoice(o.code, o.sensitive_category, weights.get(o.code, 1.0))
        for o in agency.offense_codes.all()
    ]
    divisions = list(agency.divisions.values_list("code", flat=True))
    numbers = Report.objects.filter(agency=agency, report_number__startswith=prefix).values_list(
        "report_number", flat=True
    )
    last = max((int(m.group(1)) for n in numbers if (m := re.search(r"(\d+)$", n))), default=0)
    return Simulator(
        offenses,
        divisions,
        seed=seed,
        now=timezone.now(),
        timezone=agency.timezone,
        number_prefix=prefix,
        first_number=last + 1,
    )


class Command(BaseCommand):
    help = "Generate realistic reports (fictional people) and push them through intake."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--agency", required=True)
        parser.add_argument(
            "--reports",
            type=int,
            help="How many (default 100; with --follow, until stopped unless given).",
        )
        parser.add_argument("--profile", choices=["realistic", "clean"], default="realistic")
        parser.add_argument("--seed", type=int)
        parser.add_argument(
            "--prefix", help="Report number prefix (default: this month, e.g. 2612-)."
        )
        parser.add_argument(
            "--url", help="Push over the HTTP API at this base URL instead of in-process."
        )
        parser.add_argument("--token", help="The agency's API token, with --url.")
        parser.add_argument(
            "--follow", action="store_true", help="Keep producing reports until stopped."
        )
        parser.add_argument(
            "--rate", type=float, default=0.5, help="Reports per second with --follow."
        )
        parser.add_argument(
            "--amend-share",
            type=float,
            default=0.05,
            help="With --follow, share of reports later sent again amended.",
        )
        parser.add_argument(
            "--read-share",
            type=float,
            default=0.3,
            help="With --follow and --url, how often someone opens an email or a details link.",
        )
        parser.add_argument(
            "--reply-share",
            type=float,
            default=0.15,
            help="With --follow, how often someone texted writes back.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        if options["url"] and not options["token"]:
            raise CommandError("--url needs --token")
        if options["url"] and not options["url"].startswith(("http://", "https://")):
            raise CommandError("--url must be an http:// or https:// address")
        prefix = options["prefix"] or f"{timezone.now():%y%m}-"
        sim = simulator_for(agency, options["seed"], prefix)
        if options["follow"]:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole demo
                self._follow(agency, sim, options)
            return
        totals: dict[str, Any] = {
            "received": 0,
            "accepted": 0,
            "unchanged": 0,
            "amended": 0,
            "quarantined": 0,
            "notifications_queued": 0,
        }
        count = 100 if options["reports"] is None else options["reports"]
        records = sim.records(count, options["profile"])
        for batch in _batches(records, BATCH):
            result = self._push(agency, batch, options)
            for key in totals:
                value = result.get(key, 0)
                totals[key] += len(value) if isinstance(value, list) else value
        self.stdout.write(json.dumps(totals))

    def _push(
        self, agency: Agency, batch: list[dict[str, Any]], options: dict[str, Any]
    ) -> dict[str, Any]:
        if not options["url"]:
            summary = ingest(
                agency,
                [IncomingRecord.from_object(i, r) for i, r in enumerate(batch)],
                source=Source.SIMULATOR,
                source_name="simulate",
            )
            return summary.as_dict()
        # The operator's own URL, checked to be http(s) in handle().
        request = urllib.request.Request(  # noqa: S310
            options["url"].rstrip("/") + "/api/v1/reports",
            data=json.dumps(batch).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {options['token']}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read() or b"{}") | {"quarantined": 1 if exc.code == 422 else 0}

    def _follow(self, agency: Agency, sim: Simulator, options: dict[str, Any]) -> None:
        rng = random.Random(options["seed"])
        sent: list[dict[str, Any]] = []
        interval = 1.0 / max(options["rate"], 0.01)
        limit = options["reports"]
        for _ in itertools.repeat(None) if limit is None else range(limit):
            if sent and rng.random() < options["amend_share"]:
                record = sim.amendment(rng.choice(sent))
            else:
                record = sim.realistic()
                sent = [*sent, record][-200:]
            result = self._push(agency, [record], options)
            outcome = (
                "quarantined"
                if result.get("quarantined")
                else (
                    "accepted"
                    if result.get("accepted")
                    else "amended"
                    if result.get("amended")
                    else "unchanged"
                )
            )
            self.stdout.write(f"{record.get('report_number', '?')}: {outcome}")
            if rng.random() < options["reply_share"]:
                self._reply(agency, rng)
            if options["url"] and rng.random() < options["read_share"]:
                self._read(agency, rng, options["url"])
            sys.stdout.flush()
            time.sleep(interval * rng.uniform(0.3, 1.7))

    def _read(self, agency: Agency, rng: random.Random, base_url: str) -> None:
        """Someone opens an email or follows a details link, through the web app, as a phone,
        a mail app, a privacy proxy or a link scanner would; the web app tells them apart."""
        # A text whose eight facts fit in full carries no link, so only some messages can be read.
        readable = [
            links
            for note in Notification.objects.filter(
                agency=agency, kind=MessageKind.REPORT_FILED, sent_at__isnull=False
            ).order_by("-sent_at")[:40]
            if (links := re.findall(r"/(?:o|d)/[\w.-]+(?:\.gif)?", note.html or note.body))
        ]
        if not readable:
            return
        links = rng.choice(readable)
        request = urllib.request.Request(  # noqa: S310 - the demo's own app, checked in handle()
            base_url.rstrip("/") + rng.choice(links), headers={"User-Agent": rng.choice(READERS)}
        )
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - the demo's own app

    def _reply(self, agency: Agency, rng: random.Random) -> None:
        """Someone who was texted writes back, as victims do (the case study's replies among
        them), straight into the same handling a provider's webhook leads to. Someone with a
        survey question waiting mostly answers it."""
        surveyed = list(
            Participant.objects.filter(
                experiment__agency=agency, survey_status="asked", survey_channel="sms"
            )
            .select_related("survey_contact")
            .order_by("-asked_at")[:30]
        )
        if surveyed and rng.random() < 0.7:
            participant = rng.choice(surveyed)
            questions = list(participant.experiment.questions.all())
            if participant.current_question < len(questions) and participant.survey_contact:
                key = questions[participant.current_question].key
                receive(
                    channel="sms",
                    to_address=agency.sms_from,
                    from_address=participant.survey_contact.value,
                    body=plausible_answer(rng, key, participant.group),
                    provider="demo",
                    provider_message_id=f"demo-{uuid.uuid4().hex}",
                )
                return
        recent = list(
            Notification.objects.filter(
                agency=agency, channel="sms", kind=MessageKind.REPORT_FILED, sent_at__isnull=False
            )
            .order_by("-sent_at")
            .values_list("contact__value", flat=True)[:50]
        )
        if not recent:
            return
        receive(
            channel="sms",
            to_address=agency.sms_from,
            from_address=rng.choice(recent),
            body=rng.choice(REPLIES),
            provider="demo",
            provider_message_id=f"demo-{uuid.uuid4().hex}",
        )


def _batches(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
