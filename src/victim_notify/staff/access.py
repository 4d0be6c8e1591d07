"""Who may do what in the staff app. Every staff view names one capability; a role has a fixed
set of them. A view is reached only by a signed-in, MFA-verified member of an agency's staff
whose role has the capability, and everything it reads is scoped to `request.agency`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from victim_notify.accounts.models import Role

# capability -> roles that have it
CAPABILITIES: dict[str, frozenset[str]] = {
    # counts, rates and charts: no names or contacts
    "dashboard": frozenset(
        {Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.ADVOCATE, Role.CLERK, Role.ANALYST}
    ),
    # find a report and see who was told what (names, phones, emails, message text)
    "view_people": frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.ADVOCATE, Role.CLERK}),
    # hold or cancel a message, correct a contact and resend, mark do-not-contact
    "act_on_messages": frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.ADVOCATE}),
    "replies": frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.ADVOCATE}),
    "quarantine": frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.CLERK}),
    # offense codes, exclusions, divisions, sections, quiet hours, templates, experiments
    "configure": frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR}),
    "providers": frozenset({Role.AGENCY_ADMIN}),
    # how long personal data is kept (the agency's records schedule) and legal holds
    "records": frozenset({Role.AGENCY_ADMIN}),
    "users": frozenset({Role.AGENCY_ADMIN}),
    # aggregate survey results: no names or contacts
    "experiments": frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.ANALYST}),
    "audit": frozenset({Role.AGENCY_ADMIN, Role.AUDITOR}),
}

# Where each role lands after signing in: the first page its work starts from.
LANDING: dict[str, str] = {
    Role.AGENCY_ADMIN: "staff:dashboard",
    Role.SUPERVISOR: "staff:dashboard",
    Role.ADVOCATE: "staff:replies",
    Role.CLERK: "staff:quarantine",
    Role.ANALYST: "staff:dashboard",
    Role.AUDITOR: "staff:audit",
}


def can(user: Any, capability: str) -> bool:
    staff = getattr(user, "staff", None) if user.is_authenticated else None
    return staff is not None and staff.role in CAPABILITIES[capability]


def requires(
    capability: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The only way into a staff view. Not signed in → the login page; signed in without a
    verified second factor → the MFA step; no staff membership or the wrong role → 403."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request)
            # is_verified is put on the user by django_otp's OTPMiddleware.
            if not user.is_verified():  # type: ignore[attr-defined]
                return redirect("staff:mfa")
            if not can(user, capability):
                raise PermissionDenied
            request.agency = user.staff.agency  # type: ignore[attr-defined]
            # Times are stored in UTC and shown in the agency's own time zone.
            with timezone.override(request.agency.zone):  # type: ignore[attr-defined]
                return view(request, *args, **kwargs)

        guarded.capability = capability  # type: ignore[attr-defined]
        return guarded

    return decorate


def redirect_to_login(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth.views import redirect_to_login as to_login
    from django.urls import reverse

    return to_login(request.get_full_path(), reverse("staff:login"))
