"""Three months of simulated history for the demo's experiment, so its survey report shows
real intervals the moment the demo starts.

Reports go through the real intake, so eligibility, assignment and decisions are the product's
own. What happened afterwards is simulated: the notices are marked delivered when the report
was made, some people open their email, and about a third answer the survey, in the words
people text (parsed by the product's own parser), with effects of the case study's sizes:
Group A asks for texts 16.6% more often, rates service 8.4% higher, trusts the police 5.9%
more and is 43% less likely to call. Divisions not live yet answer like Group B."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.db.models import F, OuterRef, Subquery

from victim_notify.agencies.models import Agency
from victim_notify.demo.simulator import Simulator
from victim_notify.intake.models import Report
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages.models import Engagement, Notification, Status
from victim_notify.rules.models import Decision
from victim_notify.surveys.conversation import parse_for
from victim_notify.surveys.models import Experiment, Participant, Response, SurveyStatus

# (Group B share, Group A share) of each answer; A's are the case study's relative effects.
CHANNELS_B = {"text": 0.50, "email": 0.17, "letter": 0.16, "phone": 0.17}
CHANNELS_A = {"text": 0.583, "email": 0.157, "letter": 0.137, "phone": 0.123}
RATINGS_B = {1: 0.06, 2: 0.10, 3: 0.24, 4: 0.34, 5: 0.26}  # mean 3.64
RATINGS_A = {1: 0.03, 2: 0.05, 3: 0.15, 4: 0.36, 5: 0.41}  # mean 4.07, +11.8% before noise
TRUST_YES = {"B": 0.70, "A": 0.741}
CALL_YES = {"B": 0.40, "A": 0.228}
RESPONSE_RATE = 0.34

# How people text each answer; the product's parser reads them.
SAY = {
    "text": ["1", "Text", "texto", "text please", "TEXT!!", "1 text"],
    "email": ["2", "email", "e-mail pls", "correo electrónico", "Email"],
    "letter": ["3", "letter", "carta", "mailed letter"],
    "phone": ["4", "phone call", "llamada", "call me"],
    "yes": ["yes", "Yes", "sí", "Si", "yeah", "👍", "yes I do"],
    "no": ["no", "No", "nope", "nah", "no gracias", "not really"],
}


def _pick(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _said(rng: random.Random, value: str) -> str:
    if value.isdigit():
        return rng.choice([value, f"{value}!!", f"I'd say {value}", f"{value} stars"])
    return rng.choice(SAY[value])


def simulate_history(
    agency: Agency,
    experiment: Experiment,
    *,
    start: dt.date,
    end: dt.date,
    answer_until: dt.date | None = None,
    per_day: int = 50,
    seed: int = 2026,
) -> int:
    """Reports from `start` to `end` (agency dates), with their survey for reports up to
    `answer_until`; later ones are left for the worker to survey live. Returns how many
    people answered."""
    rng = random.Random(seed)
    zone = agency.zone
    day = start
    records: list[dict] = []
    simulator = Simulator.from_demo_data(seed=seed, number_prefix="H-")
    while day <= end:
        # Reports written through the day, reaching intake by the evening.
        simulator.now = dt.datetime.combine(day, dt.time(18, 0), tzinfo=zone)
        records += simulator.records(per_day, "clean")
        day += dt.timedelta(days=1)
    numbers = [r["report_number"] for r in records]
    for first in range(0, len(records), 500):
        batch = records[first : first + 500]
        ingest(
            agency,
            [IncomingRecord.from_object(i, r) for i, r in enumerate(batch)],
            source="api",
        )
    with transaction.atomic():
        _settle_notices(agency, numbers, rng)
        return _answer_surveys(experiment, numbers, answer_until or end, rng)


def _settle_notices(agency: Agency, numbers: list[str], rng: random.Random) -> None:
    """The history's decisions were made, and its messages went out, when their reports were
    made, so the dashboard shows three months, not one busy day."""
    notes = Notification.objects.filter(
        agency=agency, report__report_number__in=numbers, status=Status.PENDING
    )
    emails = list(notes.filter(channel="email").values_list("pk", flat=True))
    made = Subquery(Report.objects.filter(pk=OuterRef("report_id")).values("reported_at")[:1])
    notes.update(
        status=Status.DELIVERED, created_at=made, sent_at=made, finished_at=made, provider="history"
    )
    Decision.objects.filter(agency=agency, report__report_number__in=numbers).update(
        created_at=made
    )
    opens = []
    for pk in emails:
        if rng.random() < 0.78:
            opens.append(Engagement(notification_id=pk, kind="open", machine=False, agent="phone"))
        elif rng.random() < 0.5:
            opens.append(Engagement(notification_id=pk, kind="open", machine=True, agent="proxy"))
    Engagement.objects.bulk_create(opens)
    opened = Subquery(
        Notification.objects.filter(pk=OuterRef("notification_id")).values("sent_at")[:1]
    )
    Engagement.objects.filter(notification_id__in=emails).update(at=opened)


def plausible_answer(rng: random.Random, question_key: str, group: str) -> str:
    """What someone in this group might text back to this question."""
    treated = "A" if group == "A" else "B"
    if question_key == "preferred_channel":
        value = str(_pick(rng, CHANNELS_A if treated == "A" else CHANNELS_B))
    elif question_key in {"service_rating", "trust"}:
        value = str(_pick(rng, RATINGS_A if treated == "A" else RATINGS_B))
    else:
        value = "yes" if rng.random() < CALL_YES[treated] else "no"
    return _said(rng, value)


def _answer_surveys(
    experiment: Experiment, numbers: list[str], until: dt.date, rng: random.Random
) -> int:
    questions = {q.key: q for q in experiment.questions.all()}
    reports = Report.objects.filter(agency=experiment.agency, report_number__in=numbers)
    last = dt.datetime.combine(
        until + dt.timedelta(days=1), dt.time(), tzinfo=experiment.agency.zone
    )
    participants = list(experiment.participants.filter(report__in=reports, reported_at__lt=last))
    responses = []
    answered: dict[bool, list[int]] = {True: [], False: []}
    for p in participants:
        if rng.random() >= RESPONSE_RATE:
            answered[False].append(p.pk)
            continue
        answered[True].append(p.pk)
        treated = "A" if p.group == "A" else "B"
        values = {
            "preferred_channel": _pick(rng, CHANNELS_A if treated == "A" else CHANNELS_B),
            "service_rating": str(_pick(rng, RATINGS_A if treated == "A" else RATINGS_B)),
            "trust": "yes" if rng.random() < TRUST_YES[treated] else "no",
            "likely_to_call": "yes" if rng.random() < CALL_YES[treated] else "no",
        }
        if rng.random() < 0.5:  # half answer the trust question on the scale
            values["trust"] = str(
                rng.choice([4, 5]) if values["trust"] == "yes" else rng.choice([1, 2, 3])
            )
        assert p.reported_at is not None  # the query above keeps only reported ones
        when = p.reported_at + experiment.survey_delay + dt.timedelta(minutes=rng.randint(2, 600))
        for key, value in values.items():
            if key not in questions:
                continue
            raw = _said(rng, str(value))
            responses.append(
                Response(
                    participant=p,
                    question_key=key,
                    raw=raw,
                    value=parse_for(questions[key], raw) or "",
                    source="sms" if p.phone_id else "web",
                    received_at=when,
                )
            )
            when += dt.timedelta(minutes=rng.randint(1, 20))
    asked = F("reported_at") + experiment.survey_delay
    for responded, ids in answered.items():
        status = SurveyStatus.COMPLETED if responded else SurveyStatus.NO_RESPONSE
        took = dt.timedelta(hours=2) if responded else dt.timedelta(days=3)
        people = Participant.objects.filter(pk__in=ids)
        people.update(asked_at=asked, finished_at=asked + took, survey_status=status)
        people.filter(phone__isnull=False).update(survey_channel="sms", survey_contact=F("phone"))
        people.filter(phone__isnull=True).update(survey_channel="email", survey_contact=F("email"))
    Response.objects.bulk_create(responses, batch_size=500)
    return len(answered[True])
