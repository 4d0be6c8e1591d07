"""What an experiment shows, with its uncertainty: every figure of the survey report.

Intention-to-treat is the headline: everyone randomized, in the group they were put in,
whether or not a message reached them. The comparison of those in Group A who opened a
message is shown apart and labelled as not randomized (who opens is not chance). Non-response
is reported per group, since a difference in who answers can bias every other figure."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone
from scipy.stats import binomtest, chi2_contingency

from victim_notify.agencies.models import Division
from victim_notify.messages.models import Engagement, MessageKind, Notification
from victim_notify.replies.models import InboundMessage, Intent
from victim_notify.surveys import statistics
from victim_notify.surveys.models import (
    Assignment,
    Experiment,
    Participant,
    Question,
    QuestionKind,
    Response,
    SurveyStatus,
)
from victim_notify.surveys.questionnaire import ANSWER_WORDS

ALPHA = 0.05
SMALL_GROUP = 30

DEFINITIONS = {
    "intention_to_treat": (
        "Everyone randomized, in the group they were put in, whether or not a message reached "
        "them or they opened it. This is the comparison the randomization protects."
    ),
    "opened": (
        "Opened means a person (not a mail privacy proxy or a link scanner) opened the email, "
        "followed the details link, or replied to the message. A text without a link and with "
        "no reply counts as unknown, not as unopened: a text is read without leaving a trace."
    ),
    "opened_only": (
        "Group A people who opened a message compared with all of Group B. Not randomized: "
        "people who open messages differ from those who do not, so this is not the effect of "
        "the messages."
    ),
    "response": (
        "Surveyed: the survey was sent. Responded: answered at least one question. People who "
        "could not be surveyed (no usable contact, opted out before) are counted, not hidden."
    ),
    "segments": (
        "Exploratory: intervals per segment are not corrected for the many comparisons; a "
        "difference in one segment alone is weak evidence."
    ),
    "rollout": (
        "Pilot divisions went live first. The pilot-versus-rest comparison is not randomized. "
        "The difference in differences compares the change in the other divisions across their "
        "go-live date with the change in the pilot divisions over the same dates."
    ),
}

# How the report names an outcome of the default questionnaire.
LABELS = {
    "service_rating": "rated the agency's customer service",
    "trust": "rated their trust in the police",
    "trust:yes": "state they trusted the police",
    "likely_to_call:yes": "say they were likely to call for more information about the report",
}


@dataclass
class Person:
    """One participant, reduced to what the analysis reads."""

    id: int
    group: str
    assignment: str
    division: str
    offense_group: str
    language: str
    channel: str
    status: str
    reported_at: dt.datetime | None
    opened: str  # "yes", "no" or "unknown"; "" for Group B
    answers: dict[str, str] = field(default_factory=dict)
    answered_at: dt.datetime | None = None

    @property
    def surveyed(self) -> bool:
        return self.status not in {SurveyStatus.WAITING, SurveyStatus.UNREACHABLE, "off"}

    @property
    def responded(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Outcome:
    key: str
    question: str
    label: str
    kind: str  # "proportion" or "mean"
    value: Callable[[dict[str, str]], float | None]


def outcomes_for(questions: Sequence[Question]) -> list[Outcome]:
    """The outcomes the questions measure: a proportion per option of a list, a mean (and, for
    a question that also takes yes or no, the share saying yes or 4-5) for a rating, the
    share saying yes for a yes-or-no question."""
    found: list[Outcome] = []
    for q in questions:
        if q.kind == QuestionKind.CHOICE:
            for option in q.options:
                found.append(
                    Outcome(
                        f"{q.key}={option}",
                        q.key,
                        f"ask for {ANSWER_WORDS.get(option, option)}",
                        "proportion",
                        _is(q.key, option),
                    )
                )
        elif q.kind == QuestionKind.SCALE:
            found.append(
                Outcome(q.key, q.key, LABELS.get(q.key, f"rated {q.key}"), "mean", _rating(q.key))
            )
            if q.also_yes_no:
                key = f"{q.key}:yes"
                found.append(
                    Outcome(
                        key,
                        q.key,
                        LABELS.get(key, f"say yes to {q.key}"),
                        "proportion",
                        _agrees(q.key),
                    )
                )
        else:
            key = f"{q.key}:yes"
            found.append(
                Outcome(
                    key,
                    q.key,
                    LABELS.get(key, f"say yes to {q.key}"),
                    "proportion",
                    _is(q.key, "yes"),
                )
            )
    return found


def _is(key: str, wanted: str) -> Callable[[dict[str, str]], float | None]:
    def value(answers: dict[str, str]) -> float | None:
        answer = answers.get(key)
        return None if answer is None else float(answer == wanted)

    return value


def _rating(key: str) -> Callable[[dict[str, str]], float | None]:
    def value(answers: dict[str, str]) -> float | None:
        answer = answers.get(key, "")
        return float(answer) if answer.isdigit() else None

    return value


def _agrees(key: str) -> Callable[[dict[str, str]], float | None]:
    """Yes, or 4 or 5 on the scale."""

    def value(answers: dict[str, str]) -> float | None:
        answer = answers.get(key)
        if answer is None:
            return None
        return float(answer == "yes" or (answer.isdigit() and int(answer) >= 4))

    return value


# ---- loading ---------------------------------------------------------------------------


def load_people(experiment: Experiment) -> list[Person]:
    participants = list(experiment.participants.all())
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    first_answer: dict[int, dt.datetime] = {}
    for pid, key, value, at in (
        Response.objects.filter(participant__experiment=experiment)
        .exclude(value="")
        .order_by("received_at")
        .values_list("participant_id", "question_key", "value", "received_at")
    ):
        answers[pid].setdefault(key, value)
        first_answer.setdefault(pid, at)
    opened = _opened(experiment, [p for p in participants if p.group == "A"])
    return [
        Person(
            id=p.pk,
            group=p.group,
            assignment=p.assignment,
            division=p.division_code,
            offense_group=p.offense_group or "other",
            language=p.language,
            channel="import" if p.assignment == Assignment.IMPORTED else p.survey_channel,
            status=p.survey_status,
            reported_at=p.reported_at,
            opened=opened.get(p.pk, "") if p.group == "A" else "",
            answers=answers.get(p.pk, {}),
            answered_at=first_answer.get(p.pk),
        )
        for p in participants
    ]


def _opened(experiment: Experiment, group_a: list[Participant]) -> dict[int, str]:
    """yes, no or unknown for each Group A participant, as `DEFINITIONS["opened"]` says."""
    result = {p.pk: p.opened_imported or "unknown" for p in group_a if p.assignment == "imported"}
    ours = [p for p in group_a if p.assignment != "imported"]
    contacts = {c for p in ours for c in (p.phone_id, p.email_id) if c}
    notices: dict[int, list[tuple[Any, str, str]]] = defaultdict(list)
    for pk, contact_id, channel, body in Notification.objects.filter(
        agency_id=experiment.agency_id,
        kind=MessageKind.REPORT_FILED,
        contact_id__in=contacts,
        sent_at__isnull=False,
    ).values_list("pk", "contact_id", "channel", "body"):
        notices[contact_id].append((pk, channel, body))
    ids = [n[0] for ns in notices.values() for n in ns]
    seen = set(
        Engagement.objects.filter(notification_id__in=ids, machine=False).values_list(
            "notification_id", flat=True
        )
    )
    seen |= set(
        InboundMessage.objects.filter(in_answer_to_id__in=ids)
        .exclude(intent=Intent.SURVEY_ANSWER)
        .values_list("in_answer_to_id", flat=True)
    )
    for p in ours:
        mine = [n for c in (p.phone_id, p.email_id) if c for n in notices.get(c, [])]
        if any(pk in seen for pk, _, _ in mine):
            result[p.pk] = "yes"
        elif mine and all(channel == "sms" and "/d/" not in body for _, channel, body in mine):
            result[p.pk] = "unknown"
        else:
            result[p.pk] = "no"
    return result


# ---- comparing ---------------------------------------------------------------------------


def compare(outcome: Outcome, group_a: Sequence[Person], group_b: Sequence[Person]) -> dict:
    a = [v for p in group_a if (v := outcome.value(p.answers)) is not None]
    b = [v for p in group_b if (v := outcome.value(p.answers)) is not None]
    row: dict[str, Any] = {
        "key": outcome.key,
        "question": outcome.question,
        "label": outcome.label,
        "kind": outcome.kind,
    }
    if outcome.kind == "proportion":
        result = statistics.compare_proportions(int(sum(a)), len(a), int(sum(b)), len(b))
        row.update(
            n_a=result.n_a,
            n_b=result.n_b,
            x_a=result.x_a,
            x_b=result.x_b,
            value_a=result.rate_a,
            value_b=result.rate_b,
            difference=result.difference,
            difference_ci=result.difference_ci,
            ratio=result.ratio,
            ratio_ci=result.ratio_ci,
            relative=result.relative,
            relative_ci=result.relative_ci,
            p_value=result.p_value,
        )
    else:
        means = statistics.compare_means(a, b)
        row.update(
            n_a=means.n_a,
            n_b=means.n_b,
            value_a=means.mean_a,
            value_b=means.mean_b,
            difference=means.difference,
            difference_ci=means.difference_ci,
            relative=means.relative,
            relative_ci=None,
            p_value=means.p_value,
            mann_whitney_p=means.mann_whitney_p,
        )
    row["sentence"] = sentence(row)
    return row


def sentence(row: dict[str, Any]) -> str:
    """The figure the way the case study phrases it: 'Group A was 16.6% more likely to ask for
    text messages than Group B'."""
    relative = row.get("relative")
    if relative is None:
        return f"Not enough answers to compare how many {row['label']}."
    if row["kind"] == "proportion":
        way = "more" if relative >= 0 else "less"
        return f"Group A was {abs(relative):.1%} {way} likely to {row['label']} than Group B."
    way = "higher" if relative >= 0 else "lower"
    return (
        f"Group A {row['label']} {abs(relative):.1%} {way} than Group B "
        f"(mean {row['value_a']:.2f} against {row['value_b']:.2f} on a 1 to 5 scale)."
    )


def verdict(row: dict[str, Any], p_key: str = "p_holm") -> str:
    p = row.get(p_key)
    if p is None:
        return "Too few answers to tell."
    ci = row.get("difference_ci")
    if p < ALPHA:
        return f"Unlikely to be chance (p = {_p(p)} after correcting for the number of outcomes)."
    if not ci:
        return f"Not distinguishable from chance (p = {_p(p)})."
    if ci[0] <= 0 <= ci[1]:
        return (
            f"Not distinguishable from chance (p = {_p(p)}): the interval, "
            f"{_ci(ci, row['kind'])}, includes no difference at all."
        )
    return (
        f"Not distinguishable from chance once corrected for the number of outcomes compared "
        f"(p = {_p(p)}), though on its own the interval, {_ci(ci, row['kind'])}, does not "
        "include zero."
    )


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _ci(ci: Sequence[float], kind: str) -> str:
    if kind == "proportion":
        return f"{ci[0] * 100:+.1f} to {ci[1] * 100:+.1f} percentage points"
    return f"{ci[0]:+.2f} to {ci[1]:+.2f} points"


def comparisons(
    outcomes: Sequence[Outcome], group_a: Sequence[Person], group_b: Sequence[Person]
) -> list[dict[str, Any]]:
    rows = [compare(o, group_a, group_b) for o in outcomes]
    for row, adjusted in zip(rows, statistics.holm([r["p_value"] for r in rows]), strict=True):
        row["p_holm"] = adjusted
        row["verdict"] = verdict(row)
    return rows


# ---- the whole report ------------------------------------------------------------------------


def analyse(
    experiment: Experiment, *, effect: float = 0.05, now: dt.datetime | None = None
) -> dict[str, Any]:
    now = now or timezone.now()
    people = load_people(experiment)
    outcomes = outcomes_for(list(experiment.questions.all()))
    randomized = [p for p in people if p.assignment in (Assignment.RANDOM, Assignment.IMPORTED)]
    group_a = [p for p in randomized if p.group == "A"]
    group_b = [p for p in randomized if p.group == "B"]
    opened_a = [p for p in group_a if p.opened == "yes"]
    outcome_rows = comparisons(outcomes, group_a, group_b)
    answered = [min(r["n_a"], r["n_b"]) for r in outcome_rows if r["n_a"] + r["n_b"]]
    fewest = min(answered, default=0)
    return {
        "experiment": _describe(experiment),
        "generated_at": now.isoformat(),
        # The simulation study (survey coverage) shows intervals keep their 95% from about 30
        # answers a group; at 10 or so the ratio and rating intervals cover less.
        "small_sample_warning": (
            f"One group has only {fewest} answers to some question: intervals this small may "
            "contain the true effect less often than 95% of the time. Keep collecting."
            if answered and fewest < SMALL_GROUP
            else ""
        ),
        "definitions": DEFINITIONS,
        "allocation": _allocation(experiment, randomized, people),
        "response": _response(group_a, group_b),
        "outcomes": outcome_rows,
        "opened": dict(Counter(p.opened for p in group_a)),
        "opened_only": comparisons(outcomes, opened_a, group_b),
        "segments": {
            name: _segment(outcomes, randomized, name)
            for name in ("division", "offense_group", "language", "channel")
        },
        "segment_names": {
            "division": "division",
            "offense_group": "offense group",
            "language": "language",
            "channel": "survey channel",
        },
        "rollout": _rollout(experiment, outcomes, people),
        "planning": _planning(outcomes, group_a, group_b, experiment, effect, now),
        "responses_over_time": _over_time(group_a, group_b),
    }


def _describe(experiment: Experiment) -> dict[str, Any]:
    return {
        "slug": experiment.slug,
        "name": experiment.name,
        "agency": experiment.agency.name,
        "starts_on": experiment.starts_on.isoformat(),
        "ends_on": experiment.ends_on.isoformat() if experiment.ends_on else None,
        "share_notified": experiment.share_notified,
        "unit": experiment.unit,
        "stratify_by": experiment.stratify_by,
        "experimental_kinds": experiment.experimental_kinds,
        "withheld": [str(MessageKind(k).label) for k in experiment.experimental_kinds],
        "survey_delay_days": experiment.survey_delay_days,
        "questions": [q.key for q in experiment.questions.all()],
    }


def _allocation(
    experiment: Experiment, randomized: list[Person], people: list[Person]
) -> dict[str, Any]:
    """Group sizes, the share in A against the plan, and balance across strata."""
    counts = Counter(p.group for p in randomized)
    n = len(randomized)
    planned = experiment.share_notified / 100
    share_p = binomtest(counts["A"], n, planned).pvalue if n else None
    strata: dict[str, Counter[str]] = defaultdict(Counter)
    for p in randomized:
        key = " ".join(f"{name}={getattr(p, name)}" for name in experiment.stratify_by)
        strata[key or "all"][p.group] += 1
    table = [[c["A"], c["B"]] for c in strata.values()]
    balance_p = None
    if len(table) > 1 and all(sum(col) for col in zip(*table, strict=True)):
        balance_p = float(chi2_contingency(table).pvalue)
    return {
        "A": counts["A"],
        "B": counts["B"],
        "rollout": sum(p.assignment == Assignment.ROLLOUT for p in people),
        "imported": sum(p.assignment == Assignment.IMPORTED for p in people),
        "share_a": counts["A"] / n if n else None,
        "planned_share_a": planned,
        "share_p_value": share_p,
        "strata": [
            {"stratum": key, "A": c["A"], "B": c["B"], "share_a": c["A"] / (c["A"] + c["B"])}
            for key, c in sorted(strata.items())
        ],
        "balance_p_value": balance_p,
    }


def _response(group_a: list[Person], group_b: list[Person]) -> dict[str, Any]:
    def figures(people: list[Person]) -> dict[str, Any]:
        surveyed = [p for p in people if p.surveyed]
        responded = sum(p.responded for p in surveyed)
        return {
            "people": len(people),
            "surveyed": len(surveyed),
            "responded": responded,
            "rate": responded / len(surveyed) if surveyed else None,
            "by_status": dict(Counter(p.status for p in people)),
        }

    a, b = figures(group_a), figures(group_b)
    compared = statistics.compare_proportions(
        a["responded"], a["surveyed"], b["responded"], b["surveyed"]
    )
    return {
        "A": a,
        "B": b,
        "difference": compared.difference,
        "difference_ci": compared.difference_ci,
        "p_value": compared.p_value,
        "warning": (
            "Response rates differ between the groups more than chance would explain: the "
            "people who answered may not be alike, so read the other figures with care."
            if compared.p_value is not None and compared.p_value < ALPHA
            else ""
        ),
    }


def _segment(
    outcomes: Sequence[Outcome], people: list[Person], attribute: str
) -> list[dict[str, Any]]:
    rows = []
    values = sorted({getattr(p, attribute) or "unknown" for p in people})
    for value in values:
        mine = [p for p in people if (getattr(p, attribute) or "unknown") == value]
        a = [p for p in mine if p.group == "A"]
        b = [p for p in mine if p.group == "B"]
        rows.append(
            {
                "value": value,
                "A": len(a),
                "B": len(b),
                "outcomes": [compare(o, a, b) for o in outcomes],
            }
        )
    return rows


def _rollout(
    experiment: Experiment, outcomes: Sequence[Outcome], people: list[Person]
) -> dict[str, Any]:
    go_live = {
        code: day
        for code, day in Division.objects.filter(
            agency_id=experiment.agency_id, go_live_date__isnull=False
        ).values_list("code", "go_live_date")
        if day is not None  # the query leaves those out already
    }
    if len(set(go_live.values())) < 2:
        return {"phased": False}
    first = min(go_live.values())
    pilot = sorted(code for code, day in go_live.items() if day == first)
    rest = sorted(code for code in go_live if code not in pilot)
    rest_live = min(go_live[code] for code in rest)
    # The people a rollout notifies once their division is live: Group A, and those whose
    # division was not live yet. Group B of the randomized experiment is left out.
    exposed = [p for p in people if p.group == "A" or p.assignment == Assignment.ROLLOUT]
    pilot_people = [p for p in exposed if p.division in pilot and p.group == "A"]
    rest_people = [p for p in exposed if p.division in rest and p.group == "A"]
    did = []
    for outcome in outcomes:
        rows = [
            (value, p.division in rest, p.reported_at.date() >= rest_live)
            for p in exposed
            if p.reported_at is not None
            and p.division in go_live
            and (value := outcome.value(p.answers)) is not None
        ]
        result = statistics.difference_in_differences(rows)
        did.append(
            {"key": outcome.key, "label": outcome.label, "kind": outcome.kind}
            | ({"estimate": None} if result is None else _plain(asdict(result)))
        )
    return {
        "phased": True,
        "pilot": pilot,
        "rest": rest,
        "pilot_go_live": first.isoformat(),
        "rest_go_live": rest_live.isoformat(),
        # Sentences read "Group A ... Group B": here A is the pilot, B the rest.
        "pilot_vs_rest": [compare(o, pilot_people, rest_people) for o in outcomes],
        "difference_in_differences": did,
    }


def _planning(
    outcomes: Sequence[Outcome],
    group_a: list[Person],
    group_b: list[Person],
    experiment: Experiment,
    effect: float,
    now: dt.datetime,
) -> dict[str, Any]:
    share_a = experiment.share_notified / 100
    responded = [p.answered_at for p in group_a + group_b if p.answered_at is not None]
    days = max(1.0, (now - min(responded)).total_seconds() / 86400) if (responded) else None
    pace = len(responded) / days if days else None
    rows = []
    for outcome in outcomes:
        if outcome.kind != "proportion":
            continue
        a = [v for p in group_a if (v := outcome.value(p.answers)) is not None]
        b = [v for p in group_b if (v := outcome.value(p.answers)) is not None]
        rate_b = sum(b) / len(b) if b else None
        row: dict[str, Any] = {"key": outcome.key, "label": outcome.label, "rate_b": rate_b}
        if rate_b is not None and 0 < rate_b < 1 and rate_b + effect < 1:
            need_a, need_b = statistics.sample_size_for(rate_b, effect, share_a)
            row["minimum_detectable_difference"] = statistics.minimum_detectable_difference(
                rate_b, len(a), len(b)
            )
            row["needed_a"], row["needed_b"] = need_a, need_b
            missing = max(0, need_a - len(a)) + max(0, need_b - len(b))
            row["more_days"] = math.ceil(missing / pace) if pace else None
        rows.append(row)
    return {
        "effect": effect,
        "effect_points": round(effect * 100, 2),
        "respondents_per_day": pace,
        "outcomes": rows,
    }


def _over_time(group_a: list[Person], group_b: list[Person]) -> list[dict[str, Any]]:
    days: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for p in group_a + group_b:
        if p.answered_at is not None:
            days[p.answered_at.date()][p.group] += 1
    total: Counter[str] = Counter()
    series = []
    for day in sorted(days):
        total.update(days[day])
        series.append({"date": day.isoformat(), "A": total["A"], "B": total["B"]})
    return series


def _plain(value: Any) -> Any:
    """JSON-ready: tuples as lists, nan as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
