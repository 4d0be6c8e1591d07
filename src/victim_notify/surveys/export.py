"""An export for researchers with nothing that names anyone: no names, phones, emails, report
numbers or free-text answers; a pseudonymous id that is stable for the experiment but cannot be
traced back without its secret; report dates coarsened to the week."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io

from victim_notify.surveys.analysis import load_people
from victim_notify.surveys.models import Experiment

COLUMNS = [
    "participant", "group", "randomized", "division", "offense_group", "language",
    "survey_channel", "report_week", "opened", "survey_status", "question", "answer",
]  # fmt: skip


def pseudonym(experiment: Experiment, person_key: str) -> str:
    mac = hmac.new(experiment.seed.encode(), f"export:{person_key}".encode(), hashlib.sha256)
    return "p-" + mac.hexdigest()[:16]


def week_of(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    day = moment.date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def anonymized_csv(experiment: Experiment) -> str:
    keys = dict(experiment.participants.values_list("pk", "person_key"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for person in sorted(load_people(experiment), key=lambda p: pseudonym(experiment, keys[p.id])):
        base = [
            pseudonym(experiment, keys[person.id]),
            person.group,
            "yes" if person.assignment == "random" else "no",
            person.division,
            person.offense_group,
            person.language,
            person.channel,
            week_of(person.reported_at),
            person.opened,
            person.status,
        ]
        for question, answer in sorted(person.answers.items()) or [("", "")]:
            writer.writerow([*base, question, answer])
    return out.getvalue()
