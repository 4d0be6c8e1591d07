"""The installation's admin site: a TOTP code at sign-in (django-otp), and every look at a
record holding personal data written to the audit trail, as in the staff app."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.http import HttpRequest, HttpResponse
from django_otp.admin import OTPAdminSite

from victim_notify.accounts.audit import record_request, terms_hash

# Models whose admin pages show names, phones, emails, messages or what victims wrote.
PERSONAL = {
    "intake_report", "intake_party", "intake_reportversion", "intake_quarantinedrecord",
    "contacts_contact", "contacts_optout", "outbox_notification", "replies_inboundmessage",
    "providers_devoutboxmessage", "surveys_participant", "rules_decision",
}  # fmt: skip


class AuditedAdminSite(OTPAdminSite):
    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        guarded = super().admin_view(view, cacheable)

        def audited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = guarded(request, *args, **kwargs)
            if request.method == "GET" and response.status_code == 200:
                _record_personal_view(request, kwargs)
            return response

        return update_wrapper(audited, guarded)


def _record_personal_view(request: HttpRequest, kwargs: dict[str, Any]) -> None:
    match = request.resolver_match
    name = match.url_name if match else ""
    model, _, view = (name or "").rpartition("_")
    if model not in PERSONAL or view not in ("change", "changelist"):
        return
    detail: dict[str, Any] = {"model": model}
    if view == "change":
        detail["id"] = str(kwargs.get("object_id", ""))
    elif request.GET.get("q"):
        detail["search"] = terms_hash("admin", request.GET["q"])
    record_request(request, f"admin.{'viewed' if view == 'change' else 'listed'}", detail=detail)
