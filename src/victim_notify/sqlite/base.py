"""Django's SQLite backend, waiting for the write lock the way several busy writers need.

SQLite lets one connection write at a time. Django's backend (with `transaction_mode`
IMMEDIATE) takes the lock at BEGIN and relies on SQLite's busy handler to wait for it, and
that handler sleeps 1, 2, 5, 10 … up to 100 ms between tries: when an import and the sender
write all the time, a waiter keeps sleeping through the short moments the lock is free, and
one of them starves. Here BEGIN is retried every millisecond or so, with jitter, until the
configured timeout, so the lock passes between writers as soon as it is released.
"""

from __future__ import annotations

import random
import sqlite3
import time

from django.db.backends.sqlite3 import base as django_sqlite
from django.db.utils import OperationalError


class DatabaseWrapper(django_sqlite.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5.0))
        deadline = time.monotonic() + timeout
        self.ensure_connection()
        connection = self.connection
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    self.cursor().execute(f"BEGIN {self.transaction_mode or ''}")
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() >= deadline:
                        raise
                time.sleep(0.0005 + random.random() * 0.0015)
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")

    def get_new_connection(self, conn_params: dict) -> sqlite3.Connection:
        connection = super().get_new_connection(conn_params)
        # Django assumes the 999 bound parameters of SQLite before 3.32; the library in use
        # says how many it takes (32766 today), and bulk writes need far fewer statements.
        self.features.max_query_params = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return connection
