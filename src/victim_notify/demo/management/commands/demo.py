"""victim-notify demo: a whole installation on this machine, on SQLite.

Migrates, loads the demo agency (slug `demo`), and starts the web app, the worker, a local
SMTP sink and a simulated RMS feed, each its own process, until Ctrl-C. The first time, it
also sets up an experiment with three months of simulated history, so `victim-notify survey
report rollout` has real figures. With --setup-only it stops after that.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from victim_notify.accounts.models import Role, StaffMember
from victim_notify.agencies.config import load_config
from victim_notify.agencies.models import Agency, ApiToken
from victim_notify.agencies.setup import load_agency
from victim_notify.demo.history import simulate_history
from victim_notify.messages.schedule import quiet_hours
from victim_notify.surveys.setup import create_experiment

DEMO_EXPERIMENT = "rollout"
DEMO_DATA = Path(__file__).resolve().parents[2] / "demo_data" / "agency.json"


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) != 0


class Command(BaseCommand):
    help = "Run the demo: web app, worker, local mail sink and a simulated RMS feed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--setup-only", action="store_true", help="Migrate and load the demo agency, then exit."
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Skip the three months of simulated history behind the demo's experiment.",
        )
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--smtp-port", type=int, default=2525)
        parser.add_argument("--rate", type=float, default=0.5, help="Simulated reports per second.")
        parser.add_argument("--backfill", type=int, default=40, help="Reports generated at start.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        agency = load_agency(json.loads(DEMO_DATA.read_text(encoding="utf-8")))
        password = self._staff_user(agency)
        if not options["no_history"]:
            self._experiment(agency)
        if options["setup_only"]:
            self.stdout.write(f"Demo agency '{agency.slug}' ready. Staff login: demo / {password}")
            return

        host, port, smtp_port = "127.0.0.1", options["port"], options["smtp_port"]
        for needed in (port, smtp_port):
            if not _port_free(host, needed):
                raise CommandError(
                    f"port {needed} is in use; choose another with --port / --smtp-port"
                )
        _, token = ApiToken.issue(agency, f"demo feed {timezone.now():%Y-%m-%d %H:%M}")
        env = os.environ | {
            "EMAIL_URL": f"smtp://{host}:{smtp_port}",
            "SMS_PROVIDERS": "outbox",
            "VN_DEV_OUTBOX": "true",
            "VN_PUBLIC_URL": f"http://{host}:{port}",
            # Routine job logs would bury the banner; problems still show.
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
        me = [sys.executable, "-m", "victim_notify.cli"]
        # Stop as cleanly on SIGTERM (kill, a service manager) as on Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        children = [
            subprocess.Popen([*me, "smtp-sink", "--port", str(smtp_port)], env=env),
            subprocess.Popen([*me, "serve", "--bind", f"{host}:{port}"], env=env),
            subprocess.Popen([*me, "worker"], env=env),
        ]
        try:
            self._wait_for(host, port)
            call_command("simulate", agency=agency.slug, reports=options["backfill"], seed=None)
            children.append(
                subprocess.Popen(
                    [
                        *me,
                        "simulate",
                        "--agency",
                        agency.slug,
                        "--follow",
                        "--rate",
                        str(options["rate"]),
                        "--url",
                        f"http://{host}:{port}",
                        "--token",
                        token,
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
            )
            self._banner(agency, host, port, smtp_port, password)
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            raise CommandError("a demo process stopped unexpectedly; see the messages above")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the demo…")
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()

    def _experiment(self, agency: Agency) -> None:
        """The demo's experiment, with three months of simulated history the first time."""
        if agency.experiments.filter(slug=DEMO_EXPERIMENT).exists():
            return
        today = timezone.localdate(timezone=agency.zone)
        experiment = create_experiment(
            agency,
            DEMO_EXPERIMENT,
            "Text and email notices: rollout evaluation",
            today - dt.timedelta(days=95),
            share_notified=80,
        )
        self.stdout.write("Simulating three months of reports and survey answers…")
        answered = simulate_history(
            agency,
            experiment,
            start=today - dt.timedelta(days=94),
            end=today - dt.timedelta(days=8),
            answer_until=today - dt.timedelta(days=11),
        )
        self.stdout.write(f"{answered} people answered the demo survey.")

    def _staff_user(self, agency: Agency) -> str:
        """A fresh password for the demo's staff user on every start, printed once. The user is
        the demo agency's administrator in the staff app and a superuser in the admin; the first
        sign-in sets up an authenticator app from a QR code."""
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        user, _ = get_user_model().objects.get_or_create(username="demo")
        user.is_staff = user.is_superuser = user.is_active = True
        user.last_login = timezone.now()  # a demo left alone for 90 days still opens
        user.set_password(password)
        user.save()
        StaffMember.objects.update_or_create(
            user=user, defaults={"agency": agency, "role": Role.AGENCY_ADMIN, "disabled_reason": ""}
        )
        return password

    def _wait_for(self, host: str, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while _port_free(host, port):
            if time.monotonic() > deadline:
                raise CommandError("the web app did not start")
            time.sleep(0.2)

    def _banner(self, agency: Any, host: str, port: int, smtp_port: int, password: str) -> None:
        config = load_config(agency)
        quiet = quiet_hours(config)
        now_local = timezone.now().astimezone(config.zone)
        lines = [
            "",
            "Victim Notify demo is running.",
            f"  Staff app:           http://{host}:{port}/staff/",
            f"  Development outbox:  http://{host}:{port}/dev/outbox",
            f"  Admin:               http://{host}:{port}/admin/",
            f"  API docs:            http://{host}:{port}/api/v1/docs",
            f"  Staff login:         demo / {password}"
            " (the first sign-in sets up an authenticator app from a QR code)",
            f"  Mail sink (SMTP):    {host}:{smtp_port}",
            f"  Agency:              {agency.name} ({agency.timezone}, now {now_local:%H:%M})",
        ]
        if quiet and quiet.contains(timezone.now()):
            lines.append(
                f"  It is quiet hours there: texts wait until {quiet.end:%H:%M}; emails go now."
            )
        lines += ["A new simulated report arrives every few seconds. Press Ctrl-C to stop.", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
