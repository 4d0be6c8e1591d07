"""Experiments: the agency's Group A / Group B comparisons, their progress and the analysis
report, for administrators, supervisors and analysts. Only aggregates are shown, never a
person. Creating and changing an experiment is configuration (administrators, supervisors)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from victim_notify.accounts.audit import record_request
from victim_notify.agencies.models import Agency
from victim_notify.staff.access import can, requires
from victim_notify.staff.configuration import agency_today
from victim_notify.surveys.models import (
    Assignment,
    Experiment,
    Participant,
    Response,
    SurveyStatus,
)
from victim_notify.surveys.setup import create_experiment

EXPORTS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


STATUS_LABELS = {
    "not_started": gettext_lazy("Not started"),
    "running": gettext_lazy("Running"),
    "finished": gettext_lazy("Finished"),
}


def status_of(experiment: Experiment, today: dt.date) -> dict[str, Any]:
    if today < experiment.starts_on:
        key = "not_started"
    elif experiment.ends_on is not None and experiment.ends_on < today:
        key = "finished"
    else:
        key = "running"
    return {"key": key, "label": STATUS_LABELS[key]}


def _of_agency(request: HttpRequest, experiment_id: int) -> Experiment:
    return get_object_or_404(
        Experiment.objects.select_related("agency"),
        pk=experiment_id,
        agency=request.agency,  # type: ignore[attr-defined]
    )


# The report's own definitions (surveys/analysis.py), so that the list and the report agree:
# the comparisons count people randomized (or imported with the group they were randomized
# into), never the people whose division was not live yet; a person "answered" when they were
# surveyed and gave at least one readable answer, however many answers they gave.
COMPARED = (Assignment.RANDOM, Assignment.IMPORTED)
NOT_SURVEYED = (SurveyStatus.WAITING, SurveyStatus.UNREACHABLE, SurveyStatus.OFF)


def progress(agency: Agency) -> dict[int, dict[str, int]]:
    """Per experiment: people randomized in Group A and B, people who answered, and people
    enrolled but not randomized (their division was not live yet)."""
    figures: dict[int, Counter[str]] = defaultdict(Counter)
    enrolled = Participant.objects.filter(experiment__agency=agency).order_by()
    for experiment_id, group, assignment in enrolled.values_list(
        "experiment_id", "group", "assignment"
    ):
        figures[experiment_id][group if assignment in COMPARED else "not_randomized"] += 1
    readable = Response.objects.filter(participant=OuterRef("pk")).exclude(value="")
    answered = (
        enrolled.filter(assignment__in=COMPARED, group__in=("A", "B"))
        .exclude(survey_status__in=NOT_SURVEYED)
        .filter(Exists(readable))
        .values_list("experiment_id", flat=True)
    )
    for experiment_id in answered:
        figures[experiment_id]["answered"] += 1
    return {
        pk: {key: c[key] for key in ("A", "B", "answered", "not_randomized")}
        for pk, c in figures.items()
    }


@requires("experiments")
def experiment_list(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    experiments = list(Experiment.objects.filter(agency=agency).order_by("-starts_on", "name"))
    figures = progress(agency)
    empty = {"A": 0, "B": 0, "answered": 0, "not_randomized": 0}
    today = agency_today(agency)
    rows = [
        {"experiment": e, "status": status_of(e, today)} | figures.get(e.pk, empty)
        for e in experiments
    ]
    return render(
        request,
        "staff/experiments.html",
        {"rows": rows, "can_configure": can(request.user, "configure")},
    )


def _figures_and_charts(experiment: Experiment) -> tuple[dict[str, Any], dict[str, str]]:
    """The same figures and charts as the report file (surveys/report.py), for a page of the
    staff app rather than a standalone document."""
    # The statistics and charting libraries take seconds to import: only when a report is
    # asked for, not in every process that loads the staff app.
    from victim_notify.surveys import charts
    from victim_notify.surveys.analysis import analyse
    from victim_notify.surveys.report import to_json

    figures = json.loads(to_json(analyse(experiment)))
    for group in ("A", "B"):
        counts = figures["response"][group]["by_status"]
        figures["response"][group]["by_status"] = {
            str(SurveyStatus(key).label) if key in SurveyStatus.values else key: n
            for key, n in counts.items()
        }
    drawn = {
        "rates": charts.rates_chart(figures["outcomes"], "Group A and Group B, all randomized"),
        "response": charts.response_chart(figures["response"]),
        "over_time": charts.over_time_chart(figures["responses_over_time"])
        if figures["responses_over_time"]
        else "",
    }
    return figures, {name: own_ids(svg, f"chart-{name}") for name, svg in drawn.items()}


_SVG_REFERENCES = re.compile(r'(\bid="|\bhref="#|url\(#)')


def own_ids(svg: str, prefix: str) -> str:
    """Matplotlib numbers the ids of each figure from 1 (figure_1, axes_1, ...): with several
    charts in one page they would clash, and a marker or clip path could be taken from the
    wrong chart. Each chart's ids, and its references to them, get the chart's prefix."""
    return _SVG_REFERENCES.sub(lambda m: f"{m.group(1)}{prefix}-", svg)


@requires("experiments")
def experiment_report(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = _of_agency(request, experiment_id)
    figures, drawn = _figures_and_charts(experiment)
    record_request(request, "experiment.report_viewed", target=experiment)
    return render(
        request,
        "staff/experiment_report.html",
        {
            "experiment": experiment,
            "f": figures,
            "answered": figures["response"]["A"]["responded"]
            + figures["response"]["B"]["responded"],
            "charts": drawn,
            "status": status_of(experiment, agency_today(request.agency)),  # type: ignore[attr-defined]
            "can_configure": can(request.user, "configure"),
        },
    )


@requires("experiments")
def experiment_export(request: HttpRequest, experiment_id: int) -> HttpResponse:
    """The report's figures as CSV or JSON (?format=json): aggregates only, as in the report
    itself."""
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORTS:
        raise Http404
    experiment = _of_agency(request, experiment_id)
    from victim_notify.surveys.analysis import analyse
    from victim_notify.surveys.report import to_csv, to_json

    figures = analyse(experiment)
    text = to_csv(figures) if fmt == "csv" else to_json(figures)
    record_request(request, "experiment.exported", target=experiment, detail={"format": fmt})
    response = HttpResponse(text, content_type=EXPORTS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{experiment.slug}.{fmt}"'
    return response


class NewExperimentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    slug = forms.SlugField(
        label=gettext_lazy("Short name"),
        max_length=50,
        help_text=gettext_lazy("Letters, digits and hyphens, e.g. 2026-rollout."),
    )
    starts_on = forms.DateField(
        label=gettext_lazy("First day"),
        help_text=gettext_lazy("Reports from this day (your agency's time) are enrolled."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    share_notified = forms.IntegerField(
        label=gettext_lazy("Share notified (Group A), in percent"),
        min_value=1,
        max_value=99,
        initial=90,
        help_text=gettext_lazy("The rest, Group B, get the agency's usual practice."),
    )


class EditExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = ["ends_on", "share_notified", "survey_delay_days"]
        labels = {
            "ends_on": gettext_lazy("Last day"),
            "share_notified": gettext_lazy("Share notified (Group A), in percent"),
            "survey_delay_days": gettext_lazy("Days after the report that the survey is sent"),
        }
        help_texts = {
            "ends_on": gettext_lazy("Last day reports are enrolled; leave empty to keep it open."),
            "share_notified": gettext_lazy(
                "Applies to people enrolled from now on; nobody already enrolled changes group."
            ),
            "survey_delay_days": "",
        }
        widgets = {"ends_on": forms.DateInput(attrs={"type": "date"})}


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@requires("configure")
def experiment_new(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    form = NewExperimentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            experiment = create_experiment(
                agency,
                data["slug"],
                data["name"],
                data["starts_on"],
                share_notified=data["share_notified"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            record_request(
                request,
                "config.experiment_changed",
                target=experiment,
                detail={"created": True, "share_notified": experiment.share_notified},
            )
            messages.success(request, _("The experiment was created."))
            return redirect("staff:experiment", experiment_id=experiment.pk)
    return render(request, "staff/experiment_form.html", {"form": form, "experiment": None})


@requires("configure")
def experiment_edit(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = _of_agency(request, experiment_id)
    before = {name: getattr(experiment, name) for name in EditExperimentForm.Meta.fields}
    form = EditExperimentForm(request.POST or None, instance=experiment)
    if request.method == "POST" and form.is_valid():
        form.save()
        changed = {
            name: {"from": before[name], "to": getattr(experiment, name)}
            for name in form.changed_data
        }
        if changed:
            record_request(request, "config.experiment_changed", target=experiment, detail=changed)
        messages.success(request, _("The experiment's settings were saved."))
        return redirect("staff:experiment", experiment_id=experiment.pk)
    return render(request, "staff/experiment_form.html", {"form": form, "experiment": experiment})


urlpatterns = [
    path("experiments", experiment_list, name="experiments"),
    path("experiments/new", experiment_new, name="experiment-new"),
    path("experiments/<int:experiment_id>", experiment_report, name="experiment"),
    path("experiments/<int:experiment_id>/edit", experiment_edit, name="experiment-edit"),
    path("experiments/<int:experiment_id>/export", experiment_export, name="experiment-export"),
]
