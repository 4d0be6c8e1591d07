"""/staff/dashboard: how the agency's notices are doing, for every division or one, over a
period of days in the agency's time zone. The filters are a GET form, so a view can be
bookmarked or shared.

Counts, rates and a chart only: no names, contacts or message text, which is why analysts
may open it and why viewing it is not audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from victim_notify.agencies.models import Agency, Division
from victim_notify.staff.access import can, requires
from victim_notify.staff.dashboard_charts import messages_per_day_chart
from victim_notify.staff.dashboard_figures import Figures, Period, collect

DEFAULT_DAYS = 30
LONGEST_DAYS = 731  # two years: a longer chart of days tells nothing one can read
ALL = "all"


class DashboardFilter(forms.Form):
    division = forms.ChoiceField(label=gettext_lazy("Division"))
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, agency: Agency, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.divisions = {str(d.pk): d for d in Division.objects.filter(agency=agency)}
        division = self.fields["division"]
        assert isinstance(division, forms.ChoiceField)
        division.choices = [(ALL, _("All divisions"))] + [
            (pk, f"{d.code} · {d.name}") for pk, d in self.divisions.items()
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The “from” date must not be after the “to” date."))
            if (end - start).days >= LONGEST_DAYS:
                raise forms.ValidationError(
                    _("Choose at most %(days)d days.") % {"days": LONGEST_DAYS}
                )
        return data

    def chosen_division(self) -> Division | None:
        return self.divisions.get(self.cleaned_data["division"])


def _with_defaults(query: dict[str, str], today: dt.date) -> dict[str, str]:
    """The last 30 days of every division, for whatever the address leaves out."""
    defaults = {
        "division": ALL,
        "start": (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
    }
    return defaults | {key: value for key, value in query.items() if key in defaults and value}


def _percent(ratio: float | None) -> str:
    return "–" if ratio is None else number_format(ratio * 100, 1) + "%"


def _shown(figures: Figures) -> dict[str, Any]:
    """The rates as the page prints them."""
    texts, emails = figures.rates["texts"], figures.rates["emails"]
    opens, clicks = emails["opens"], figures.rates["details_link_clicks"]
    return {
        "text_delivery_rate": _percent(texts["delivery_rate"]),
        "email_bounce_rate": _percent(emails["failure_rate"]),
        "opened_by_people": _percent(opens["human_rate"]),
        "opened_by_machines_only": _percent(opens["machine_only_rate"]),
        "clicked_by_people": _percent(clicks["human_rate"]),
        "clicked_by_machines_only": _percent(clicks["machine_only_rate"]),
    }


@requires("dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    zone = agency.zone
    form = DashboardFilter(
        agency, data=_with_defaults(request.GET.dict(), timezone.localdate(timezone=zone))
    )
    context: dict[str, Any] = {
        "form": form,
        "can_see_replies": can(request.user, "replies"),
        "can_see_quarantine": can(request.user, "quarantine"),
        "can_see_deadlines": can(request.user, "act_on_messages"),
    }
    if form.is_valid():
        period = Period(form.cleaned_data["start"], form.cleaned_data["end"], zone)
        figures = collect(agency, period, form.chosen_division())
        context |= {
            "f": figures,
            "r": figures.rates,
            "shown": _shown(figures),
            "chart": messages_per_day_chart(figures.per_day),
        }
    with timezone.override(zone):
        return render(request, "staff/dashboard.html", context)


urlpatterns = [path("dashboard", dashboard, name="dashboard")]
