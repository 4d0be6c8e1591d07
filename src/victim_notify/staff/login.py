"""Signing in: password (argon2, locked after 5 failures), then a TOTP code from an
authenticator app, set up on first sign-in. No SMS or email codes: CJIS counts neither as a
second factor one can rely on."""

from __future__ import annotations

import datetime as dt

import segno
from django import forms
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from victim_notify.accounts.audit import record_request
from victim_notify.accounts.inactivity import UNUSED_ACCOUNT_DAYS
from victim_notify.accounts.switching import UNUSED_REASON, switch_off
from victim_notify.staff.access import LANDING, redirect_to_login


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def unused_too_long(user: AbstractBaseUser, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    last = user.last_login or user.date_joined  # type: ignore[attr-defined]
    return last < now - dt.timedelta(days=UNUSED_ACCOUNT_DAYS)


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    staff = getattr(request.user, "staff", None)
    return reverse(LANDING[staff.role]) if staff else reverse("staff:no-agency")


def login(request: HttpRequest) -> HttpResponse:
    # is_verified is put on the user by django_otp's OTPMiddleware.
    if request.user.is_authenticated and request.user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if unused_too_long(user):
            switch_off(user, UNUSED_REASON)
            record_request(request, "login.refused_unused", target=user)
            form.add_error(
                None,
                _(
                    "This account was switched off because it was not used for 90 days. "
                    "Ask your agency's administrator to switch it back on."
                ),
            )
        else:
            # Signed in for the second step only: the sign-in that counts (last_login, for the
            # 90-day rule) is the one completed with the code, in mfa().
            previous = user.last_login
            auth.login(request, user)
            get_user_model().objects.filter(pk=user.pk).update(last_login=previous)
            request.session["next"] = _next_url(request) if request.POST.get("next") else ""
            return redirect("staff:mfa")
    return render(
        request,
        "staff/login.html",
        {"form": form, "next": request.GET.get("next", ""), "bare": True},
    )


def mfa(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the person's authenticator app, or, the first time, setting
    the app up from a QR code."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request)
    # is_verified is put on the user by django_otp's OTPMiddleware.
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(request.session.get("next") or _next_url(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "Authenticator app"}
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record_request(request, "mfa.enrolled", target=user)
            otp_login(request, device)
            get_user_model().objects.filter(pk=user.pk).update(last_login=timezone.now())
            record_request(request, "login.succeeded", target=user)
            return redirect(request.session.pop("next", "") or _next_url(request))
        record_request(request, "login.mfa_failed", target=user)
        form.add_error("token", _("That code did not match. Wait for a new one and try again."))
    context = {"form": form, "enrolling": enrolling, "bare": True}
    if enrolling:
        qr = segno.make(device.config_url, error="m")
        context["qr_svg"] = qr.svg_inline(scale=5, title=_("QR code for your authenticator app"))
        context["secret"] = _grouped_secret(device)
    return render(request, "staff/mfa.html", context)


def _grouped_secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record_request(request, "logout", target=request.user)
    auth.logout(request)
    return redirect("staff:login")


def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request)
    # is_verified is put on the user by django_otp's OTPMiddleware.
    if not user.is_verified():  # type: ignore[attr-defined]
        return redirect("staff:mfa")
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        auth.update_session_auth_hash(request, form.user)
        record_request(request, "password.changed", target=user)
        from django.contrib import messages

        messages.success(request, _("Your password was changed."))
        return redirect(_next_url(request))
    return render(request, "staff/password.html", {"form": form})


def no_agency(request: HttpRequest) -> HttpResponse:
    """A signed-in user who belongs to no agency (an installation's superuser)."""
    if getattr(request.user, "staff", None) is not None:
        return redirect("staff:home")
    return render(request, "staff/no_agency.html", {"bare": True}, status=403)
