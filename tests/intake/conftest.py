"""Fixtures for the intake tests: a second agency and an API token."""

from __future__ import annotations

import pytest

from tests.agency_data import agency_data
from tests.intake.factories import token_for
from victim_notify.agencies.models import Agency


@pytest.fixture
def other_agency(db: None) -> Agency:
    from victim_notify.agencies.setup import load_agency

    return load_agency(
        agency_data(
            slug="otherville", name="Otherville Police Department", short_name="Otherville Police"
        )
    )


@pytest.fixture
def token(agency: Agency) -> str:
    return token_for(agency)
