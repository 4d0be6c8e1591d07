"""Creating an experiment with its questionnaire, checked the way the admin checks it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from victim_notify.agencies.models import Agency
from victim_notify.surveys.models import Experiment, Question
from victim_notify.surveys.questionnaire import DEFAULT_QUESTIONS


def create_experiment(
    agency: Agency,
    slug: str,
    name: str,
    starts_on: dt.date,
    questions: list[dict[str, Any]] | None = None,
    **settings: Any,
) -> Experiment:
    """Raises django's ValidationError, naming the field, for a setting that makes no sense."""
    experiment = Experiment(agency=agency, slug=slug, name=name, starts_on=starts_on, **settings)
    experiment.full_clean()
    with transaction.atomic():
        experiment.save()
        for position, question in enumerate(questions or DEFAULT_QUESTIONS):
            row = Question(experiment=experiment, position=position, **question)
            row.full_clean()
            row.save()
    return experiment
