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


@pytest.fixture
def nibrs_agency(agency: Agency) -> Agency:
    """The test agency, with the offenses of the FBI's NIBRS sample documents too."""
    from victim_notify.agencies.setup import load_agency

    data = agency_data()
    theft = data["offenses"][0]
    data["offenses"] += [
        theft | {"code": "13A", "title": "Aggravated Assault"},
        theft | {"code": "240", "title": "Motor Vehicle Theft"},
    ]
    return load_agency(data)
