"""Signing in to the staff app: password, then a TOTP code; lockout; unused accounts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.staff.conftest import PASSWORD, current_code, make_staff, sign_in
from victim_notify.accounts.models import AuditEvent, Role, StaffMember

pytestmark = pytest.mark.django_db


def test_password_alone_does_not_open_any_staff_page(agency) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff(agency, Role.SUPERVISOR)
    client = Client()
    response = client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    assert response["Location"] == "/staff/mfa"
    assert client.get("/staff/dashboard")["Location"] == "/staff/mfa"


def test_code_from_the_app_signs_in_and_lands_on_the_roles_page(agency) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(Client(), make_staff(agency, Role.ADVOCATE))
    response = client.get("/staff/")
    assert response["Location"] == "/staff/replies"
    assert AuditEvent.objects.filter(action="login.succeeded").count() == 1


def test_wrong_code_is_refused_and_recorded(agency) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff(agency, Role.SUPERVISOR)
    client = Client()
    client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    wrong = f"{(int(current_code(staff.user)) + 1) % 1_000_000:06d}"
    response = client.post("/staff/mfa", {"token": wrong})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert client.get("/staff/dashboard")["Location"] == "/staff/mfa"
    assert AuditEvent.objects.filter(action="login.mfa_failed").count() == 1


def test_first_sign_in_sets_up_the_app_from_a_qr_code(agency) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username="new.person", password=PASSWORD)
    StaffMember.objects.create(user=user, agency=agency, role=Role.CLERK)
    client = Client()
    client.post("/staff/login", {"username": "new.person", "password": PASSWORD})
    page = client.get("/staff/mfa").content.decode()
    assert "<svg" in page and "Set up your authenticator app" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    response = client.post("/staff/mfa", {"token": f"{code:06d}"})
    assert response["Location"] == "/staff/quarantine"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="mfa.enrolled", object_id=str(user.pk)).exists()


def test_five_wrong_passwords_switch_the_account_off_until_an_admin_acts(agency) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff(agency, Role.SUPERVISOR)
    client = Client()
    for _ in range(5):
        client.post("/staff/login", {"username": staff.user.username, "password": "wrong guess"})
    staff.user.refresh_from_db()
    staff.refresh_from_db()
    assert not staff.user.is_active
    assert "locked" in staff.disabled_reason
    response = client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("login.failed") >= 5
    assert "login.locked_out" in actions


def test_account_unused_for_90_days_is_switched_off_at_sign_in(agency) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff(agency, Role.ANALYST)
    staff.user.last_login = timezone.now() - dt.timedelta(days=91)
    staff.user.save()
    response = Client().post(
        "/staff/login", {"username": staff.user.username, "password": PASSWORD}
    )
    assert "not used for 90 days" in response.content.decode()
    staff.user.refresh_from_db()
    assert not staff.user.is_active


def test_pages_carry_a_content_security_policy_without_inline_scripts(agency) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/staff/login")
    policy = response["Content-Security-Policy"]
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    assert "<script>" not in response.content.decode()
    assert response["X-Frame-Options"] in ("DENY", "SAMEORIGIN")


def test_passwords_are_stored_with_argon2(agency) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff(agency, Role.AUDITOR)
    assert staff.user.password.startswith("argon2")


def test_a_session_left_alone_for_30_minutes_locks(agency) -> None:  # type: ignore[no-untyped-def]
    import time_machine

    client = sign_in(Client(), make_staff(agency, Role.SUPERVISOR))
    assert client.get("/staff/dashboard").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=29)):
        assert client.get("/staff/dashboard").status_code == 200  # use restarts the clock
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=29 + 31)):
        response = client.get("/staff/dashboard")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login")


def test_a_form_posted_without_its_csrf_token_is_refused(agency) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff(agency, Role.SUPERVISOR)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_an_admin_sign_in_needs_the_code_too_and_is_recorded(agency) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    refused = client.post(
        "/admin/login/", {"username": "root", "password": PASSWORD, "otp_token": "000000"}
    )
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes the next try wait after a wrong code
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    client.post(
        "/admin/login/",
        {
            "username": "root",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": f"{code:06d}",
        },
    )
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="login.succeeded", actor_label="root").exists()


def test_a_page_outside_the_role_explains_itself_and_offers_the_ones_it_can_open(agency) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(Client(), make_staff(agency, Role.CLERK))
    response = client.get("/staff/config")
    page = response.content.decode()
    assert response.status_code == 403
    assert "not open to your role" in page and 'href="/staff/quarantine"' in page


def test_the_password_step_alone_is_not_a_sign_in(agency) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff(agency, Role.SUPERVISOR)
    assert staff.user.last_login is None
    client = Client()
    client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    staff.user.refresh_from_db()
    assert staff.user.last_login is None  # the 90-day clock is not reset by a password alone
    client.post("/staff/mfa", {"token": current_code(staff.user)})
    staff.user.refresh_from_db()
    assert staff.user.last_login is not None
