"""Bringing stored personal data up to the current keys: `victim-notify rotate-keys`, and the
migration that encrypted what was stored before encryption existed.

Works a batch of rows at a time, each batch in its own short transaction, so the web app and
the worker go on meanwhile (old keys still decrypt what has not been done yet). A row is
rewritten only if it still holds what was read, so a value the app changed in between is
never overwritten with an older one; it was written under the current key anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as global_apps
from django.db import connections, models, transaction

from victim_notify.privacy import keys
from victim_notify.privacy.fields import (
    NORMALISERS,
    BlindIndexField,
    EncryptedTextField,
    encrypted_fields,
    index_fields,
)


@dataclass
class ModelCount:
    label: str
    rows_seen: int = 0
    rows_rewritten: int = 0
    values_encrypted: int = 0  # plaintext found and encrypted
    values_reencrypted: int = 0  # under an older key, now under the current one
    indexes_recomputed: int = 0
    rows_changed_meanwhile: int = 0


@dataclass
class Summary:
    models: list[ModelCount] = field(default_factory=list)

    @property
    def rows_rewritten(self) -> int:
        return sum(m.rows_rewritten for m in self.models)


def protected_models(app_registry: Any = global_apps) -> list[type[models.Model]]:
    return [
        model
        for model in app_registry.get_models()
        if encrypted_fields(model) or index_fields(model)
    ]


def _index_value(index: BlindIndexField, source_plain: Any) -> str:
    if not source_plain:
        return ""
    normalised = NORMALISERS[index.purpose](str(source_plain))
    return keys.blind_index(index.purpose, normalised) if normalised else ""


def bring_up_to_date(
    model: type[models.Model],
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    using: str = "default",
    progress: Callable[[ModelCount], None] | None = None,
) -> ModelCount:
    """Encrypt plaintext, re-encrypt values under older keys and re-compute blind indexes
    under the current index key, for every row of one model."""
    meta = model._meta
    count = ModelCount(meta.label)
    encrypted = encrypted_fields(model)
    indexes = index_fields(model)
    current_key = keys.encryption_keys().current[0]
    current_index = keys.index_keys().current[0]
    columns = [_column(meta.pk)] + [_column(f) for f in encrypted] + [_column(f) for f in indexes]
    connection = connections[using]
    quote = connection.ops.quote_name
    pk = quote(_column(meta.pk))
    select = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(meta.db_table)}"  # noqa: S608
    order = f" ORDER BY {pk} LIMIT {int(batch_size)}"
    last: Any = None
    while True:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                if last is None:
                    cursor.execute(select + order)
                else:
                    cursor.execute(f"{select} WHERE {pk} > %s{order}", [last])
                rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            for row in rows:
                count.rows_seen += 1
                changes = _changes(row, encrypted, indexes, current_key, current_index, count)
                if changes and not dry_run:
                    if _rewrite(connection, meta, row[0], changes):
                        count.rows_rewritten += 1
                    else:
                        count.rows_changed_meanwhile += 1
                elif changes:
                    count.rows_rewritten += 1
        if progress is not None:
            progress(count)
    return count


def _column(field: models.Field) -> str:
    """A concrete field's column. django-stubs types `Field.column` as optional (a relation
    with no column of its own has none); the fields rotated here are all concrete."""
    assert field.column is not None, field
    return field.column


def _changes(
    row: tuple,
    encrypted: list[EncryptedTextField],
    indexes: list[BlindIndexField],
    current_key: int,
    current_index: int,
    count: ModelCount,
) -> list[tuple[str, Any, Any]]:
    """(column, value read, value to write) for what is not under the current keys."""
    changes: list[tuple[str, Any, Any]] = []
    plain: dict[str, Any] = {}
    for position, enc in enumerate(encrypted, start=1):
        stored = row[position]
        if stored is not None and not isinstance(stored, str):
            stored = str(stored)  # a date or a JSON document not yet turned into text
        value = enc.stored_plaintext(stored)
        plain[enc.attname] = value
        if not stored:
            continue
        version = keys.key_version(stored)
        if version == current_key:
            continue
        if version is None:
            count.values_encrypted += 1
        else:
            count.values_reencrypted += 1
        changes.append((_column(enc), row[position], keys.encrypt(value, enc.context)))
    for position, index in enumerate(indexes, start=1 + len(encrypted)):
        stored = row[position] or ""
        if index.source in plain:
            source = plain[index.source]
        else:
            continue  # an index over a plaintext field is not this module's business
        wanted = _index_value(index, source)
        if stored != wanted:
            count.indexes_recomputed += 1
            changes.append((_column(index), row[position], wanted))
    return changes


def _rewrite(connection: Any, meta: Any, pk: Any, changes: list[tuple[str, Any, Any]]) -> bool:
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(column)} = %s" for column, _, _ in changes)
    conditions = [f"{quote(meta.pk.column)} = %s"]
    params: list[Any] = [new for _, _, new in changes] + [pk]
    for column, old, _ in changes:
        if old is None:
            conditions.append(f"{quote(column)} IS NULL")
        else:
            conditions.append(f"{quote(column)} = %s")
            params.append(old)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def rotate(
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    using: str = "default",
    only: Iterable[type[models.Model]] | None = None,
    progress: Callable[[ModelCount], None] | None = None,
) -> Summary:
    summary = Summary()
    for model in only if only is not None else protected_models():
        summary.models.append(
            bring_up_to_date(
                model, batch_size=batch_size, dry_run=dry_run, using=using, progress=progress
            )
        )
    return summary


def migration_step(app_label: str, model_name: str) -> Callable[[Any, Any], None]:
    """A RunPython function encrypting one model's existing rows, for a migration."""

    def run(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        bring_up_to_date(model, using=schema_editor.connection.alias)

    return run


def masking_step(app_label: str, model_name: str, *fields: str) -> Callable[[Any, Any], None]:
    """A RunPython function masking phones and emails already stored in free-text fields."""

    def run(apps: Any, schema_editor: Any) -> None:
        from victim_notify.logs import mask

        model = apps.get_model(app_label, model_name)
        for name in fields:
            rows = model.objects.exclude(**{name: ""}).values_list("pk", name)
            for pk, text in rows.iterator(chunk_size=1000):
                if mask(text) != text:
                    # The field masks as it writes.
                    model.objects.filter(pk=pk).update(**{name: text})

    return run
