"""Staff accounts nobody has signed in to for 90 days are switched off: an idle account is one
an attacker can use without its owner noticing (CJIS asks for this). Sign-in refuses such an
account too; the daily job catches those nobody tries."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from victim_notify.accounts.audit import record
from victim_notify.accounts.models import StaffMember
from victim_notify.accounts.switching import UNUSED_REASON, switch_off

UNUSED_ACCOUNT_DAYS = 90


def disable_unused_accounts(now: dt.datetime | None = None) -> int:
    """Switches off every active staff account last signed in to (or, never signed in to,
    created) more than UNUSED_ACCOUNT_DAYS ago; returns how many."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=UNUSED_ACCOUNT_DAYS)
    stale = (
        StaffMember.objects.filter(user__is_active=True)
        .filter(
            Q(user__last_login__lt=cutoff)
            | Q(user__last_login__isnull=True, user__date_joined__lt=cutoff)
        )
        .select_related("user", "agency")
    )
    count = 0
    for staff in stale:
        with transaction.atomic():
            switch_off(staff.user, UNUSED_REASON)
            record(
                "user.disabled_unused",
                actor_label="system",
                agency=staff.agency,
                target=staff.user,
                detail={"days": UNUSED_ACCOUNT_DAYS},
            )
        count += 1
    return count
