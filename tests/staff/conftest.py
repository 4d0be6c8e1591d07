"""Personas for the staff app: a user of each role in each of two agencies, and a browser-less
client signed in as any of them (password and TOTP code, through the real sign-in pages)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.agency_data import agency_data
from victim_notify.accounts.models import Role, StaffMember
from victim_notify.agencies.models import Agency

PASSWORD = "correct horse battery staple"


def make_staff(agency: Agency, role: str, username: str | None = None) -> StaffMember:
    username = username or f"{role}.{agency.slug}"
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return StaffMember.objects.create(user=user, agency=agency, role=role)


def current_code(user: object) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client: Client, staff: StaffMember) -> Client:
    """Through /staff/login and /staff/mfa, as a person would."""
    response = client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    response = client.post("/staff/mfa", {"token": current_code(staff.user)})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def other_agency(db: None) -> Agency:
    from victim_notify.agencies.setup import load_agency

    data = agency_data()
    data["agency"].update(
        slug="other",
        name="Other Police Department",
        short_name="OPD",
        sender_email="notify@other.example",
        reply_to="victims@other.example",
        sms_from="+15205550900",
        public_base_url="https://notify.other.example",
    )
    return load_agency(data)


@pytest.fixture
def staff_of(agency: Agency) -> Callable[[str], StaffMember]:
    """staff_of(Role.SUPERVISOR) → a supervisor of `agency` (made once per test)."""
    made: dict[str, StaffMember] = {}

    def get(role: str) -> StaffMember:
        if role not in made:
            made[role] = make_staff(agency, role)
        return made[role]

    return get


@pytest.fixture
def signed_in(staff_of: Callable[[str], StaffMember]) -> Callable[[str], Client]:
    """signed_in(Role.ADVOCATE) → a test client signed in as that role of `agency`."""

    def get(role: str = Role.AGENCY_ADMIN) -> Client:
        return sign_in(Client(), staff_of(role))

    return get
