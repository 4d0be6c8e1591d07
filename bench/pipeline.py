"""bench/pipeline.py: a month of the case-study city through the whole pipeline, on SQLite.

Burst: 27,000 reports (14.5% of messages by email) through intake, rules, rendering and
hand-off, with the real worker, a real SMTP server (aiosmtpd) and the local fake of Twilio's
Messages API reached through the official SDK. The clock is outside quiet hours and the
post-approval delay is 0. A bare baseline runs in the same invocation on the same data: it only
inserts the same rows, sends the same emails with smtplib and posts the same texts to the same
fake with plain http.client, one at a time.

Steady: reports pushed to the HTTP API at 20 per second for a minute; latency from the API
accepting a report to the provider accepting its message.

Exits non-zero unless the SMTP server and the fake received exactly the expected set of
distinct messages, each carrying its report number.

    .venv/bin/python bench/pipeline.py [--reports 27000] [--steady-seconds 60] [--skip-steady]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import smtplib
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SID = "AC" + "0" * 30 + "7"
TOKEN = "bench-token"
NUMBER = re.compile(r"B\d{2}-\d{7}")
PY = sys.executable


def log(line: str) -> None:
    print(line, flush=True)


class Process:
    """A child process whose first output line says where it listens."""

    def __init__(self, args: list[str], env: dict[str, str], wait_for: str | None = None) -> None:
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.first_line = ""
        if wait_for:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = self.proc.stdout.readline() if self.proc.stdout else ""
                if wait_for in line:
                    self.first_line = line.strip()
                    break
            else:
                raise RuntimeError(f"{args} did not start")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for _ in self.proc.stdout or []:
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def cpu_seconds(pid: int) -> float:
    """User and system CPU a live process has used, all its threads included (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the fakes --------------------------------------------------------------------------------


class Fakes:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.twilio_port, self.smtp_port = free_port(), free_port()
        self.smtp_log = tmp / "smtp.jsonl"
        self._email_offset = self._email_lines = 0
        self.twilio = Process(
            [
                PY,
                "-m",
                "tests.fakes.twilio_api",
                "--port",
                str(self.twilio_port),
                "--account-sid",
                SID,
                "--auth-token",
                TOKEN,
            ],
            env,
            wait_for="listening on",
        )
        self.smtp = Process(
            [
                PY,
                "-m",
                "tests.fakes.smtp_server",
                "--port",
                str(self.smtp_port),
                "--log",
                str(self.smtp_log),
            ],
            env,
            wait_for="listening on",
        )

    @property
    def twilio_url(self) -> str:
        return f"http://127.0.0.1:{self.twilio_port}"

    def reset(self) -> None:
        self._twilio("POST", "/__control", {"reset": True})
        self.smtp_log.write_text("")
        self._email_offset = self._email_lines = 0

    def _twilio(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.twilio_url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def texts(self) -> list[dict[str, Any]]:
        return self._twilio("GET", "/__received")

    def text_count(self) -> int:
        return self._twilio("GET", "/__count")["messages"]

    def email_count(self) -> int:
        """Lines in the SMTP log, read incrementally so polling stays cheap."""
        with self.smtp_log.open("rb") as log_file:
            log_file.seek(self._email_offset)
            chunk = log_file.read()
        self._email_offset += chunk.rfind(b"\n") + 1
        self._email_lines += chunk.count(b"\n")
        return self._email_lines

    def emails(self) -> list[dict[str, Any]]:
        lines = self.smtp_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def stop(self) -> None:
        self.twilio.stop()
        self.smtp.stop()


def check_received(fakes: Fakes, expected: dict[str, str]) -> tuple[bool, str]:
    """Exactly one message per expected report number, on the expected channel."""
    seen: dict[str, list[str]] = {}
    for text in fakes.texts():
        for number in NUMBER.findall(text["body"])[:1]:
            seen.setdefault(number, []).append("sms")
    for email in fakes.emails():
        for number in NUMBER.findall(email["subject"])[:1]:
            seen.setdefault(number, []).append("email")
    missing = [n for n in expected if n not in seen]
    extra = [n for n in seen if n not in expected]
    duplicated = [n for n, channels in seen.items() if len(channels) > 1]
    wrong = [n for n, channels in seen.items() if n in expected and channels != [expected[n]]]
    ok = not (missing or extra or duplicated or wrong)
    if missing:
        by_channel = {c: sum(1 for n in missing if expected[n] == c) for c in ("sms", "email")}
        log(f"  missing by channel: {by_channel}; e.g. {missing[:3]}")
    return ok, (
        f"missing {len(missing)}, extra {len(extra)}, duplicated {len(duplicated)}, "
        f"wrong channel {len(wrong)}"
    )


def wait_for_all(fakes: Fakes, count: int, timeout: float, started: float | None = None) -> float:
    deadline = time.monotonic() + timeout
    shown = time.monotonic()
    while time.monotonic() < deadline:
        received = fakes.text_count() + fakes.email_count()
        if received >= count:
            return time.monotonic()
        if (
            started is not None
            and os.environ.get("BENCH_PROGRESS")
            and time.monotonic() - shown >= 2
        ):
            shown = time.monotonic()
            log(f"  {shown - started:5.1f} s: {received} received")
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for the providers to receive every message")


# -- the data -----------------------------------------------------------------------------------


def setup_database(env: dict[str, str]) -> None:
    subprocess.run(
        [PY, "-m", "victim_notify.cli", "demo", "--setup-only", "--no-history"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # Quiet hours set to a window that excludes the whole run; no post-approval delay.
    script = (
        "import datetime as dt, django; django.setup();"
        "from django.utils import timezone;"
        "from victim_notify.agencies.models import Agency;"
        "a = Agency.objects.get(slug='demo');"
        "now = timezone.now().astimezone(a.zone);"
        "minute = lambda h: (now + dt.timedelta(hours=h)).time().replace(second=0, microsecond=0);"
        "a.quiet_hours_start = minute(6);"
        "a.quiet_hours_end = minute(7);"
        "a.post_approval_delay_minutes = 0; a.save()"
    )
    subprocess.run(
        [PY, "-c", script],
        env=env | {"DJANGO_SETTINGS_MODULE": "victim_notify.settings"},
        cwd=ROOT,
        check=True,
    )


def make_reports(count: int, seed: int, prefix: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    from victim_notify.demo.simulator import Simulator

    simulator = Simulator.from_demo_data(seed=seed, number_prefix=prefix)
    records = [simulator.clean() for _ in range(count)]
    expected = {
        r["report_number"]: ("email" if r["parties"][0].get("email") else "sms") for r in records
    }
    return records, expected


# -- the bare baseline --------------------------------------------------------------------------


def baseline(records: list[dict[str, Any]], fakes: Fakes, tmp: Path) -> float:
    """Insert the same rows, send the same emails with smtplib and post the same texts with
    http.client, one at a time: the floor the pipeline is measured against."""
    started = time.monotonic()
    db = sqlite3.connect(tmp / "baseline.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE report (number TEXT PRIMARY KEY, body TEXT)")
    for start in range(0, len(records), 250):
        with db:
            db.executemany(
                "INSERT INTO report VALUES (?, ?)",
                [(r["report_number"], json.dumps(r)) for r in records[start : start + 250]],
            )
    db.close()

    smtp = smtplib.SMTP("127.0.0.1", fakes.smtp_port)
    twilio = http.client.HTTPConnection("127.0.0.1", fakes.twilio_port)
    auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    path = f"/2010-04-01/Accounts/{SID}/Messages.json"
    for record in records:
        party = record["parties"][0]
        text = f"Saguaro City Police: report {record['report_number']}. Reply STOP to opt out."
        if party.get("email"):
            email = EmailMessage()
            email["From"], email["To"] = "notify@saguarocity.example", party["email"]
            email["Subject"] = f"Your police report {record['report_number']}"
            email.set_content(text)
            smtp.send_message(email)
        else:
            body = urllib.parse.urlencode(
                {"To": party["phone"], "From": "+15205550100", "Body": text}
            )
            twilio.request(
                "POST",
                path,
                body,
                {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"},
            )
            twilio.getresponse().read()
    smtp.quit()
    twilio.close()
    return time.monotonic() - started


# -- the pipeline -------------------------------------------------------------------------------


def worker_env(env: dict[str, str], fakes: Fakes) -> dict[str, str]:
    return env | {
        "SMS_PROVIDERS": "twilio",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": fakes.twilio_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{fakes.smtp_port}",
    }


def burst(
    records: list[dict[str, Any]], fakes: Fakes, env: dict[str, str], tmp: Path
) -> tuple[float, dict[str, float]]:
    path = tmp / "burst.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    worker = Process([PY, "-m", "victim_notify.cli", "worker"], worker_env(env, fakes))
    fake_pids = {"twilio fake": fakes.twilio.proc.pid, "smtp server": fakes.smtp.proc.pid}
    cpu = {name: -cpu_seconds(pid) for name, pid in fake_pids.items()}
    try:
        started = time.monotonic()
        ingest = subprocess.Popen(
            [PY, "-m", "victim_notify.cli", "ingest", str(path), "--agency", "demo"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        while ingest.poll() is None:
            cpu["intake"] = cpu_seconds(ingest.pid) or cpu.get("intake", 0.0)
            time.sleep(0.1)
            if os.environ.get("BENCH_PROGRESS"):
                received = fakes.text_count() + fakes.email_count()
                log(f"  {time.monotonic() - started:5.1f} s: intake running, {received} received")
                time.sleep(1.9)
        if ingest.returncode:
            raise RuntimeError("ingest failed")
        log(f"burst: intake finished after {time.monotonic() - started:.1f} s")
        finished = wait_for_all(fakes, len(records), timeout=600, started=started)
        cpu["worker"] = cpu_seconds(worker.proc.pid)
        for name, pid in fake_pids.items():
            cpu[name] += cpu_seconds(pid)
        return finished - started, cpu
    finally:
        worker.stop()


def steady(
    simulator_records: list[dict[str, Any]],
    fakes: Fakes,
    env: dict[str, str],
    rate: float,
    seconds: float,
) -> list[float]:
    port = free_port()
    token = subprocess.run(
        [PY, "-m", "victim_notify.cli", "api-token", "create", "--agency", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    web = Process([PY, "-m", "victim_notify.cli", "serve", "--bind", f"127.0.0.1:{port}"], env)
    worker = Process([PY, "-m", "victim_notify.cli", "worker"], worker_env(env, fakes))
    accepted: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        count = int(rate * seconds)
        start = time.monotonic()
        for index, record in enumerate(simulator_records[:count]):
            time.sleep(max(0.0, start + index / rate - time.monotonic()))
            connection.request("POST", "/api/v1/reports", json.dumps(record), headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"API answered {response.status}")
            accepted[record["report_number"]] = time.time()
        wait_for_all(fakes, count, timeout=120)
    finally:
        worker.stop()
        web.stop()
    delivered: dict[str, float] = {}
    for text in fakes.texts():
        for number in NUMBER.findall(text["body"])[:1]:
            delivered[number] = text["created_at"]
    for email in fakes.emails():
        for number in NUMBER.findall(email["subject"])[:1]:
            delivered[number] = email["at"]
    return [delivered[n] - accepted[n] for n in accepted]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=27000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--steady-rate", type=float, default=20.0)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--skip-steady", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vn-bench-") as name:
        tmp = Path(name)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
            "VN_DATA_DIR": str(tmp),
            "LOG_LEVEL": "WARNING",
            "VN_DEV_OUTBOX": "false",
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)
        setup_database(env)
        records, expected = make_reports(args.reports, args.seed, "B26-")
        emails = sum(1 for channel in expected.values() if channel == "email")
        log(
            f"data: {len(records)} reports, {emails} emails ({emails / len(records):.1%}), "
            f"{len(records) - emails} texts"
        )
        fakes = Fakes(env, tmp)
        failed = False
        try:
            base_seconds = baseline(records, fakes, tmp)
            log(
                f"baseline: {len(records)} reports in {base_seconds:.1f} s "
                f"({len(records) / base_seconds:.0f}/s)"
            )
            fakes.reset()

            seconds, cpu = burst(records, fakes, env, tmp)
            busy = sum(cpu.values())
            log(
                "burst: CPU "
                + ", ".join(f"{name} {value:.1f} s" for name, value in cpu.items())
                + f"; {busy:.1f} s in all, {busy / seconds:.2f} cores busy, "
                f"{len(records) / busy:.0f} reports per busy core-second"
            )
            ok, detail = check_received(fakes, expected)
            log(f"burst: received check {'passed' if ok else 'FAILED'}: {detail}")
            failed |= not ok
            burst_line = (
                f"burst: {len(records)} reports in {seconds:.1f} s "
                f"({len(records) / seconds:.0f}/s), "
                f"{seconds / base_seconds:.2f}x the bare baseline's time"
            )
            log(burst_line)

            if not args.skip_steady:
                fakes.reset()
                steady_records, steady_expected = make_reports(
                    int(args.steady_rate * args.steady_seconds), args.seed + 1, "B27-"
                )
                latencies = steady(
                    steady_records, fakes, env, args.steady_rate, args.steady_seconds
                )
                ok, detail = check_received(fakes, steady_expected)
                log(f"steady: received check {'passed' if ok else 'FAILED'}: {detail}")
                failed |= not ok
                log(
                    f"steady: {len(latencies)} reports at {args.steady_rate:.0f}/s, "
                    f"API accepted to provider accepted: p50 {statistics.median(latencies):.3f} s, "
                    f"p99 {percentile(latencies, 0.99):.3f} s, max {max(latencies):.3f} s"
                )
            log(
                f"pipeline: {burst_line.removeprefix('burst: ')}"
                + ("" if args.skip_steady else f"; steady p99 {percentile(latencies, 0.99):.2f} s")
            )
        finally:
            fakes.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
