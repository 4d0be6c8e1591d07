"""What the benchmarks share: child processes, CPU accounting, the SMTP server and the Twilio fake
they send to, the simulated reports, and the check that every expected message arrived once."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import smtplib
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This checkout's code, also where the virtualenv's editable install points at another one.
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

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


def bench_env(data_dir: Path) -> dict[str, str]:
    """The environment every process of a run gets (this one too): its own data folder, no
    inherited database, quiet logs, no development outbox."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "VN_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "VN_DEV_OUTBOX": "false",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    os.environ.update(env)
    return env


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


def bare_sends(records: list[dict[str, Any]], fakes: Fakes) -> None:
    """The baseline's sending: the same emails with smtplib and the same texts posted with
    http.client, one at a time, with no bookkeeping."""
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


def worker_env(env: dict[str, str], fakes: Fakes) -> dict[str, str]:
    return env | {
        "SMS_PROVIDERS": "twilio",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": fakes.twilio_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{fakes.smtp_port}",
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
