"""Sign-ins that fail and accounts that get locked go into the audit trail; a locked account
stays switched off until an agency administrator switches it back on."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from victim_notify.accounts.audit import client_address, record
from victim_notify.accounts.switching import LOCKED_REASON, switch_off


@receiver(user_login_failed)
def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    username = str(credentials.get("username", ""))[:100]
    user = get_user_model().objects.filter(username=username).select_related("staff").first()
    staff = getattr(user, "staff", None) if user else None
    record(
        "login.failed",
        actor_label=username or "anonymous",
        agency=staff.agency if staff else None,
        target=user,
        remote_addr=client_address(request) if request is not None else None,
    )


@receiver(user_logged_in)
def logged_in(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    """The admin's sign-in form takes the password and the TOTP code together, so a sign-in
    there is complete. (The staff app records its own, after the code: staff/login.py.)"""
    if request is None or not request.path.startswith("/admin/"):
        return
    record(
        "login.succeeded",
        actor_label=user.get_username(),
        actor=user,
        target=user,
        detail={"site": "admin"},
        remote_addr=client_address(request),
    )


@receiver(user_locked_out)
def locked_out(sender: Any, request: Any = None, username: str | None = None, **_: Any) -> None:
    user = get_user_model().objects.filter(username=username or "").first()
    staff = getattr(user, "staff", None) if user else None
    if user is not None:
        switch_off(user, LOCKED_REASON)
    record(
        "login.locked_out",
        actor_label=(username or "anonymous")[:100],
        agency=staff.agency if staff else None,
        target=user,
        remote_addr=client_address(request) if request is not None else None,
    )
