"""Users: an agency's administrators create staff accounts, change their roles, switch them
off and on, reset their second factor and give them a new password. Every change is audited;
an administrator can neither switch themselves off nor give up their own administrator role,
so an agency always keeps one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from axes.utils import reset as reset_failed_attempts
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from victim_notify.accounts.audit import record_request
from victim_notify.accounts.models import AuditEvent, Role, StaffMember
from victim_notify.accounts.switching import (
    BY_ADMIN_REASON,
    LOCKED_REASON,
    UNUSED_REASON,
    switch_off,
)
from victim_notify.staff.access import requires

User = get_user_model()


# The reasons are stored in English (they are data); each is shown in the reader's language.
REASON_LABELS = {
    LOCKED_REASON: gettext_lazy("Locked after 5 failed sign-ins"),
    UNUSED_REASON: gettext_lazy("Not used for 90 days"),
    BY_ADMIN_REASON: gettext_lazy("Switched off by an administrator"),
}


def reason_label(reason: str) -> str:
    return str(REASON_LABELS.get(reason, reason))


# What each role opens, in words an administrator choosing one understands; it follows
# access.CAPABILITIES (tests/staff/test_roles.py checks the capabilities themselves).
ROLE_HELP = {
    Role.AGENCY_ADMIN: gettext_lazy(
        "Everything, including staff accounts, text and email providers and the audit log."
    ),
    Role.SUPERVISOR: gettext_lazy(
        "Dashboard, reports and the actions on their messages, replies, quarantine, "
        "configuration and experiments."
    ),
    Role.ADVOCATE: gettext_lazy("Dashboard, reports and the actions on their messages, replies."),
    Role.CLERK: gettext_lazy("Dashboard, reports (read only) and quarantine."),
    Role.ANALYST: gettext_lazy("Dashboard and experiment results; no names or contacts."),
    Role.AUDITOR: gettext_lazy("The audit log only."),
}


def role_help() -> list[dict[str, str]]:
    return [
        {"role": str(label), "can": str(ROLE_HELP[Role(value)])} for value, label in Role.choices
    ]


class NewStaffForm(forms.ModelForm):
    # No role chosen for the administrator: the list's first role is the most powerful one.
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=[("", gettext_lazy("Choose a role")), *Role.choices],
        help_text=gettext_lazy("What each role can do is listed below."),
    )
    password1 = forms.CharField(
        label=gettext_lazy("First password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "Give it to them in person. They set up their authenticator app when they first "
            "sign in."
        ),
    )
    password2 = forms.CharField(
        label=gettext_lazy("First password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email"]
        labels = {
            "username": gettext_lazy("Username"),
            "first_name": gettext_lazy("First name"),
            "last_name": gettext_lazy("Last name"),
            "email": gettext_lazy("Email"),
        }
        help_texts = {"username": gettext_lazy("Letters, digits and @ . + - _ only.")}

    def __init__(self, *args: Any, agency: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        for name in ("first_name", "last_name", "email"):
            self.fields[name].required = True

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("Someone already has this username."))
        return username

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first, again = data.get("password1"), data.get("password2")
        if first and again and first != again:
            self.add_error("password2", _("The two passwords are not the same."))
        elif first:
            # The validators see the person as they will be: their names, and their agency
            # (whose name is banned in passwords).
            person = User(
                username=data.get("username", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
            )
            StaffMember(user=person, agency=self.agency, role=data.get("role", ""))
            try:
                validate_password(first, person)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)


def _staff_of_agency(request: HttpRequest, user_id: int) -> StaffMember:
    """A member of this agency's staff. Installation administrators (superusers, admin-site
    staff) are never managed from an agency's pages, even when also on its staff: setting
    their password or resetting their second factor would hand over every agency."""
    return get_object_or_404(
        StaffMember.objects.select_related("user", "agency"),
        user_id=user_id,
        agency=request.agency,  # type: ignore[attr-defined]
        user__is_superuser=False,
        user__is_staff=False,
    )


def _switched_on(agency: Any, user_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """When each account was last switched back on, from the audit trail."""
    latest = (
        AuditEvent.objects.filter(
            agency=agency,
            action="user.enabled",
            object_type="auth.user",
            object_id__in=[str(pk) for pk in user_ids],
        )
        .order_by()
        .values("object_id")
        .annotate(latest=Max("at"))
    )
    return {int(row["object_id"]): row["latest"] for row in latest}


def last_sign_in(user: Any, switched_on: dt.datetime | None) -> dict[str, Any]:
    """What the "Last sign-in" shows. Switching an account back on sets last_login to that
    moment, so the 90-day rule starts afresh; a last_login no later than the latest switch-on
    is therefore that switch-on, not a sign-in, and is shown as such."""
    last = user.last_login
    if last is not None and switched_on is not None and last <= switched_on:
        return {"signed_in": None, "switched_on": switched_on}
    return {"signed_in": last, "switched_on": None}


def _has_mfa(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@requires("users")
def user_list(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    members = list(
        StaffMember.objects.filter(agency=agency).select_related("user").order_by("user__username")
    )
    with_mfa = set(
        TOTPDevice.objects.filter(user__staff__agency=agency, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    switched_on = _switched_on(agency, (member.user_id for member in members))
    rows = [
        {
            "staff": member,
            "user": member.user,
            "reason": reason_label(member.disabled_reason),
            "mfa": member.user_id in with_mfa,
            "last": last_sign_in(member.user, switched_on.get(member.user_id)),
        }
        for member in members
    ]
    with timezone.override(agency.timezone):
        return render(request, "staff/users.html", {"rows": rows, "roles": role_help()})


@requires("users")
def user_new(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    form = NewStaffForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save(commit=False)
            user.set_password(form.cleaned_data["password1"])
            user.save()
            StaffMember.objects.create(user=user, agency=agency, role=form.cleaned_data["role"])
            record_request(
                request, "user.created", target=user, detail={"role": form.cleaned_data["role"]}
            )
        messages.success(
            request,
            _("%(username)s can now sign in and set up their authenticator app.")
            % {"username": user.get_username()},
        )
        return redirect("staff:user", user_id=user.pk)
    return render(request, "staff/users_new.html", {"form": form, "roles": role_help()})


@requires("users")
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    staff = _staff_of_agency(request, user_id)
    role_form = RoleForm(initial={"role": staff.role})
    password_form = SetPasswordForm(staff.user)
    problem = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        handler = ACTIONS.get(action)
        if handler is None:
            problem = _("Unknown action.")
        else:
            outcome = handler(request, staff)
            if isinstance(outcome, HttpResponse):
                return outcome
            if isinstance(outcome, RoleForm):
                role_form = outcome
            elif isinstance(outcome, SetPasswordForm):
                password_form = outcome
            else:
                problem = outcome
    context = {
        "staff": staff,
        "person": staff.user,
        "reason": reason_label(staff.disabled_reason),
        "mfa": _has_mfa(staff.user),
        "last": last_sign_in(
            staff.user,
            _switched_on(request.agency, [staff.user.pk]).get(staff.user.pk),  # type: ignore[attr-defined]
        ),
        "is_self": staff.user == request.user,
        "role_form": role_form,
        "password_form": password_form,
        "problem": problem,
    }
    with timezone.override(request.agency.timezone):  # type: ignore[attr-defined]
        return render(request, "staff/users_detail.html", context, status=400 if problem else 200)


# Each action returns a redirect when done, or what the page shows again: a form with its
# errors, or a sentence saying why it was refused.
Outcome = HttpResponse | RoleForm | SetPasswordForm | str


def _done(request: HttpRequest, staff: StaffMember, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("staff:user", user_id=staff.user_id)


def _change_role(request: HttpRequest, staff: StaffMember) -> Outcome:
    form = RoleForm(request.POST)
    if not form.is_valid():
        return form
    new_role = form.cleaned_data["role"]
    if staff.user == request.user and new_role != Role.AGENCY_ADMIN:
        return _(
            "You cannot take away your own administrator role. Ask another administrator to do it."
        )
    if new_role == staff.role:
        return _done(request, staff, _("The role did not change."))
    old_role = staff.role
    staff.role = new_role
    staff.save(update_fields=["role"])
    record_request(
        request, "user.role_changed", target=staff.user, detail={"from": old_role, "to": new_role}
    )
    return _done(
        request,
        staff,
        _("%(username)s is now: %(role)s.")
        % {"username": staff.user.get_username(), "role": staff.get_role_display()},
    )


def _disable(request: HttpRequest, staff: StaffMember) -> Outcome:
    if staff.user == request.user:
        return _("You cannot switch off your own account. Ask another administrator.")
    user = staff.user
    if not user.is_active:
        return _done(request, staff, _("The account was already switched off."))
    with transaction.atomic():
        switch_off(user, BY_ADMIN_REASON)
        staff.disabled_reason = BY_ADMIN_REASON
        record_request(request, "user.disabled", target=user)
    return _done(
        request,
        staff,
        _("%(username)s is switched off and signed out.") % {"username": user.get_username()},
    )


def _enable(request: HttpRequest, staff: StaffMember) -> Outcome:
    user = staff.user
    with transaction.atomic():
        user.is_active = True
        # A fresh start for the 90-day rule, or sign-in would switch it straight off again.
        user.last_login = timezone.now()
        user.save(update_fields=["is_active", "last_login"])
        staff.disabled_reason = ""
        staff.save(update_fields=["disabled_reason"])
        cleared = reset_failed_attempts(username=user.get_username())
        record_request(request, "user.enabled", target=user, detail={"failed_attempts": cleared})
    return _done(
        request, staff, _("%(username)s can sign in again.") % {"username": user.get_username()}
    )


def _reset_mfa(request: HttpRequest, staff: StaffMember) -> Outcome:
    user = staff.user
    devices = list(devices_for_user(user, confirmed=None))
    with transaction.atomic():
        for device in devices:
            device.delete()
        record_request(request, "user.mfa_reset", target=user, detail={"devices": len(devices)})
    return _done(
        request,
        staff,
        _("%(username)s will set up their authenticator app again at their next sign-in.")
        % {"username": user.get_username()},
    )


def _set_password(request: HttpRequest, staff: StaffMember) -> Outcome:
    form = SetPasswordForm(staff.user, request.POST)
    if not form.is_valid():
        return form
    form.save()
    if staff.user == request.user:
        update_session_auth_hash(request, staff.user)
    record_request(request, "user.password_set", target=staff.user)
    return _done(
        request,
        staff,
        _("%(username)s has a new password; give it to them in person.")
        % {"username": staff.user.get_username()},
    )


ACTIONS = {
    "role": _change_role,
    "disable": _disable,
    "enable": _enable,
    "reset_mfa": _reset_mfa,
    "password": _set_password,
}

urlpatterns = [
    path("users", user_list, name="users"),
    path("users/new", user_new, name="user-new"),
    path("users/<int:user_id>", user_detail, name="user"),
]
