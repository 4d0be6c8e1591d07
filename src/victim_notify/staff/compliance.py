"""/staff/compliance: the compliance clock. Every victim's right to hear of a case event by
its legal deadline, due, at risk, late or met; where no message can tell them (an excluded
case, a minor, no phone or email), staff tell them another way and say so here (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import record_request
from victim_notify.cases.clock import AT_RISK, DUE, LATE, MET, standing
from victim_notify.cases.models import MetHow, Obligation
from victim_notify.staff.access import requires
from victim_notify.staff.dashboard_figures import deadline_counts

PAGE = 200
STANDINGS = {
    LATE: gettext_lazy("Late"),
    AT_RISK: gettext_lazy("At risk"),
    DUE: gettext_lazy("Due"),
    MET: gettext_lazy("Met"),
}


class ToldForm(forms.Form):
    note = forms.CharField(
        max_length=300,
        label=gettext_lazy("How they were told"),
        help_text=gettext_lazy("e.g. Advocate R. Diaz called the victim at 14:10."),
    )


def _obligations(request: HttpRequest) -> QuerySet[Obligation]:
    return Obligation.objects.filter(event__agency=request.agency).select_related(  # type: ignore[attr-defined]
        "event__report", "party"
    )


@requires("act_on_messages")
def compliance(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    now = timezone.now()
    window = dt.timedelta(hours=agency.deadline_warning_hours)
    shown = request.GET.get("show", "open")
    recent = now - dt.timedelta(days=30)
    open_ones = _obligations(request).filter(met_at=None)
    counts = deadline_counts(agency, now)
    counts[MET] = _obligations(request).filter(met_at__gte=recent).count()
    if shown == MET:
        rows_qs = _obligations(request).filter(met_at__gte=recent).order_by("-met_at")
    else:
        rows_qs = open_ones.order_by("deadline_at")
    rows = []
    for obligation in rows_qs[:PAGE]:
        state = standing(obligation.deadline_at, obligation.met_at, now, window)
        if shown in (LATE, AT_RISK, DUE) and state != shown:
            continue
        rows.append({"obligation": obligation, "standing": state, "label": STANDINGS[state]})
    return render(
        request,
        "staff/compliance.html",
        {
            "rows": rows,
            "counts": [(key, STANDINGS[key], counts[key]) for key in (LATE, AT_RISK, DUE, MET)],
            "shown": shown,
            "form": ToldForm(),
            "window_hours": agency.deadline_warning_hours,
        },
    )


@require_POST
@requires("act_on_messages")
def mark_told(request: HttpRequest, obligation_id: int) -> HttpResponse:
    obligation = get_object_or_404(_obligations(request), pk=obligation_id)
    form = ToldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say how the victim was told."))
        return redirect("staff:compliance")
    if obligation.met_at is None:
        obligation.met_at = timezone.now()
        obligation.met_how = MetHow.STAFF
        obligation.met_note = form.cleaned_data["note"]
        obligation.save(update_fields=["met_at", "met_how", "met_note"])
        record_request(
            request,
            "compliance.told_another_way",
            target=obligation.event.report,
            detail={"event": obligation.event.kind, "party": obligation.party.party_id},
        )
        messages.success(
            request,
            _("Report %(number)s: marked as told.")
            % {"number": obligation.event.report.report_number},
        )
    return redirect("staff:compliance")


urlpatterns: list[Any] = [
    path("compliance/", compliance, name="compliance"),
    path("compliance/<int:obligation_id>/told", mark_told, name="compliance-told"),
]
