"""The benchmarks keep working: each runs end to end on a small burst and passes its own
check that every expected message reached the SMTP server or the Twilio fake exactly once.
Their figures mean nothing at this size and are not read; `bench/` is where speed is measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run_bench(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_pipeline_benchmark_runs_and_checks_what_arrived():
    out = run_bench("bench/pipeline.py", "--reports", "150", "--skip-steady")
    assert "burst: received check passed: missing 0, extra 0, duplicated 0" in out
    assert out.strip().splitlines()[-1].startswith("pipeline: 150 reports in ")


def test_the_scale_benchmark_runs_on_postgresql_and_checks_what_arrived(db):
    if connection.vendor != "postgresql":
        pytest.skip("the scale benchmark is PostgreSQL's")
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    server = f"postgres://{db['USER']}@{host}:{port}/postgres"
    out = run_bench(
        "bench/scale.py",
        "--reports", "150",
        "--workers", "1", "2",
        "--check-workers", "3",
        "--check-reports", "60",
        "--per-file", "25",  # several files, so workers share the intake
        "--postgres", server,
    )  # fmt: skip
    assert out.count("received check passed: missing 0, extra 0, duplicated 0") == 3
    assert out.strip().splitlines()[-1].startswith("scale: 150 reports on PostgreSQL, 1 worker")
