"""The worker says at start-up when the PostgreSQL server does not vacuum by itself."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from victim_notify.worker.runner import warn_if_autovacuum_is_off

pytestmark = pytest.mark.django_db


def test_the_worker_warns_exactly_when_autovacuum_is_off(caplog):
    caplog.set_level(logging.WARNING, logger="victim_notify.worker.runner")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            off = cursor.fetchone()[0] != "on"
    else:
        off = False  # SQLite has no autovacuum to be off
    assert warn_if_autovacuum_is_off() is off
    assert ("autovacuum is off" in caplog.text) is off
