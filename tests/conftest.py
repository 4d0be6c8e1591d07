"""Fixtures shared by the whole suite. Factories used by one area live next to its tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from tests.agency_data import agency_data
from victim_notify.agencies import config as agency_config
from victim_notify.providers import health, registry

_numbers = itertools.count(1)

# No per-example deadline: on a loaded 2-core machine one slow example is not a failure.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")


def make_record(**overrides: Any) -> dict[str, Any]:
    """A valid report record: one adult victim with a phone, theft from a vehicle, approved,
    in the West division (live). Override any top-level key; `victim` updates the victim."""
    victim = {
        "party_id": "1",
        "role": "victim",
        "first_name": "Ana",
        "last_name": "Ruiz",
        "phone": "(520) 555-0134",
        "date_of_birth": "1980-05-17",
    }
    victim.update(overrides.pop("victim", {}))
    record: dict[str, Any] = {
        "report_number": f"T-{next(_numbers):06d}",
        "status": "approved",
        "reported_at": "2026-12-01T10:15:00",
        "occurred_at": "2026-12-01T09:40:00",
        "officer": {"name": "Dana Whitfield", "badge": "4471"},
        "division": "W",
        "offenses": ["23F"],
        "parties": [victim],
    }
    record.update(overrides)
    return record


@pytest.fixture
def agency(db: None):  # type: ignore[no-untyped-def]
    from victim_notify.agencies.setup import load_agency

    return load_agency(agency_data())


@pytest.fixture(autouse=True)
def _fresh_providers_and_config() -> Iterator[None]:
    yield
    registry.reset()
    agency_config._cache.clear()
    health.forget_cache()


TWILIO_SID = "AC" + "0" * 30 + "1"
TWILIO_TOKEN = "test-auth-token-not-secret"


def database_url() -> str:
    """The URL of the database this test runs on, for a subprocess (a worker) to use."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    import os

    return os.environ | {"DATABASE_URL": database_url(), "LOG_LEVEL": "WARNING"} | extra


def verified_login(client: Any, user: Any) -> Any:
    """Signs `user` in on a test client with the second factor already given (a TOTP device is
    made for them), as the admin and the staff app require."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def admin_client(db: None, admin_user: Any) -> Any:
    """pytest-django's admin_client, with the TOTP step the admin site asks for done."""
    from django.test import Client

    return verified_login(Client(), admin_user)
