"""Survey answers collected elsewhere (a phone or paper survey, another system), brought in
so one report covers them all. Each row is one answer; a bad row gets an error with its line
number and the good rows are kept."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from victim_notify.surveys.conversation import parse_for
from victim_notify.surveys.models import (
    Assignment,
    Experiment,
    Participant,
    Response,
    SurveyStatus,
)

COLUMNS = ("participant", "group", "division", "opened", "question", "answer")
OPENED = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "": ""}


@dataclass
class ImportResult:
    answers: int = 0
    unchanged: int = 0
    participants: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_answers(experiment: Experiment, text: str) -> ImportResult:
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append((1, f"missing column(s): {', '.join(missing)}"))
        return result
    questions = {q.key: q for q in experiment.questions.all()}
    people: dict[str, Participant] = {
        p.person_key: p for p in experiment.participants.filter(assignment=Assignment.IMPORTED)
    }
    now = timezone.now()
    for line, row in enumerate(reader, start=2):
        problem = _check(row, questions)
        if problem:
            result.errors.append((line, problem))
            continue
        key = f"import:{row['participant'].strip()}"
        group = row["group"].strip().upper()
        person = people.get(key)
        if person is not None and person.group != group:
            result.errors.append(
                (
                    line,
                    f"participant {row['participant'].strip()!r} was in Group {person.group} "
                    f"on an earlier row, not {group}",
                )
            )
            continue
        question = questions[row["question"].strip()]
        raw = row["answer"].strip()
        value = parse_for(question, raw) if raw else None
        if raw and value is None:
            result.errors.append((line, f"the answer {raw!r} to {question.key} could not be read"))
            continue
        with transaction.atomic():
            if person is None:
                person = Participant.objects.create(
                    experiment=experiment,
                    person_key=key,
                    group=group,
                    assignment=Assignment.IMPORTED,
                    assigned_at=now,
                    division_code=row["division"].strip(),
                    opened_imported=OPENED[row["opened"].strip().lower()] if group == "A" else "",
                    survey_status=SurveyStatus.NO_RESPONSE,
                    survey_channel="import",
                )
                people[key] = person
                result.participants += 1
            if value is None:
                continue  # asked, not answered: counts toward non-response
            existing = person.responses.filter(question_key=question.key).exclude(value="").first()
            if existing is not None:
                if existing.value == value:
                    result.unchanged += 1
                else:
                    result.errors.append(
                        (
                            line,
                            f"{question.key} already has the answer {existing.value!r} for "
                            f"participant {row['participant'].strip()!r}",
                        )
                    )
                continue
            Response.objects.create(
                participant=person,
                question_key=question.key,
                raw=raw[:2000],
                value=value,
                source="import",
                received_at=now,
            )
            Participant.objects.filter(pk=person.pk).update(survey_status=SurveyStatus.COMPLETED)
            result.answers += 1
    return result


def _check(row: dict[str, str | None], questions: Mapping[str, object]) -> str:
    if None in row or any(row.get(c) is None for c in COLUMNS):
        return "wrong number of fields"
    if not (row["participant"] or "").strip():
        return "participant is empty"
    if (row["group"] or "").strip().upper() not in {"A", "B"}:
        return f"group must be A or B, not {row['group']!r}"
    if (row["opened"] or "").strip().lower() not in OPENED:
        return f"opened must be yes, no or empty, not {row['opened']!r}"
    if (row["question"] or "").strip() not in questions:
        return (
            f"unknown question {row['question']!r}; this experiment asks "
            f"{', '.join(sorted(questions))}"
        )
    return ""
