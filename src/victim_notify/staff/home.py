"""/staff/: each person's starting page, which depends on their role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from victim_notify.staff.access import LANDING, redirect_to_login


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request)
    # is_verified is put on the user by django_otp's OTPMiddleware.
    if not user.is_verified():  # type: ignore[attr-defined]
        return redirect("staff:mfa")
    staff = getattr(user, "staff", None)
    return redirect(LANDING[staff.role] if staff else "staff:no-agency")
