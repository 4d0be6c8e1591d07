"""How long personal data is kept, and legal holds: the agency's records schedule in the staff
app, for its administrators. The purge itself is `privacy/purge.py` (a daily job)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import client_address
from victim_notify.agencies.models import Agency
from victim_notify.intake.models import Report
from victim_notify.privacy import holds
from victim_notify.privacy.purge import due_reports
from victim_notify.staff.access import requires
from victim_notify.staff.configuration import save_agency_form

# A records schedule shorter than a month would purge reports while victims still call about
# them; one longer than ten years is almost certainly a typo for a shorter one.
SHORTEST_DAYS, LONGEST_DAYS = 30, 3650


class RetentionForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = ["retain_reports_days", "retain_quarantine_days", "retain_replies_days"]
        labels = {
            "retain_reports_days": gettext_lazy("Reports and everything about them (days)"),
            "retain_quarantine_days": gettext_lazy("Records that could not be accepted (days)"),
            "retain_replies_days": gettext_lazy("Replies that matched no report (days)"),
        }
        help_texts = {
            "retain_reports_days": gettext_lazy(
                "Counted from the report's last activity: a new version, a message, a reply."
            ),
            "retain_quarantine_days": gettext_lazy("Counted from when the record arrived."),
            "retain_replies_days": gettext_lazy("Counted from when the reply arrived."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.validators += [MinValueValidator(SHORTEST_DAYS), MaxValueValidator(LONGEST_DAYS)]
            field.widget.attrs.update(min=SHORTEST_DAYS, max=LONGEST_DAYS)


@requires("records")
def retention(request: HttpRequest) -> HttpResponse:
    agency = Agency.objects.get(pk=request.agency.pk)  # type: ignore[attr-defined]
    form = RetentionForm(request.POST or None, instance=agency)
    if save_agency_form(request, form, _("Retention periods")):
        return redirect("staff:records")
    due, held_due = due_reports(agency, timezone.now())
    held = Report.objects.filter(agency=agency, legal_hold=True).order_by("report_number")
    return render(
        request,
        "staff/records.html",
        {"form": form, "held": held, "due": len(due), "held_due": held_due},
    )


class HoldForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label=gettext_lazy("Why (a case number, a court order, a records request)"),
    )


def _back(report: Report) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("staff:report", kwargs={"report_id": report.pk}) + "#legal-hold"
    )


@requires("records")
@require_POST
def legal_hold(request: HttpRequest, report_id: int) -> HttpResponse:
    report = get_object_or_404(
        Report,
        pk=report_id,
        agency=request.agency,  # type: ignore[attr-defined]
    )
    who: dict[str, Any] = {
        "actor_label": request.user.get_username(),
        "actor": request.user,
        "remote_addr": client_address(request),
    }
    if request.POST.get("action") == "release":
        if not report.legal_hold:
            messages.info(request, _("This report is not on legal hold."))
        else:
            holds.release_hold(report, **who)
            messages.success(
                request,
                _("Legal hold released. The report is purged when its retention period ends."),
            )
        return _back(report)
    form = HoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the report is held: it is kept in the audit log."))
    elif report.legal_hold:
        messages.info(request, _("This report is already on legal hold."))
    else:
        try:
            holds.place_hold(report, form.cleaned_data["reason"], **who)
        except holds.AlreadyPurged:
            messages.error(
                request,
                _("This report's personal data was already purged; nothing is left to hold."),
            )
        else:
            messages.success(
                request,
                _("Legal hold placed. The report is kept whole until the hold is released."),
            )
    return _back(report)


urlpatterns = [
    path("config/records", retention, name="records"),
    path("reports/<int:report_id>/legal-hold", legal_hold, name="report-legal-hold"),
]
