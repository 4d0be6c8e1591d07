"""The audit log: who did what to which record, for the agency's administrators and auditors.
Read-only. Reading it, exporting it and checking its chain are themselves audited. Checking
the chain walks the whole trail, so it runs only when someone asks.

Entries hold internal ids; the page turns them into what a person knows (a report's number, a
staff member's username) with one query per kind of object on the page, and links an object
only for a reader whose role may open its page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import ChainCheck, record_request, verify_chain
from victim_notify.accounts.export import write_csv
from victim_notify.accounts.models import AuditEvent, StaffMember
from victim_notify.agencies.models import Division, InvestigativeSection, OffenseCode
from victim_notify.intake.models import QuarantinedRecord, Report
from victim_notify.messages.models import MessageTemplate
from victim_notify.staff.access import can, requires
from victim_notify.surveys.models import Experiment

PER_PAGE = 100
REPORT = "intake.report"

# What each action code means, for people who did not write the code. Codes not listed (a new
# one, or one only older entries have) are shown as they are.
ACTION_LABELS: dict[str, Any] = {
    "admin.listed": gettext_lazy("Listed records in the admin site"),
    "admin.viewed": gettext_lazy("Viewed a record in the admin site"),
    "api_token.issued": gettext_lazy("Issued an API token"),
    "api_token.revoked": gettext_lazy("Revoked an API token"),
    "audit.exported": gettext_lazy("Downloaded audit entries"),
    "audit.verified": gettext_lazy("Checked the audit trail"),
    "audit.viewed": gettext_lazy("Viewed the audit log"),
    "config.agency_changed": gettext_lazy("Changed agency settings"),
    "config.division_changed": gettext_lazy("Changed a division"),
    "config.experiment_changed": gettext_lazy("Changed an experiment"),
    "config.offense_changed": gettext_lazy("Changed an offense code"),
    "config.provider_route_added": gettext_lazy("Added a provider"),
    "config.provider_route_changed": gettext_lazy("Changed a provider"),
    "config.provider_route_removed": gettext_lazy("Removed a provider"),
    "config.section_changed": gettext_lazy("Changed an investigative section"),
    "config.template_changed": gettext_lazy("Changed a message template"),
    "experiment.exported": gettext_lazy("Downloaded experiment results"),
    "experiment.report_viewed": gettext_lazy("Viewed experiment results"),
    "login.failed": gettext_lazy("Failed sign-in"),
    "login.locked_out": gettext_lazy("Locked out after failed sign-ins"),
    "login.mfa_failed": gettext_lazy("Wrong authenticator code"),
    "login.refused_unused": gettext_lazy("Sign-in refused: account unused"),
    "login.succeeded": gettext_lazy("Signed in"),
    "logout": gettext_lazy("Signed out"),
    "mfa.enrolled": gettext_lazy("Set up the authenticator app"),
    "notification.cancelled": gettext_lazy("Cancelled a message"),
    "notification.held": gettext_lazy("Held a message"),
    "notification.released": gettext_lazy("Released a held message"),
    "notification.viewed": gettext_lazy("Viewed a message"),
    "opt_out.lifted": gettext_lazy("Lifted an opt-out"),
    "opt_out.recorded": gettext_lazy("Recorded an opt-out"),
    "party.contact_corrected": gettext_lazy("Corrected a contact"),
    "party.do_not_contact_cleared": gettext_lazy("Cleared do-not-contact"),
    "party.do_not_contact_set": gettext_lazy("Marked do-not-contact"),
    "party.viewed": gettext_lazy("Viewed a person's contacts"),
    "password.changed": gettext_lazy("Changed their password"),
    "quarantine.discarded": gettext_lazy("Discarded a quarantined record"),
    "quarantine.replayed": gettext_lazy("Replayed a quarantined record"),
    "quarantine.viewed": gettext_lazy("Viewed a quarantined record"),
    "replies.viewed": gettext_lazy("Viewed the replies"),
    "reply.handled": gettext_lazy("Handled a reply"),
    "report.search": gettext_lazy("Searched reports"),
    "report.viewed": gettext_lazy("Viewed a report"),
    "survey_report.viewed": gettext_lazy("Viewed survey results in the admin site"),
    "user.created": gettext_lazy("Created a staff account"),
    "user.disabled": gettext_lazy("Switched an account off"),
    "user.disabled_unused": gettext_lazy("Switched off an unused account"),
    "user.enabled": gettext_lazy("Switched an account back on"),
    "user.mfa_reset": gettext_lazy("Reset an authenticator app"),
    "user.password_set": gettext_lazy("Set a staff member's password"),
    "user.role_changed": gettext_lazy("Changed a role"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


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
        self.fields["action"].choices = [("", _("Any action")), *labelled]

    def clean_report_number(self) -> str:
        number = self.cleaned_data["report_number"].strip()
        if number:
            found = Report.objects.filter(agency=self.agency, report_number__iexact=number)
            self.report_pk = found.values_list("pk", flat=True).first()
            if self.report_pk is None:
                raise forms.ValidationError(_("Your agency has no report with this number."))
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean()
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
    zone = ZoneInfo(request.agency.timezone)  # type: ignore[attr-defined]
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


@dataclass(frozen=True)
class Shown:
    """An object as the page names it: "Report 2612-0000048", linked if the reader may open
    its page."""

    text: str
    url: str = ""


# For the ids of one kind of object on a page: the agency's objects among them, id → name.
Loader = Callable[[Any, list[int]], dict[int, str]]


@dataclass(frozen=True)
class ObjectKind:
    noun: Any
    load: Loader
    url_name: str
    kwarg: str
    capability: str


def _load_reports(agency: Any, ids: list[int]) -> dict[int, str]:
    # Report numbers are the police's reference, not personal data.
    found = Report.objects.filter(agency=agency, pk__in=ids)
    return dict(found.values_list("pk", "report_number"))


def _load_staff(agency: Any, ids: list[int]) -> dict[int, str]:
    found = StaffMember.objects.filter(agency=agency, user_id__in=ids)
    return dict(found.values_list("user_id", "user__username"))


def _load_quarantined(agency: Any, ids: list[int]) -> dict[int, str]:
    found = QuarantinedRecord.objects.filter(agency=agency, pk__in=ids)
    return {pk: str(pk) for pk in found.values_list("pk", flat=True)}


def _load_templates(agency: Any, ids: list[int]) -> dict[int, str]:
    found = MessageTemplate.objects.filter(agency=agency, pk__in=ids)
    return {
        t.pk: f"{t.get_kind_display()} · {t.get_channel_display()} · {t.language}"
        for t in found.only("pk", "kind", "channel", "language")
    }


def _load_names(model: Any, *fields: str) -> Loader:
    def load(agency: Any, ids: list[int]) -> dict[int, str]:
        found = model.objects.filter(agency=agency, pk__in=ids).values_list("pk", *fields)
        return {pk: " ".join(str(value) for value in values) for pk, *values in found}

    return load


OBJECT_KINDS: dict[str, ObjectKind] = {
    REPORT: ObjectKind(
        gettext_lazy("Report"), _load_reports, "staff:report", "report_id", "view_people"
    ),
    "auth.user": ObjectKind(
        gettext_lazy("Staff member"), _load_staff, "staff:user", "user_id", "users"
    ),
    "intake.quarantinedrecord": ObjectKind(
        gettext_lazy("Record"),
        _load_quarantined,
        "staff:quarantine-record",
        "record_id",
        "quarantine",
    ),
    "messages.messagetemplate": ObjectKind(
        gettext_lazy("Template"),
        _load_templates,
        "staff:config-template",
        "template_id",
        "configure",
    ),
    "surveys.experiment": ObjectKind(
        gettext_lazy("Experiment"),
        _load_names(Experiment, "name"),
        "staff:experiment",
        "experiment_id",
        "experiments",
    ),
    "agencies.offensecode": ObjectKind(
        gettext_lazy("Offense code"),
        _load_names(OffenseCode, "code"),
        "staff:config-offense",
        "offense_id",
        "configure",
    ),
    "agencies.division": ObjectKind(
        gettext_lazy("Division"),
        _load_names(Division, "code", "name"),
        "staff:config-division",
        "division_id",
        "configure",
    ),
    "agencies.investigativesection": ObjectKind(
        gettext_lazy("Section"),
        _load_names(InvestigativeSection, "code", "name"),
        "staff:config-section",
        "section_id",
        "configure",
    ),
}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _reports_named(detail: Any) -> list[int]:
    """The report ids an entry's detail holds: the report it concerns, a search's results."""
    if not isinstance(detail, dict):
        return []
    results = detail.get("results")
    candidates = [detail.get("report"), *(results if isinstance(results, list) else [])]
    return [pk for pk in map(_int, candidates) if pk is not None]


class Names:
    """The names of every object a page of entries mentions, found with one query per kind."""

    def __init__(self, request: HttpRequest, events: list[AuditEvent]) -> None:
        self.request = request
        wanted: dict[str, set[int]] = {}
        for event in events:
            pk = _int(event.object_id)
            if event.object_type in OBJECT_KINDS and pk is not None:
                wanted.setdefault(event.object_type, set()).add(pk)
            wanted.setdefault(REPORT, set()).update(_reports_named(event.detail))
        agency = request.agency  # type: ignore[attr-defined]
        self.names = {
            kind: OBJECT_KINDS[kind].load(agency, sorted(ids))
            for kind, ids in wanted.items()
            if ids
        }

    def name(self, object_type: str, pk: int | None) -> str | None:
        return self.names.get(object_type, {}).get(pk) if pk is not None else None

    def shown(self, object_type: str, object_id: Any) -> Shown | None:
        """The object named and, for a reader who may open it, linked; None if it is not one
        of the agency's objects of a kind the page knows."""
        pk = _int(object_id)
        name = self.name(object_type, pk)
        if name is None:
            return None
        kind = OBJECT_KINDS[object_type]
        url = ""
        if can(self.request.user, kind.capability):
            url = reverse(kind.url_name, kwargs={kind.kwarg: pk})
        return Shown(f"{kind.noun} {name}", url)

    def detail(self, detail: Any) -> list[tuple[str, str]]:
        """The detail's keys and values, with report ids given as report numbers."""
        if not isinstance(detail, dict):
            return []
        pairs = []
        for key, value in sorted(detail.items()):
            if key == "report":
                value = self.name(REPORT, _int(value)) or value
            elif key == "results" and isinstance(value, list):
                value = ", ".join(self.name(REPORT, _int(v)) or str(v) for v in value) or "–"
            pairs.append((key, str(value)))
        return pairs


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
