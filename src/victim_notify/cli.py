"""The `victim-notify` command: every Django management command, under one name."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "victim_notify.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["victim-notify", *sys.argv[1:]])


if __name__ == "__main__":
    main()
