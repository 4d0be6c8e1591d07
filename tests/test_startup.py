"""Every process (web app, worker, each command) starts Django; the statistics and charting
libraries take seconds to import, so only the survey report may load them."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import subprocess_env

HEAVY = ("statsmodels", "scipy", "matplotlib", "pandas")


def test_starting_django_does_not_import_the_statistics_libraries():
    code = (
        "import django, sys; django.setup(); "
        "from django.urls import resolve; resolve('/admin/'); "
        "import victim_notify.worker.jobs, victim_notify.replies.inbound; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(DJANGO_SETTINGS_MODULE="victim_notify.settings"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ""
