"""Many rows in one PostgreSQL statement, one array parameter per column.

`UPDATE … FROM UNNEST(%s::bigint[], …)` is planned once whatever the number of rows, and
sent with the arrays as binary parameters beside the statement (inserts use COPY:
`intake/prepared.py`). Django's own cursors bind on the client, quoting every value into the
SQL text, which at sending volumes costs more than the database's work. Statements are never
prepared (`prepare=False` at each call), so they work behind PgBouncer in transaction mode.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field


def wanted(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "postgresql"


def unnest(connection: BaseDatabaseWrapper, fields: Sequence[Field]) -> str:
    """`UNNEST(%s::type[], …)` for these columns. Types without their length (varchar[], not
    varchar(40)[]), as Django's own UNNEST insert does, so the column itself refuses a value
    that is too long instead of the cast cutting it short."""
    types = [field.db_type(connection).split("(")[0] for field in fields]  # type: ignore[union-attr]
    return "UNNEST(" + ", ".join(f"%s::{kind}[]" for kind in types) + ")"


def column_name(field: Field) -> str:
    """The column a concrete field is stored in. Only a field with no column of its own (which
    is never written here) has None."""
    assert field.column is not None, f"{field.name} has no column"
    return field.column


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into one list per column."""
    return [[row[index] for row in rows] for index in range(width)]


@contextmanager
def cursor(connection: BaseDatabaseWrapper) -> Iterator[Any]:
    """A psycopg cursor that binds parameters on the server, in the connection's current
    transaction, raising Django's database errors."""
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
        yield raw
