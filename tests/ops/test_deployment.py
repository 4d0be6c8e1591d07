"""The deployment files in deploy/ are what an operator installs: systemd accepts the units,
the web unit's command serves the app and answers /healthz, the worker unit's command stops
cleanly on the signal systemd sends, and the connection pool works under many threads."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED_AT = "/opt/victim-notify/.venv"
VENV = str(Path(sys.executable).parent.parent)


def unit_setting(unit: Path, key: str) -> str:
    match = re.search(rf"^{key}=(.*)$", unit.read_text(), re.MULTILINE)
    assert match, f"{unit.name} has no {key}"
    return match.group(1)


def command_of(unit: Path) -> list[str]:
    """The unit's ExecStart, pointed at this checkout's virtual environment."""
    return shlex.split(unit_setting(unit, "ExecStart").replace(INSTALLED_AT, VENV))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> tuple[int, dict[str, str]]:
    try:
        # Long enough for a worker still starting on a busy machine.
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the web app exited while starting"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the web app never listened")


def test_there_is_a_unit_for_the_web_app_the_workers_and_the_mailbox():
    assert {u.name for u in UNITS} == {
        "victim-notify-web.service",
        "victim-notify-worker@.service",
        "victim-notify-mailbox.service",
    }


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_accepts_the_unit(unit, tmp_path):
    # Installed as it would be, but with the programs of this checkout (systemd checks that
    # the command exists).
    installed = tmp_path / unit.name
    installed.write_text(unit.read_text().replace(INSTALLED_AT, VENV))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(installed)], capture_output=True, text=True, timeout=60
    )
    # verify exits 0 even for settings it ignores; anything it says is a problem.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def test_systemd_would_refuse_a_broken_unit(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nType=sometimes\nExecStart=/nonexistent/victim-notify worker\n")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert (result.stdout + result.stderr).strip()


@pytest.mark.django_db(transaction=True)
def test_the_web_units_command_serves_the_app_and_answers_healthz(tmp_path):
    unit = ROOT / "deploy/systemd/victim-notify-web.service"
    port = free_port()
    command = [
        f"127.0.0.1:{port}" if part == "127.0.0.1:8000" else part for part in command_of(unit)
    ]
    web = subprocess.Popen(command, env=subprocess_env(VN_DATA_DIR=str(tmp_path)), cwd=tmp_path)
    try:
        wait_for_port(port, web)
        assert get_json(f"http://127.0.0.1:{port}/healthz") == (200, {"status": "ok"})
        web.send_signal(signal.SIGTERM)  # what systemd sends on stop
        assert web.wait(timeout=int(unit_setting(unit, "TimeoutStopSec"))) == 0
    finally:
        if web.poll() is None:
            web.kill()


def test_healthz_says_so_when_the_database_cannot_be_reached(db, tmp_path):
    port = free_port()
    closed = free_port()  # nothing listens there
    url = (
        f"postgres://postgres@127.0.0.1:{closed}/nowhere"
        if connection.vendor == "postgresql"
        else f"sqlite:///{tmp_path}"  # a folder, not a database file
    )
    web = subprocess.Popen(
        [
            f"{VENV}/bin/gunicorn",
            "victim_notify.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
        ],
        env=subprocess_env(DATABASE_URL=url, VN_DATA_DIR=str(tmp_path)),
        cwd=tmp_path,
    )
    try:
        wait_for_port(port, web)
        status, body = get_json(f"http://127.0.0.1:{port}/healthz")
        assert (status, body) == (503, {"status": "database unreachable"})
    finally:
        web.terminate()
        web.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_the_worker_units_command_stops_cleanly_on_sigterm(tmp_path):
    unit = ROOT / "deploy/systemd/victim-notify-worker@.service"
    worker = subprocess.Popen(
        command_of(unit),
        env=subprocess_env(LOG_LEVEL="INFO", VN_DATA_DIR=str(tmp_path)),
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "worker started" in worker.stderr.readline():
                break
        else:
            raise AssertionError("the worker never started")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=int(unit_setting(unit, "TimeoutStopSec"))) == 0
    finally:
        if worker.poll() is None:
            worker.kill()


def test_many_threads_share_a_small_connection_pool(db):
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    code = """
import threading, django
django.setup()
from django.db import connection
def work():
    for _ in range(20):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.005)")
    connection.close()  # gives the connection back to the pool
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
stats = connection.pool.get_stats()
print(connection.pool.max_size, stats.get("requests_num", 0), stats.get("connections_num", 0))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(DB_POOL_SIZE="2", DJANGO_SETTINGS_MODULE="victim_notify.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    max_size, requests, opened = (int(n) for n in result.stdout.split())
    assert max_size == 2
    assert requests >= 8  # every thread borrowed from the pool
    assert opened <= 2  # and no more than two connections were ever opened
