"""Switching a staff account off, for each of the reasons an account goes off, in one place."""

from __future__ import annotations

from typing import Any

from victim_notify.accounts.models import StaffMember

LOCKED_REASON = "locked after 5 failed sign-ins"
UNUSED_REASON = "not used for 90 days"
BY_ADMIN_REASON = "switched off by an administrator"


def switch_off(user: Any, reason: str) -> bool:
    """Switches the account off and records why on its staff membership (if it has one).
    False if it was off already."""
    if not user.is_active:
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])
    StaffMember.objects.filter(user=user).update(disabled_reason=reason)
    return True
