"""What every push route (reports, case events, calls) answers to a body it cannot take:
the same problem documents, so an RMS integrator handles them once."""

from __future__ import annotations

import json

import pytest

from tests.intake.factories import token_for
from victim_notify.cases.models import CaseEvent
from victim_notify.intake.models import Report

pytestmark = pytest.mark.django_db
ROUTES = ["/api/v1/reports", "/api/v1/events", "/api/v1/calls"]


def post(client, agency, url: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        url,
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(agency)}"},
    )


@pytest.mark.parametrize("url", ROUTES)
@pytest.mark.parametrize(
    ("data", "status", "kind"),
    [
        (b"{not json", 400, "not-json"),
        (b"[" * 100_000, 400, "not-json"),  # nested past what the parser allows
        (b'"a string"', 400, "wrong-body"),
        (b"[]", 422, "empty-batch"),
    ],
)
def test_a_body_that_is_not_a_batch_is_a_problem(client, agency, url, data, status, kind):
    answer = post(client, agency, url, data)
    assert answer.status_code == status
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["type"].endswith(f"/problems/{kind}")


@pytest.mark.parametrize("url", ROUTES)
def test_a_batch_over_the_limit_is_413_and_takes_nothing(client, agency, settings, url):
    settings.INTAKE_BATCH_LIMIT = 3
    answer = post(client, agency, url, json.dumps([{}] * 4).encode())
    assert answer.status_code == 413
    assert answer.json()["detail"].endswith("per request; got 4.")
    assert not Report.objects.exists() and not CaseEvent.objects.exists()


@pytest.mark.parametrize("url", ROUTES)
def test_a_body_over_the_upload_limit_is_413(client, agency, settings, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    answer = post(client, agency, url, json.dumps([{"x": "y" * 2000}]).encode())
    assert answer.status_code == 413
    assert answer.json()["type"].endswith("/problems/body-too-large")
