"""/staff/config/case-updates: which case events victims are told of, the legal deadline for
telling them (working days, and fewer for enhanced-rights victims), the RMS statuses that mean
an event, which kinds of case carry enhanced rights, and the holidays the clock skips. One
form for what the compliance clock counts; every change audited with its old and new values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from victim_notify.agencies.models import CASE_EVENT_KINDS, STATUS_EVENT_KINDS, Agency
from victim_notify.cases.models import EventKind, Holiday
from victim_notify.staff.access import requires
from victim_notify.staff.config_forms import CATEGORY_LABELS, record_change, values_of
from victim_notify.staff.configuration import saved

SAVED = [
    "case_update_kinds",
    "notice_deadlines",
    "case_event_statuses",
    "enhanced_rights_categories",
]
NOT_FROM_A_STATUS = {
    "detective_assigned": gettext_lazy("From the report's detective (name and phone)."),
    "initial_appearance": gettext_lazy("From the events API, which sends the date and court."),
}
_HOLIDAY = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(.*)$")


def _days() -> forms.IntegerField:
    return forms.IntegerField(
        required=False, min_value=1, max_value=60, widget=forms.NumberInput(attrs={"size": 3})
    )


class CaseUpdatesForm(forms.Form):
    enhanced_rights_categories = forms.MultipleChoiceField(
        choices=list(CATEGORY_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=gettext_lazy("Kinds of case whose victims have enhanced rights"),
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=gettext_lazy("Holidays the deadlines skip"),
        help_text=gettext_lazy(
            "One a line: the date, then its name, e.g. 2026-12-25 Christmas Day."
        ),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        statuses_of: dict[str, list[str]] = {}
        for status, kind in agency.case_event_statuses.items():
            statuses_of.setdefault(kind, []).append(status)
        for kind in CASE_EVENT_KINDS:
            label = EventKind(kind).label
            days = agency.notice_deadlines.get(kind) or []
            self.fields[f"tell_{kind}"] = forms.BooleanField(required=False)
            self.fields[f"days_{kind}"] = _days()
            self.fields[f"enhanced_{kind}"] = _days()
            names = [
                ("tell", _("Tell victims")),
                ("days", _("Deadline in working days")),
                ("enhanced", _("Deadline for enhanced-rights victims")),
            ]
            if kind in STATUS_EVENT_KINDS:
                self.fields[f"statuses_{kind}"] = forms.CharField(required=False, max_length=400)
                names.append(("statuses", _("RMS statuses that mean it")))
            for name, what in names:
                field = self.fields[f"{name}_{kind}"]
                field.label = f"{what}: {label}"
                field.widget.attrs["aria-label"] = field.label
            self.initial[f"tell_{kind}"] = kind in agency.case_update_kinds
            self.initial[f"days_{kind}"] = days[0] if days else None
            self.initial[f"enhanced_{kind}"] = days[1] if len(days) > 1 else None
            self.initial[f"statuses_{kind}"] = ", ".join(statuses_of.get(kind, []))
        self.initial["enhanced_rights_categories"] = list(agency.enhanced_rights_categories)
        self.initial["holidays"] = "\n".join(
            f"{h.date.isoformat()} {h.name}" for h in Holiday.objects.filter(agency=agency)
        )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": EventKind(kind).label,
                "fields": [self[f"{name}_{kind}"] for name in ("tell", "days", "enhanced")],
                "statuses": self[f"statuses_{kind}"] if kind in STATUS_EVENT_KINDS else None,
                "instead": NOT_FROM_A_STATUS.get(kind, ""),
            }
            for kind in CASE_EVENT_KINDS
        ]

    def clean_enhanced_rights_categories(self) -> list[str]:
        chosen = set(self.cleaned_data["enhanced_rights_categories"])
        return [category for category in CATEGORY_LABELS if category in chosen]

    def clean_holidays(self) -> dict[dt.date, str]:
        days: dict[dt.date, str] = {}
        wrong = []
        for number, line in enumerate(self.cleaned_data["holidays"].splitlines(), start=1):
            if not line.strip():
                continue
            match = _HOLIDAY.match(line.strip())
            try:
                day = dt.date.fromisoformat(match.group(1)) if match else None
            except ValueError:
                day = None
            if day is None or match is None:
                wrong.append(
                    _("line %(number)s: %(line)s") % {"number": number, "line": line.strip()}
                )
                continue
            days[day] = match.group(2).strip()[:100] or _("Holiday")
        if wrong:
            raise ValidationError(
                _("Write the date as YYYY-MM-DD, then the name (%(lines)s).")
                % {"lines": "; ".join(wrong)}
            )
        return days

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        approved = set(self.agency.approved_statuses)
        statuses: dict[str, str] = {}
        for kind in CASE_EVENT_KINDS:
            days, enhanced = cleaned.get(f"days_{kind}"), cleaned.get(f"enhanced_{kind}")
            if enhanced and not days:
                self.add_error(f"days_{kind}", _("Give the deadline for everyone first."))
            if enhanced and days and enhanced > days:
                self.add_error(
                    f"enhanced_{kind}",
                    _("Enhanced rights mean a deadline no later than the usual."),
                )
            for status in re.split(r"[,;\n]+", cleaned.get(f"statuses_{kind}") or ""):
                status = status.strip().lower()
                if not status:
                    continue
                if status in approved:
                    self.add_error(
                        f"statuses_{kind}",
                        _("“%(status)s” is the status of an approved report, not of an event.")
                        % {"status": status},
                    )
                elif statuses.get(status, kind) != kind:
                    self.add_error(
                        f"statuses_{kind}",
                        _("“%(status)s” already means another event.") % {"status": status},
                    )
                statuses[status] = kind
        cleaned["case_event_statuses"] = statuses
        cleaned["case_update_kinds"] = [k for k in CASE_EVENT_KINDS if cleaned.get(f"tell_{k}")]
        cleaned["notice_deadlines"] = {
            kind: [cleaned[f"days_{kind}"]]
            + ([cleaned[f"enhanced_{kind}"]] if cleaned.get(f"enhanced_{kind}") else [])
            for kind in CASE_EVENT_KINDS
            if cleaned.get(f"days_{kind}")
        }
        return cleaned


def _state(agency: Agency) -> dict[str, Any]:
    return values_of(agency, SAVED) | {
        "holidays": [str(h) for h in Holiday.objects.filter(agency=agency)]
    }


@requires("configure")
def case_updates(request: HttpRequest) -> HttpResponse:
    agency = Agency.objects.get(pk=request.agency.pk)  # type: ignore[attr-defined]
    form = CaseUpdatesForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        before = _state(agency)
        with transaction.atomic():
            for name in SAVED:
                setattr(agency, name, form.cleaned_data[name])
            agency.save(update_fields=SAVED)
            wanted: dict[dt.date, str] = form.cleaned_data["holidays"]
            Holiday.objects.filter(agency=agency).exclude(date__in=list(wanted)).delete()
            for day, name in wanted.items():
                Holiday.objects.update_or_create(agency=agency, date=day, defaults={"name": name})
            changed = record_change(
                request,
                "case_updates",
                agency,
                before,
                _state(agency),
                show_values=frozenset([*SAVED, "holidays"]),
            )
        saved(request, changed, _("Case updates"))
        return redirect("staff:config-case-updates")
    return render(request, "staff/config_case_updates.html", {"form": form})


urlpatterns = [path("config/case-updates", case_updates, name="config-case-updates")]
