"""The Reports pages: find a report, see everything that happened to it, and act on its
messages and people.

Searches are sent by POST so that a name, phone or email never lands in a URL, a browser's
history or a web server's access log; the audit trail keeps a keyed hash of what was searched
for and the ids found, never the terms."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass

from csp.decorators import csp_exempt
from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import record_request, terms_hash
from victim_notify.accounts.models import AuditEvent
from victim_notify.agencies.models import Agency, OffenseCode
from victim_notify.contacts.models import OptOut
from victim_notify.contacts.normalise import Normalised, normalise_email, normalise_phone
from victim_notify.intake.models import Party, Report
from victim_notify.messages.models import Notification, Status
from victim_notify.privacy.fields import matching
from victim_notify.rules.models import Decision
from victim_notify.staff import report_actions, timeline
from victim_notify.staff.access import can, requires

# The email as sent, shown inside a sandboxed frame: no script, no fetch, nothing but its own
# inline styles and embedded images (a tracking image must not count staff as the victim).
EMAIL_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
RESULTS_LIMIT = 100
RECENT = 20

_SENT = {Status.SENT, Status.DELIVERED}
_WAITING = {Status.PENDING, Status.SENDING}


class SearchForm(forms.Form):
    by = forms.ChoiceField(
        label=gettext_lazy("Search by"),
        choices=[
            ("number", gettext_lazy("Report number")),
            ("name", gettext_lazy("Name")),
            ("phone", gettext_lazy("Phone")),
            ("email", gettext_lazy("Email")),
        ],
    )
    q = forms.CharField(
        label=gettext_lazy("Search for"),
        max_length=200,
        help_text=gettext_lazy(
            "Names match exactly, in any letter case: a first name, a last name, or both."
        ),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


@dataclass(frozen=True)
class ReportRow:
    report: Report
    offense: str
    parties: int
    sent: int
    waiting: int
    stopped: int  # messages cancelled, failed or expired
    not_written_to: int  # people the current version decided not to write to at all


def find(agency: Agency, kind: str, terms: str) -> tuple[QuerySet[Report] | None, str]:
    """The agency's reports matching the terms, or None and what is wrong with them."""
    reports = Report.objects.filter(agency=agency)
    parties = Party.objects.filter(report__agency=agency)
    if kind == "number":
        return reports.filter(report_number__iexact=terms.strip()), ""
    if kind == "name":
        words = terms.replace(",", " ").split()
        if not words:
            return None, _("Enter a first name, a last name, or both.")
        if len(words) == 1:
            match = matching("first_name_index", "name", words[0]) | matching(
                "last_name_index", "name", words[0]
            )
        else:
            first, last = (words[-1], words[0]) if "," in terms else (words[0], words[-1])
            match = matching("first_name_index", "name", first) & matching(
                "last_name_index", "name", last
            )
        return reports.filter(pk__in=parties.filter(match).values("report_id")), ""
    if kind == "phone":
        phone = normalise_phone(terms, agency.phone_region)
        if phone.value is None:
            return None, _("That is not a phone number we can search for.")
        return reports.filter(
            pk__in=parties.filter(matching("phone__value_index", "contact", phone.value)).values(
                "report_id"
            )
        ), ""
    email = normalise_email(terms).value or terms.strip().lower()
    found = parties.filter(matching("email__value_index", "contact", email))
    return reports.filter(pk__in=found.values("report_id")), ""


def rows(agency: Agency, reports: list[Report]) -> list[ReportRow]:
    ids = [r.pk for r in reports]
    parties = Counter(
        Party.objects.filter(report_id__in=ids, removed=False).values_list("report_id", flat=True)
    )
    statuses: dict[int, Counter[str]] = defaultdict(Counter)
    for report_id, status in Notification.objects.filter(report_id__in=ids).values_list(
        "report_id", "status"
    ):
        statuses[report_id][status] += 1
    silent = _not_written_to(reports)
    codes = {code for r in reports for code in r.offense_codes[:1]}
    titles = dict(
        OffenseCode.objects.filter(agency=agency, code__in=codes).values_list("code", "title")
    )
    result = []
    for report in reports:
        first = report.offense_codes[0] if report.offense_codes else ""
        counts = statuses[report.pk]
        sent = sum(counts[s] for s in _SENT)
        waiting = sum(counts[s] for s in _WAITING)
        result.append(
            ReportRow(
                report=report,
                offense=f"{first} {titles.get(first, '')}".strip(),
                parties=parties[report.pk],
                sent=sent,
                waiting=waiting,
                stopped=sum(counts.values()) - sent - waiting,
                not_written_to=silent[report.pk],
            )
        )
    return result


def _not_written_to(reports: list[Report]) -> Counter[int]:
    """Per report: the people on it whose every decision on the report's current version was
    not to send (an excluded offense, a suspect, an opt-out, do-not-contact, ...)."""
    versions = {r.pk: r.version for r in reports}
    writes: dict[tuple[int, int], bool] = {}
    for report_id, version, party_id, send in Decision.objects.filter(
        report_id__in=versions, party__removed=False
    ).values_list("report_id", "report_version", "party_id", "send"):
        if version == versions[report_id]:
            key = (report_id, party_id)
            writes[key] = writes.get(key, False) or send
    return Counter(report_id for (report_id, _party), send in writes.items() if not send)


@requires("view_people")
@never_cache
def reports(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    form = SearchForm(request.POST if request.method == "POST" else None)
    results: list[ReportRow] | None = None
    if form.is_bound and form.is_valid():
        kind, terms = form.cleaned_data["by"], form.cleaned_data["q"]
        found, problem = find(agency, kind, terms)
        if found is None:
            form.add_error("q", problem)
        else:
            listed = list(found.select_related("division").order_by("-reported_at")[:RESULTS_LIMIT])
            record_request(
                request,
                "report.search",
                detail={
                    "kind": kind,
                    "terms_hash": terms_hash(kind, terms),
                    "results": [r.pk for r in listed],
                },
            )
            results = rows(agency, listed)
    recent = []
    if results is None:
        latest = Report.objects.filter(agency=agency).select_related("division")
        recent = rows(agency, list(latest.order_by("-created_at")[:RECENT]))
    context = {"form": form, "results": results, "recent": recent, "limit": RESULTS_LIMIT}
    with timezone.override(request.agency.zone):  # type: ignore[attr-defined]
        return render(request, "staff/reports.html", context)


@dataclass(frozen=True)
class PartyRow:
    party: Party
    phone: str
    email: str
    opted_out: list[str]
    do_not_contact_set: AuditEvent | None  # who marked them do-not-contact, and when


def _party_rows(
    agency: Agency, parties: list[Party], marked: dict[int, AuditEvent]
) -> list[PartyRow]:
    ids = {cid for p in parties for cid in (p.phone_id, p.email_id) if cid}
    out = set(
        OptOut.objects.filter(agency=agency, revoked_at=None, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    result = []
    for party in parties:
        opted = []
        if party.phone_id in out:
            opted.append(_("texts"))
        if party.email_id in out:
            opted.append(_("emails"))
        result.append(
            PartyRow(
                party=party,
                phone=timeline.contact_label("sms", party.phone.value) if party.phone else "",
                email=party.email.value if party.email else "",
                opted_out=opted,
                do_not_contact_set=marked.get(party.pk) if party.do_not_contact else None,
            )
        )
    return result


def _offenses(agency: Agency, codes: list[str]) -> list[tuple[str, str]]:
    titles = dict(
        OffenseCode.objects.filter(agency=agency, code__in=codes).values_list("code", "title")
    )
    return [(code, titles.get(code, _("not in the offense table"))) for code in codes]


@requires("view_people")
@never_cache
def report(request: HttpRequest, report_id: int) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    found = get_object_or_404(
        Report.objects.select_related("division"), pk=report_id, agency=agency
    )
    record_request(request, "report.viewed", target=found)
    parties = list(
        found.parties.select_related("phone", "email").order_by("removed", "role", "party_id")
    )
    marks = timeline.staff_marks(found, parties)
    entries = timeline.build(found, parties, marks)
    context = {
        "report": found,
        "offenses": _offenses(agency, found.offense_codes),
        "parties": _party_rows(agency, parties, timeline.latest_set(marks)),
        "entries": entries,
        "relationships": timeline.relationship_legend(entries),
        "do_not_contact_reasons": list(report_actions.DO_NOT_CONTACT_REASONS.items()),
        "can_act": can(request.user, "act_on_messages"),
        "can_hold": can(request.user, "records"),
        "cancel_reasons": list(report_actions.CANCEL_REASONS.items()),
        "sms_from": timeline.contact_label("sms", agency.sms_from),
    }
    with timezone.override(request.agency.zone):  # type: ignore[attr-defined]
        return render(request, "staff/report.html", context)


# django-csp types a view as taking the request alone, so this one (with an id) and what the
# decorators above make of it do not match its hint.
@requires("view_people")  # type: ignore[arg-type]
@never_cache
@csp_exempt()  # type: ignore[arg-type]
def notification_email(request: HttpRequest, notification_id: uuid.UUID) -> HttpResponse:
    note = get_object_or_404(
        Notification,
        pk=notification_id,
        agency=request.agency,  # type: ignore[attr-defined]
    )
    record_request(request, "notification.viewed", target=note, detail={"report": note.report_id})
    if note.html:
        response = HttpResponse(note.html, content_type="text/html; charset=utf-8")
    else:  # a text, or an email sent without HTML: its words, never interpreted as markup
        response = HttpResponse(note.body, content_type="text/plain; charset=utf-8")
    response["Content-Security-Policy"] = EMAIL_CSP
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _back(report_id: int, anchor: str = "") -> HttpResponseRedirect:
    url = reverse("staff:report", kwargs={"report_id": report_id})
    return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)


def _message(request: HttpRequest, notification_id: uuid.UUID) -> Notification:
    return get_object_or_404(
        Notification,
        pk=notification_id,
        agency=request.agency,  # type: ignore[attr-defined]
        report__isnull=False,
    )


def _not_waiting(request: HttpRequest, note: Notification) -> None:
    words, _badge = timeline.STATUS_WORDS.get(note.status, (note.status, ""))
    messages.error(
        request,
        _("Only a message waiting to be sent can be changed; this one is: %(status)s.")
        % {"status": words},
    )


@requires("act_on_messages")
@require_POST
def hold(request: HttpRequest, notification_id: uuid.UUID) -> HttpResponse:
    note = _message(request, notification_id)
    if report_actions.hold(note, timezone.now()):
        record_request(request, "notification.held", target=note, detail={"report": note.report_id})
        messages.success(request, _("The message is held. It will not go until it is released."))
    elif report_actions.is_held(note):
        messages.info(request, _("The message was already held."))
    else:
        _not_waiting(request, note)
    return _back(note.report_id or 0, f"message-{note.pk}")


@requires("act_on_messages")
@require_POST
def release(request: HttpRequest, notification_id: uuid.UUID) -> HttpResponse:
    note = _message(request, notification_id)
    if report_actions.release(note, timezone.now()):
        record_request(
            request, "notification.released", target=note, detail={"report": note.report_id}
        )
        messages.success(request, _("The message is released. It goes as soon as the rules allow."))
    else:
        messages.error(request, _("This message is not held."))
    return _back(note.report_id or 0, f"message-{note.pk}")


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why"), choices=list(report_actions.CANCEL_REASONS.items())
    )


@requires("act_on_messages")
@require_POST
def cancel(request: HttpRequest, notification_id: uuid.UUID) -> HttpResponse:
    note = _message(request, notification_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why the message is cancelled."))
    elif report_actions.cancel(note, form.cleaned_data["reason"], timezone.now()):
        record_request(
            request,
            "notification.cancelled",
            target=note,
            detail={"report": note.report_id, "reason": form.cleaned_data["reason"]},
        )
        messages.success(request, _("The message is cancelled. It will never be sent."))
    else:
        _not_waiting(request, note)
    return _back(note.report_id or 0, f"message-{note.pk}")


def _party(request: HttpRequest, party_id: int) -> Party:
    return get_object_or_404(
        Party.objects.select_related("report", "phone", "email"),
        pk=party_id,
        report__agency=request.agency,  # type: ignore[attr-defined]
    )


class ContactForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("Leave it empty if the person has no phone we may text."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=gettext_lazy("Email"),
        required=False,
        max_length=320,
        help_text=gettext_lazy("Leave it empty if the person has no email we may write to."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: object, region: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.region = region

    def clean_phone(self) -> Normalised:
        phone = normalise_phone(self.cleaned_data["phone"], self.region)
        if phone.error:
            raise forms.ValidationError(_("This is not a valid phone number."))
        return phone

    def clean_email(self) -> Normalised:
        email = normalise_email(self.cleaned_data["email"])
        if email.error:
            raise forms.ValidationError(_("This is not a valid email address."))
        return email


def _decided(outcome: report_actions.Outcome) -> str:
    if outcome.queued:
        return ngettext(
            "%(count)d new message is queued.", "%(count)d new messages are queued.", outcome.queued
        ) % {"count": outcome.queued}
    sentences = " ".join(d.sentence for d in outcome.decisions if not d.send)
    return (_("No new message will be sent. %(why)s") % {"why": sentences}).strip()


@requires("act_on_messages")
@never_cache
def party_contact(request: HttpRequest, party_id: int) -> HttpResponse:
    party = _party(request, party_id)
    agency = request.agency  # type: ignore[attr-defined]
    if request.method == "POST":
        form = ContactForm(request.POST, region=agency.phone_region)
        if form.is_valid():
            phone, email = form.cleaned_data["phone"], form.cleaned_data["email"]
            change = report_actions.ContactChange(phone.value, phone.landline, email.value)
            fields, outcome = report_actions.correct_contact(party, change, timezone.now())
            if not fields:
                messages.info(request, _("Nothing changed: the contact is the same."))
            else:
                record_request(
                    request,
                    "party.contact_corrected",
                    target=party,
                    detail={"fields": fields, "report": party.report_id},
                )
                messages.success(request, _("The contact is corrected.") + " " + _decided(outcome))
            return _back(party.report_id, f"party-{party.pk}")
    else:
        record_request(request, "party.viewed", target=party, detail={"report": party.report_id})
        initial = {
            "phone": timeline.contact_label("sms", party.phone.value) if party.phone else "",
            "email": party.email.value if party.email else "",
        }
        form = ContactForm(initial=initial, region=agency.phone_region)
    return render(request, "staff/report_contact.html", {"form": form, "party": party})


@requires("act_on_messages")
@require_POST
def party_do_not_contact(request: HttpRequest, party_id: int) -> HttpResponse:
    party = _party(request, party_id)
    value = request.POST.get("do_not_contact") != "off"
    if party.do_not_contact == value:
        messages.info(request, _("Nothing changed."))
        return _back(party.report_id, f"party-{party.pk}")
    outcome = report_actions.set_do_not_contact(party, value, timezone.now())
    detail: dict[str, object] = {"report": party.report_id, "cancelled": outcome.cancelled}
    reason = request.POST.get("reason", "")
    if value and reason in report_actions.DO_NOT_CONTACT_REASONS:
        detail["reason"] = reason
    if value:
        record_request(request, "party.do_not_contact_set", target=party, detail=detail)
        text = ngettext(
            "Marked do not contact. %(count)d waiting message is cancelled.",
            "Marked do not contact. %(count)d waiting messages are cancelled.",
            outcome.cancelled,
        ) % {"count": outcome.cancelled}
    else:
        record_request(
            request,
            "party.do_not_contact_cleared",
            target=party,
            detail=detail | {"queued": outcome.queued},
        )
        text = _("No longer marked do not contact.") + " " + _decided(outcome)
    messages.success(request, text)
    return _back(party.report_id, f"party-{party.pk}")


urlpatterns = [
    path("reports", reports, name="reports"),
    path("reports/<int:report_id>", report, name="report"),
    path(
        "notifications/<uuid:notification_id>/email",
        notification_email,
        name="notification-email",
    ),
    path("notifications/<uuid:notification_id>/hold", hold, name="notification-hold"),
    path("notifications/<uuid:notification_id>/release", release, name="notification-release"),
    path("notifications/<uuid:notification_id>/cancel", cancel, name="notification-cancel"),
    path("parties/<int:party_id>/contact", party_contact, name="party-contact"),
    path(
        "parties/<int:party_id>/do-not-contact",
        party_do_not_contact,
        name="party-do-not-contact",
    ),
]
