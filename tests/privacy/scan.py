"""Reading the database as an attacker with a copy of it would: every text and JSON column of
every model, as stored, without the fields' decryption."""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps
from django.db import connection, models

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.DateField)


def stored_text() -> Iterator[tuple[str, str]]:
    """("table.column", stored value as text) for every non-empty text-like value."""
    quote = connection.ops.quote_name
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        columns = [f.column for f in meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not columns:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(meta.db_table)}"
            )
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value not in (None, ""):
                        yield f"{meta.db_table}.{column}", str(value)


def found(needles: set[str]) -> list[tuple[str, str]]:
    """(where, needle) for every needle found, in any letter case, in any stored value."""
    lowered = {n.lower() for n in needles if n}
    hits = []
    for where, value in stored_text():
        text = value.lower()
        hits.extend((where, n) for n in lowered if n in text)
    return hits
