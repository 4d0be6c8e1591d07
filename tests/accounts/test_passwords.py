"""Passwords: argon2, long, not common, not built around the words attackers try first."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from victim_notify.accounts.models import Role, StaffMember

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "password", ["Police2026!!", "P0lice!!2026", "victimnotify12", "password1234", "Testville2026!"]
)
def test_passwords_built_around_banned_words_are_refused(agency, password) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("casey")
    StaffMember.objects.create(user=user, agency=agency, role=Role.CLERK)
    with pytest.raises(ValidationError):
        validate_password(password, user)


@pytest.mark.parametrize("password", ["short1!", "123456789012", "qwertyuiop123"])
def test_short_numeric_and_common_passwords_are_refused(password) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_passphrase_passes_even_with_a_banned_word_inside(agency) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("casey")
    StaffMember.objects.create(user=user, agency=agency, role=Role.CLERK)
    validate_password("copper kettle under the police bridge", user)
    validate_password("maple harbor seventeen lanterns", user)


def test_the_staff_user_command_adds_an_agency_administrator_who_can_sign_in(agency) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command
    from django.test import Client

    from victim_notify.accounts.models import AuditEvent

    out = StringIO()
    call_command(
        "staff-user",
        "add",
        "pat.admin",
        "--agency",
        agency.slug,
        "--role",
        "agency_admin",
        stdout=out,
    )
    password = out.getvalue().split("One-time password: ")[1].split()[0]
    response = Client().post("/staff/login", {"username": "pat.admin", "password": password})
    assert response["Location"] == "/staff/mfa"
    assert StaffMember.objects.get(user__username="pat.admin").role == Role.AGENCY_ADMIN
    assert AuditEvent.objects.filter(action="user.created", actor_label="command").exists()
