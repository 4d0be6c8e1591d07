"""Signing in to the staff app in a real browser, as a person does: password, then the code
their authenticator app shows."""

from __future__ import annotations

from typing import Any

from tests.staff.conftest import PASSWORD, current_code
from victim_notify.accounts.models import StaffMember


def sign_in(page: Any, base_url: str, staff: StaffMember) -> None:
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Username").fill(staff.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base_url}/staff/mfa")
    page.get_by_label("Six-digit code").fill(current_code(staff.user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
