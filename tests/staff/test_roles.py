"""Every staff URL against every role: the page opens for the roles the issue names and is
refused (403) for the rest. A URL missing from PAGES fails here, so no page goes unreviewed."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import verified_login
from tests.staff.conftest import make_staff
from tests.staff.urlmap import staff_patterns
from tests.staff.world import objects_of
from victim_notify.accounts.models import Role

pytestmark = pytest.mark.django_db

ADMIN, SUP, ADV, CLERK, ANALYST, AUDITOR = (
    Role.AGENCY_ADMIN,
    Role.SUPERVISOR,
    Role.ADVOCATE,
    Role.CLERK,
    Role.ANALYST,
    Role.AUDITOR,
)
EVERYONE = {ADMIN, SUP, ADV, CLERK, ANALYST, AUDITOR}
AGGREGATES = {ADMIN, SUP, ADV, CLERK, ANALYST}  # counts and charts, no names
PEOPLE = {ADMIN, SUP, ADV, CLERK}  # names, contacts, message text
ACT = {ADMIN, SUP, ADV}  # hold, cancel, correct and resend, do-not-contact
INBOX = {ADMIN, SUP, ADV}
QUARANTINE = {ADMIN, SUP, CLERK}
CONFIGURE = {ADMIN, SUP}
ADMINS = {ADMIN}
EXPERIMENTS = {ADMIN, SUP, ANALYST}
AUDIT = {ADMIN, AUDITOR}

# URL name → the roles that may open it. Written out, not derived from the code under test.
PAGES: dict[str, set[str]] = {
    "home": EVERYONE,
    "login": EVERYONE,
    "mfa": EVERYONE,
    "logout": EVERYONE,
    "password": EVERYONE,
    "no-agency": EVERYONE,
    "dashboard": AGGREGATES,
    "reports": PEOPLE,
    "report": PEOPLE,
    "notification-email": PEOPLE,
    "notification-hold": ACT,
    "notification-release": ACT,
    "notification-cancel": ACT,
    "party-contact": ACT,
    "party-do-not-contact": ACT,
    "compliance": ACT,
    "compliance-told": ACT,
    "replies": INBOX,
    "reply-handle": INBOX,
    "quarantine": QUARANTINE,
    "quarantine-record": QUARANTINE,
    "quarantine-discard": QUARANTINE,
    "config": CONFIGURE,
    "config-agency": CONFIGURE,
    "config-case-updates": CONFIGURE,
    "config-offenses": CONFIGURE,
    "config-offense": CONFIGURE,
    "config-divisions": CONFIGURE,
    "config-division": CONFIGURE,
    "config-sections": CONFIGURE,
    "config-section": CONFIGURE,
    "config-templates": CONFIGURE,
    "config-template": CONFIGURE,
    "config-template-preview": CONFIGURE,
    "config-mappings": CONFIGURE,
    "config-mapping-new": CONFIGURE,
    "config-mapping": CONFIGURE,
    "config-mapping-delete": CONFIGURE,
    "records": ADMINS,
    "report-legal-hold": ADMINS,
    "providers": ADMINS,
    "provider-route": ADMINS,
    "experiments": EXPERIMENTS,
    "experiment": EXPERIMENTS,
    "experiment-export": EXPERIMENTS,
    "experiment-new": CONFIGURE,
    "experiment-edit": CONFIGURE,
    "users": ADMINS,
    "user-new": ADMINS,
    "user": ADMINS,
    "audit": AUDIT,
    "audit-export": AUDIT,
    "audit-verify": AUDIT,
}


def test_every_staff_url_is_in_the_matrix() -> None:
    names = {name.split(":", 1)[1] for _, name, _ in staff_patterns()}
    assert names - PAGES.keys() == set(), "add the new URL names to PAGES with their roles"
    assert PAGES.keys() - names == set(), "PAGES names URLs that no longer exist"


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_each_role_reaches_exactly_its_pages(agency, role) -> None:  # type: ignore[no-untyped-def]
    mine = objects_of(agency, "MINE")
    client = verified_login(Client(), make_staff(agency, role).user)
    wrong = []
    for route, full_name, _ in staff_patterns():
        name = full_name.split(":", 1)[1]
        if name in {"logout", "login", "mfa"}:
            continue  # would end or restart this session; tests/staff/test_sign_in.py
        keys = re.findall(r"<(?:\w+:)?(\w+)>", route)
        url = reverse(full_name, kwargs={k: mine[k] for k in keys})
        status = client.get(url).status_code
        if status == 405:  # an action: POST only
            status = client.post(url).status_code
        allowed = role in PAGES[name]
        if (allowed and status == 403) or (not allowed and status != 403):
            wrong.append(f"{name}: {status} ({'should open' if allowed else 'should be 403'})")
    assert not wrong, f"{role}: " + "; ".join(wrong)
