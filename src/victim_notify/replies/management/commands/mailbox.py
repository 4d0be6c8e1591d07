"""victim-notify mailbox [--host 127.0.0.1] [--port 2526]: receive replies and bounces over
SMTP. Point the agency's MX or relay at it for the reply-to addresses and the bounce address
(VN_BOUNCE_ADDRESS); it refuses mail for any other address. It has no TLS or authentication
of its own: keep it on a private address that only the relay can reach."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from victim_notify.replies.mailbox import start_mailbox


class Command(BaseCommand):
    help = "Receive email replies and bounces (DSNs) over SMTP from the agency's mail relay."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2526)

    def handle(self, *args: Any, **options: Any) -> None:
        controller = start_mailbox(options["host"], options["port"])
        self.stdout.write(f"Mailbox listening on {options['host']}:{options['port']}")
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        controller.stop()
