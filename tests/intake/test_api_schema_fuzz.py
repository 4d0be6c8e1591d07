"""The API against its own OpenAPI description (served at /api/v1/openapi.json), with
schemathesis generating requests from it: no request makes a server error, and every answer
has a status code, content type and body the description allows. Bounded and derandomized, so a
run takes the same examples each time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.intake.factories import token_for
from victim_notify.wsgi import application

# Not checked: that what the description forbids is refused, and that what it allows is taken.
# By design a batch is answered 200 with one result per record, its bad records kept in
# quarantine for staff to fix, and a report can match the schema yet be refused with 422 for what
# only the agency's data decides (an unknown division or crime code); unknown query parameters
# are ignored. Everything else is: no server error, documented status codes, content types and
# bodies, and a wrong token refused.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {"enabled": False},
            "positive_data_acceptance": {"enabled": False},
        }
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]


@pytest.fixture
def bearer(agency, settings) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    # schemathesis tries wrong tokens on purpose: the limit on those is tested on its own.
    settings.RATE_LIMITS = dict(settings.RATE_LIMITS, api_unauthenticated=None)
    # Requests go straight to the WSGI application, which closes the database connection when
    # each ends (as Django's test client stops it doing): that would close the test's own.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {token_for(agency)}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, bearer):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=bearer)
