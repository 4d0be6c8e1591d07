"""Django's SQLite backend, waiting for the write lock the way several busy writers need.

SQLite lets one connection write at a time, and a statement that finds the lock taken either
waits in SQLite's busy handler or fails. That handler sleeps 1, 2, 5, 10 … up to 100 ms
between tries: when an import and the sender write all the time, a waiter keeps sleeping
through the short moments the lock is free, and starves until its timeout ("database is
locked"). So the busy handler is off, and every attempt to take the lock (a BEGIN, with
`transaction_mode` IMMEDIATE, or a write outside a transaction) is retried every millisecond or
so, with jitter, until the configured timeout: the lock passes between writers as soon as it is
released, and no writer starves another. A statement that failed for the lock did nothing, so
trying it again is safe; inside a transaction the lock is already held and nothing is retried.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.backends.sqlite3 import base as django_sqlite

T = TypeVar("T")


def _until_unlocked(timeout: float, attempt: Callable[[], T]) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.0005 + random.random() * 0.0015)


class _Cursor(django_sqlite.SQLiteCursorWrapper):
    lock_timeout = 20.0

    def execute(self, query: str, params: Any = None) -> Any:
        if self.connection.in_transaction:
            return super().execute(query, params)
        parent = django_sqlite.SQLiteCursorWrapper
        return _until_unlocked(self.lock_timeout, lambda: parent.execute(self, query, params))

    def executemany(self, query: str, param_list: Any) -> Any:
        if self.connection.in_transaction:
            return super().executemany(query, param_list)
        rows = list(param_list)  # tried again from the start if the lock was taken
        parent = django_sqlite.SQLiteCursorWrapper
        return _until_unlocked(self.lock_timeout, lambda: parent.executemany(self, query, rows))


class DatabaseWrapper(django_sqlite.DatabaseWrapper):
    def _lock_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5.0))

    def create_cursor(self, name: str | None = None) -> _Cursor:
        cursor = self.connection.cursor(factory=_Cursor)
        cursor.lock_timeout = self._lock_timeout()
        return cursor

    def _start_transaction_under_autocommit(self) -> None:
        # Django 5.1+ sets transaction_mode in get_connection_params; the stubs lack it.
        self.cursor().execute(f"BEGIN {self.transaction_mode or ''}")  # type: ignore[attr-defined]

    def get_new_connection(self, conn_params: dict) -> sqlite3.Connection:
        connection = super().get_new_connection(conn_params)
        connection.execute("PRAGMA busy_timeout = 0")  # waiting is done above, fairly
        # Django assumes the 999 bound parameters of SQLite before 3.32; the library in use
        # says how many it takes (32766 today), and bulk writes need far fewer statements.
        # A plain class attribute in Django 5.2; the stubs declare a read-only property.
        self.features.max_query_params = connection.getlimit(  # type: ignore[misc]
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
        )
        return connection
