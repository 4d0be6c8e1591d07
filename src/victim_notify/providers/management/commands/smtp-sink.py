"""victim-notify smtp-sink [--port 2525]: a local mail server that files every email in the
development outbox (/dev/outbox). For the demo; never expose it."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from victim_notify.providers.smtp_sink import start_sink


class Command(BaseCommand):
    help = "Run a local SMTP server that keeps every email in the development outbox."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, **options: Any) -> None:
        controller = start_sink(options["host"], options["port"])
        self.stdout.write(
            f"SMTP sink listening on {options['host']}:{options['port']}", ending="\n"
        )
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        controller.stop()
