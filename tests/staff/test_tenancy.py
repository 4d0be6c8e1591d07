"""Many agencies, one installation: a member of agency X can reach nothing of agency Y.

The URL list comes from Django's resolver, so a new page is walked here as soon as it exists,
and a new URL outside the staff app fails this file until someone says below why it is safe.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import verified_login
from tests.staff.conftest import make_staff
from tests.staff.urlmap import staff_patterns, walk
from tests.staff.world import objects_of
from victim_notify.accounts.models import Role

pytestmark = pytest.mark.django_db

# URLs outside the staff app, and why none of them can show one agency's records to another.
NOT_STAFF = {
    r"^admin/": "the installation's admin: superusers only (checked below)",
    r"^api/v1/": "the API: each token belongs to one agency and every query is scoped to it "
    "(tests/intake/test_api.py, tests/replies/test_inbox.py)",
    r"^d/<str:token>$": "a victim's details page: an unguessable signed token per message",
    r"^o/<str:token>\.gif$": "an email's open pixel: an unguessable token, shows nothing",
    r"^u/<str:token>$": "one-click unsubscribe: an HMAC token per contact",
    r"^s/<str:key>$": "a survey form: an unguessable key per participant",
    r"^case/": "a victim's case page: the session names one person on one report, opened by a "
    "signed link or a code texted to their phone; a lookup searches only the agency in its "
    "address (tests/cases/test_portal.py)",
    r"^hooks/twilio/": "Twilio webhooks: signed by Twilio, show nothing",
    r"^i18n/": "sets the interface language cookie",
    r"^dev/outbox$": "development only (VN_DEV_OUTBOX), never on in production",
    r"^$": "redirects to the staff app",
    r"^healthz$": "says only whether the database answers",
}
# Staff URLs that name no agency's object.
NO_OBJECT = {
    "staff:home",
    "staff:login",
    "staff:mfa",
    "staff:logout",
    "staff:password",
    "staff:no-agency",
}


def _kwargs(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def test_every_url_outside_the_staff_app_is_accounted_for() -> None:
    unexplained = [
        route
        for route, name, _ in walk()
        if not name.startswith("staff:") and not any(re.search(p, route) for p in NOT_STAFF)
    ]
    assert not unexplained, f"say in NOT_STAFF why these are safe across agencies: {unexplained}"


def test_no_staff_url_of_agency_x_reaches_an_object_of_agency_y(agency, other_agency) -> None:  # type: ignore[no-untyped-def]
    theirs = objects_of(other_agency, "YONLY")
    mine = objects_of(agency, "XMINE")
    me = make_staff(agency, Role.AGENCY_ADMIN)
    client = verified_login(Client(), me.user)
    checked = 0
    for route, name, _ in staff_patterns():
        keys = _kwargs(route)
        missing = [k for k in keys if k not in theirs]
        assert not missing, f"{name}: add {missing} to tests/staff/world.py"
        if not keys:
            assert name in NO_OBJECT or name.split(":")[1] in _LISTS, f"classify {name}"
            continue
        url = reverse(name, kwargs={k: theirs[k] for k in keys})
        own = reverse(name, kwargs={k: mine[k] for k in keys})
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            if method == "get" and status == 405:
                continue
            assert status in (403, 404), f"{method.upper()} {url} ({name}) gave {status}"
        # The same URL with my own objects opens (or answers a bad form), so the 404 above is
        # about the agency, not a broken page.
        assert client.get(own).status_code in (200, 302, 405), f"{name} is broken for own objects"
        checked += 1
    assert checked >= 10


_LISTS = {
    "dashboard",
    "compliance",
    "reports",
    "replies",
    "quarantine",
    "config",
    "config-agency",
    "config-case-updates",
    "config-offenses",
    "config-divisions",
    "config-sections",
    "config-templates",
    "config-mappings",
    "config-mapping-new",
    "records",
    "providers",
    "experiments",
    "experiment-new",
    "users",
    "user-new",
    "audit",
    "audit-export",
    "audit-verify",
}


def test_list_pages_never_show_another_agencys_records(agency, other_agency) -> None:  # type: ignore[no-untyped-def]
    objects_of(other_agency, "YONLY")
    objects_of(agency, "XMINE")
    client = verified_login(Client(), make_staff(agency, Role.AGENCY_ADMIN).user)
    for route, name, _ in staff_patterns():
        if _kwargs(route) or name in NO_OBJECT:
            continue
        for query in ("", "?q=Zed", "?kind=name&q=Zed", "?status=all"):
            response = client.get(reverse(name) + query)
            if response.status_code == 200 and not response.get("Content-Type", "").startswith(
                "image"
            ):
                # Forms that come back to this page carry its address, query included.
                body = re.sub(r'<input[^>]*name="next"[^>]*>', "", response.content.decode())
                assert "YONLY" not in body and "yonly" not in body, f"{name}{query} leaks"


def test_agency_staff_cannot_open_the_installation_admin(agency) -> None:  # type: ignore[no-untyped-def]
    client = verified_login(Client(), make_staff(agency, Role.AGENCY_ADMIN).user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response["Location"]
