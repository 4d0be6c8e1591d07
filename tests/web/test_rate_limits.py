"""Rate limits on the public endpoints, through the real middleware and views: 429 with
Retry-After once over, counted per client address in the database, and never in the way of
genuine traffic (signed webhooks, colleagues signing in behind one address)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from twilio.request_validator import RequestValidator

from tests.conftest import TWILIO_TOKEN
from tests.intake.factories import token_for
from tests.staff.conftest import PASSWORD, make_staff, sign_in
from victim_notify.accounts.models import Role
from victim_notify.environment import Limit, env_rate
from victim_notify.providers import rate
from victim_notify.providers.models import RateWindow

pytestmark = pytest.mark.django_db

PUBLIC = "https://vn.example"
WINDOW_START = dt.datetime(2026, 12, 4, 12, 0, 1, tzinfo=dt.UTC)


@pytest.fixture
def limits(settings):
    """Small limits, so a test reaches them in a few requests; and a clock that starts each test
    at the start of a window, so no test straddles two."""
    settings.RATE_LIMITS = dict(settings.RATE_LIMITS)

    def set_limit(scope: str, count: int, seconds: int = 60) -> None:
        settings.RATE_LIMITS[scope] = Limit(count, seconds)

    with time_machine.travel(WINDOW_START, tick=True):
        yield set_limit


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def assert_too_many(response, window: int = 60) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= window


def test_victim_pages_answer_429_with_retry_after_past_the_limit(agency, limits):
    limits("public", 5)
    client = from_address("198.51.100.7")
    for _ in range(5):
        assert client.get("/d/not-a-token").status_code == 404
    assert_too_many(client.get("/d/not-a-token"))
    assert_too_many(client.get("/u/not-a-token"))  # one limit for the victims' pages
    # Another address is not affected.
    assert from_address("198.51.100.8").get("/d/not-a-token").status_code == 404


def test_invalid_links_meet_a_stricter_limit_than_valid_ones(agency, limits):
    limits("public_invalid", 3)
    client = from_address("198.51.100.9")
    for _ in range(3):
        assert client.get("/s/guess").status_code == 404
    assert_too_many(client.get("/s/guess"))


def test_a_client_behind_a_trusted_proxy_is_counted_by_its_own_address(agency, limits, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    limits("public", 2)
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(2):
        proxy.get("/d/x", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert_too_many(proxy.get("/d/x", HTTP_X_FORWARDED_FOR="203.0.113.5"))
    assert proxy.get("/d/x", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 404
    # An untrusted sender cannot pick its own address by sending the header.
    stranger = Client(REMOTE_ADDR="198.51.100.20")
    for forwarded in ("1.1.1.1", "2.2.2.2"):
        stranger.get("/d/x", HTTP_X_FORWARDED_FOR=forwarded)
    assert_too_many(stranger.get("/d/x", HTTP_X_FORWARDED_FOR="3.3.3.3"))


def test_the_counters_hold_no_client_address(agency, limits):
    limits("public", 100)
    from_address("198.51.100.77").get("/d/x")
    keys = list(RateWindow.objects.values_list("provider", flat=True))
    assert keys and not any("198.51.100.77" in key for key in keys)


def test_api_over_its_limit_answers_problem_json(agency, limits):
    limits("api", 3)
    client = from_address("198.51.100.30")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(agency)}"}
    for _ in range(3):
        assert client.get("/api/v1/replies", **headers).status_code == 200
    response = client.get("/api/v1/replies", **headers)
    assert_too_many(response)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 429
    assert response.json()["type"].endswith("too-many-requests")


def test_api_guessing_tokens_is_limited_but_the_agencys_own_token_is_not(agency, limits):
    limits("api_unauthenticated", 3)
    client = from_address("198.51.100.31")
    good = {"HTTP_AUTHORIZATION": f"Bearer {token_for(agency)}"}
    for _ in range(10):
        assert client.get("/api/v1/replies", **good).status_code == 200
    for attempt in range(3):
        bad = {"HTTP_AUTHORIZATION": f"Bearer vn_{attempt}_guess"}
        assert client.get("/api/v1/replies", **bad).status_code == 401
    assert_too_many(client.get("/api/v1/replies", **good))


def _signed_status(client: Client, notification_id: uuid.UUID, *, forged: bool = False):
    path = f"/hooks/twilio/status/{notification_id}"
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE="forged" if forged else signature)


def test_forged_webhooks_are_limited_and_genuine_ones_never(agency, limits, settings):
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.PUBLIC_URL = PUBLIC
    limits("webhook_invalid", 3)
    twilio = from_address("203.0.113.200")
    for _ in range(50):  # a provider's rate, from one address: unknown message, still 204
        assert _signed_status(twilio, uuid.uuid4()).status_code == 204
    attacker = from_address("198.51.100.40")
    for _ in range(3):
        assert _signed_status(attacker, uuid.uuid4(), forged=True).status_code == 403
    assert_too_many(_signed_status(attacker, uuid.uuid4(), forged=True))
    assert_too_many(_signed_status(attacker, uuid.uuid4()))
    assert _signed_status(twilio, uuid.uuid4()).status_code == 204


def test_failed_sign_ins_from_one_address_are_limited_whoever_they_name(agency, limits):
    limits("login_failed", 3, 900)
    client = from_address("198.51.100.50")
    for number in range(3):  # each a different user name: axes' per-name lockout never trips
        response = client.post("/staff/login", {"username": f"nobody{number}", "password": "x"})
        assert response.status_code == 200
    staff = make_staff(agency, Role.AGENCY_ADMIN)
    response = client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    assert_too_many(response, 900)
    assert_too_many(client.post("/admin/login/", {"username": "root", "password": "x"}), 900)
    # Showing the sign-in page is not refused, and another address signs in.
    assert client.get("/staff/login").status_code == 200
    sign_in(from_address("198.51.100.51"), staff)


def test_colleagues_signing_in_behind_one_address_are_not_limited(agency, limits):
    limits("login_failed", 2, 900)
    for number in range(6):
        staff = make_staff(agency, Role.ADVOCATE, username=f"officer{number}")
        sign_in(from_address("198.51.100.60"), staff)


def test_wrong_codes_count_as_failed_sign_ins(agency, limits):
    limits("login_failed", 2, 900)
    staff = make_staff(agency, Role.AGENCY_ADMIN)
    client = from_address("198.51.100.70")
    client.post("/staff/login", {"username": staff.user.username, "password": PASSWORD})
    for _ in range(2):
        assert client.post("/staff/mfa", {"token": "000000"}).status_code == 200
    assert_too_many(client.post("/staff/mfa", {"token": "000000"}), 900)


def test_a_limit_set_off_is_not_counted(agency, limits, settings):
    settings.RATE_LIMITS = dict(settings.RATE_LIMITS, public=None, public_invalid=None)
    client = from_address("198.51.100.80")
    for _ in range(40):
        assert client.get("/d/x").status_code == 404
    assert not RateWindow.objects.exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30/m", Limit(30, 60)), ("20/15m", Limit(20, 900)), ("5/s", Limit(5, 1)), ("off", None)],
)
def test_rate_settings_are_read_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("VN_RATE_TEST", value)
    assert env_rate("VN_RATE_TEST", "1/m") == expected


@pytest.mark.parametrize("value", ["30", "30/minute", "-1/m", "0/m/", "5/2h"])
def test_a_bad_rate_setting_stops_start_up(monkeypatch, value):
    monkeypatch.setenv("VN_RATE_TEST", value)
    with pytest.raises(ImproperlyConfigured):
        env_rate("VN_RATE_TEST", "1/m")


@pytest.mark.django_db(transaction=True)
def test_concurrent_counts_are_never_lost():
    """Four threads with their own database connections, as four worker processes would."""
    from django.db import connection

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(":memory"):
        pytest.skip("needs a shared database")
    now = 1_800_000_000.0

    def count() -> None:
        try:
            for _ in range(25):
                rate.hit("web:test:concurrent", 60, now=now)
        finally:
            connection.close()

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rate.count("web:test:concurrent", 60, now=now)[0] == 100
