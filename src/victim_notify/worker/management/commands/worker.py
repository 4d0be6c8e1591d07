"""victim-notify worker [--until-idle]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from victim_notify.worker.runner import Worker


class Command(BaseCommand):
    help = "Send due messages and run background jobs until stopped (SIGTERM or Ctrl-C)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--until-idle", action="store_true", help="Process everything due now, then exit."
        )
        parser.add_argument(
            "--worker-id", help="A name for this worker in the records (default: host:pid)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker(options.get("worker_id"))
        if options["until_idle"]:
            self.stdout.write(json.dumps(worker.run_until_idle()))
        else:
            worker.run_forever()
            if worker.failed:
                # Exit non-zero, so a supervisor set to restart on failure does restart it.
                raise CommandError("a worker thread stopped on an error; see the log above")
