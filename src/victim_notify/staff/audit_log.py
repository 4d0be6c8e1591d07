"""The audit log: who did what to which record, for the agency's administrators and auditors.
Read-only. Reading it, exporting it and checking its chain are themselves audited. Checking
the chain walks the whole trail, so it runs only when someone asks.

Entries hold internal ids; the page turns them into what a person knows (a report's number, a
staff member's username) with one query per kind of object on the page, and links an object
only for a reader whose role may open its page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import ChainCheck, record_request, verify_chain
from victim_notify.accounts.export import write_csv
from victim_notify.accounts.models import AuditEvent
from victim_notify.intake.models import Report
from victim_notify.staff.access import requires
from victim_notify.staff.audit_names import REPORT, Names, Shown, action_label

PER_PAGE = 100


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    report_number = forms.CharField(
        label=gettext_lazy("Report number"), required=False, max_length=40
    )
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    actor = forms.CharField(label=gettext_lazy("Who (username)"), required=False, max_length=100)
    object_type = forms.CharField(label=gettext_lazy("Object type"), required=False, max_length=64)
    object_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64)

    def __init__(self, *args: Any, actions: Iterable[str], agency: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.report_pk: int | None = None
        labelled = sorted(((code, action_label(code)) for code in actions), key=lambda c: c[1])
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [("", _("Any action")), *labelled]

    def clean_report_number(self) -> str:
        number = self.cleaned_data["report_number"].strip()
        if number:
            found = Report.objects.filter(agency=self.agency, report_number__iexact=number)
            self.report_pk = found.values_list("pk", flat=True).first()
            if self.report_pk is None:
                raise forms.ValidationError(_("Your agency has no report with this number."))
        return number

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def used(self) -> dict[str, str]:
        """The filters given, as text: what the export's audit entry records. None of them is
        personal data (dates, action names, staff usernames, report numbers, object ids)."""
        if not self.is_valid():
            return {}
        return {name: str(value) for name, value in self.cleaned_data.items() if value}


def _agency_events(request: HttpRequest) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(agency=request.agency)  # type: ignore[attr-defined]


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    # order_by() replaces the model's ordering, which DISTINCT would otherwise include.
    actions = _agency_events(request).order_by("action").values_list("action", flat=True)
    return AuditFilterForm(
        request.GET or None,
        actions=actions.distinct(),
        agency=request.agency,  # type: ignore[attr-defined]
    )


def _about_report(pk: int) -> Q:
    """Entries about one report: the report itself, anything whose detail names it (a party,
    a message), and searches that returned it. A search's ids are a JSON list; a containment
    lookup on it exists on PostgreSQL but not SQLite, so the list is matched as text, with the
    id standing alone between non-digits ("41" must not match 141 or 410). The key's text is
    "[41,5]" on SQLite and "[41, 5]" on PostgreSQL; the pattern fits both."""
    return (
        Q(object_type=REPORT, object_id=str(pk))
        | Q(detail__report=pk)
        | Q(action="report.search", detail__results__regex=rf"(^|[^0-9]){pk}([^0-9]|$)")
    )


def _filtered(request: HttpRequest, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    events = _agency_events(request).order_by("-at", "-id")
    if not form.is_bound:
        return events
    if not form.is_valid():
        # Never the whole trail for filters that could not be read (an export especially).
        return events.none()
    data = form.cleaned_data
    zone = request.agency.zone  # type: ignore[attr-defined]
    # Dates are the agency's days, not UTC ones.
    if data["date_from"]:
        events = events.filter(at__gte=dt.datetime.combine(data["date_from"], dt.time(), zone))
    if data["date_to"]:
        next_day = data["date_to"] + dt.timedelta(days=1)
        events = events.filter(at__lt=dt.datetime.combine(next_day, dt.time(), zone))
    if form.report_pk is not None:
        events = events.filter(_about_report(form.report_pk))
    if data["action"]:
        events = events.filter(action=data["action"])
    if data["actor"]:
        events = events.filter(actor_label__iexact=data["actor"].strip())
    if data["object_type"]:
        events = events.filter(object_type__iexact=data["object_type"].strip())
    if data["object_id"]:
        events = events.filter(object_id=data["object_id"].strip())
    return events


def _rows(request: HttpRequest, page: Page) -> list[dict[str, Any]]:
    events = list(page.object_list)
    names = Names(request, events)
    rows = []
    for event in events:
        shown = None
        if event.object_type:
            shown = names.shown(event.object_type, event.object_id) or Shown(
                f"{event.object_type} #{event.object_id}"
            )
        report = None
        if isinstance(event.detail, dict) and event.object_type != REPORT:
            report = names.shown(REPORT, event.detail.get("report"))
        rows.append(
            {
                "event": event,
                "action": action_label(event.action),
                "object": shown,
                "report": report,
                "detail": names.detail(event.detail),
            }
        )
    return rows


@requires("audit")
def audit_log(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    events = _filtered(request, form)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    rows = _rows(request, page)
    query = request.GET.copy()
    query.pop("page", None)
    record_request(
        request,
        "audit.viewed",
        detail={"page": page.number, "count": page.paginator.count, "filters": form.used()},
    )
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "check": request.session.pop("audit_check", None),
    }
    with timezone.override(request.agency.timezone):  # type: ignore[attr-defined]
        return render(request, "staff/audit.html", context)


@requires("audit")
def audit_export(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    events = _filtered(request, form)
    stamp = timezone.localtime(timezone=ZoneInfo(request.agency.timezone))  # type: ignore[attr-defined]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp:%Y-%m-%d-%H%M}.csv"'
    count = write_csv(events.iterator(2000), response)
    record_request(request, "audit.exported", detail={"count": count, "filters": form.used()})
    return response


def describe_check(check: ChainCheck) -> dict[str, Any]:
    """What the page says about a check, in the reader's language."""
    if check.intact:
        text = _("The trail is intact: %(count)s entries checked, none changed or missing.") % {
            "count": check.entries
        }
    elif check.first_bad_id is not None:
        text = _(
            "The trail is broken at entry #%(id)s (entry %(count)s from the start): %(problem)s."
        ) % {
            "id": check.first_bad_id,
            "count": check.entries,
            "problem": PROBLEMS.get(check.problem, check.problem),
        }
    else:
        text = _("The trail is broken: the newest entries are missing (%(problem)s).") % {
            "problem": check.problem
        }
    return {"intact": check.intact, "text": text, "entry": check.first_bad_id}


PROBLEMS = {
    "does not follow the entry before it": gettext_lazy(
        "it does not follow the entry before it (an entry was removed or put in)"
    ),
    "its content was changed after it was written": gettext_lazy(
        "its content was changed after it was written"
    ),
}


@requires("audit")
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    check = verify_chain()
    record_request(
        request,
        "audit.verified",
        detail={
            "entries": check.entries,
            "intact": check.intact,
            "first_bad_id": check.first_bad_id,
        },
    )
    result = describe_check(check)
    if request.headers.get("HX-Request"):
        return render(request, "staff/audit_check.html", {"check": result})
    # Without JavaScript: the log page shows the result once, after the redirect.
    request.session["audit_check"] = result
    return redirect("staff:audit")


urlpatterns = [
    path("audit", audit_log, name="audit"),
    path("audit/export", audit_export, name="audit-export"),
    path("audit/verify", audit_verify, name="audit-verify"),
]
