"""The one place personal data is encrypted and decrypted: model fields.

An encrypted field holds ciphertext in the database and plaintext on the model instance, so
code reading `party.first_name` or `values_list("contact__value")` is unchanged. What cannot
work on ciphertext fails loudly: any lookup other than `isnull` raises, so a
`filter(value=...)` left over from before encryption is an error, not a query that silently
matches nothing. Equality goes through a `BlindIndexField` beside the encrypted one.

Empty strings are stored as empty strings (an empty name is not worth hiding, and `blank`
stays cheap to test); NULL stays NULL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any, overload

from django import forms
from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Lookup, Q
from django.db.models.expressions import Combinable

from victim_notify.privacy import keys


class EncryptedTextField(models.TextField):
    """Text encrypted with AES-256-GCM under the current key (see privacy/keys.py)."""

    encrypted = True

    @property
    def context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name == "matches" and blind_index_of(self) is not None:
            return Matches
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted and cannot be searched with "
            f"'{lookup_name}'"
            + (
                f": use {self.name}__matches=..., which goes through its blind index"
                if blind_index_of(self) is not None
                else ""
            )
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: no '{lookup_name}'")

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        text = self.to_text(value)
        if text == "":
            return ""
        return keys.encrypt(text, self.context)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        if value == "":
            return self.from_text("") if self.empty_is_text else None
        return self.from_text(keys.decrypt(value, self.context))

    empty_is_text = True

    @overload
    def stored_plaintext(self, stored: str) -> str: ...
    @overload
    def stored_plaintext(self, stored: None) -> None: ...
    def stored_plaintext(self, stored: str | None) -> str | None:
        """The plaintext of a value as it is in the database (for rotate-keys)."""
        if stored is None or stored == "":
            return stored
        return keys.decrypt(stored, self.context)


class EncryptedJSONField(EncryptedTextField):
    """A JSON document, encrypted whole. Nothing inside it can be queried."""

    # What django-stubs' plugin gives the model attribute (TextField's would be str).
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def to_text(self, value: Any) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    def from_text(self, text: str) -> Any:
        return json.loads(text) if text else None

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(self, **kwargs: Any) -> Any:
        return super(models.TextField, self).formfield(
            **{"form_class": forms.JSONField, "encoder": DjangoJSONEncoder, **kwargs}
        )

    def value_to_string(self, obj: Any) -> Any:
        return self.value_from_object(obj)


class EncryptedDateField(EncryptedTextField):
    """A date (of birth), encrypted; stored as its ISO form."""

    # What django-stubs' plugin gives the model attribute (TextField's would be str); the
    # ignores are for narrowing TextField's declared types, as the stubs do for their own
    # subclasses: the attribute holds a date, whatever the column holds.
    _pyi_private_set_type: str | dt.date | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: dt.date  # type: ignore[assignment]

    empty_is_text = False

    def to_text(self, value: Any) -> str:
        return self.to_python(value).isoformat()

    def from_text(self, text: str) -> Any:
        return dt.date.fromisoformat(text) if text else None

    def to_python(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value))

    def formfield(self, **kwargs: Any) -> Any:
        return super(models.TextField, self).formfield(**{"form_class": forms.DateField, **kwargs})


class MaskedCharField(models.CharField):
    """Text from outside (a provider's error, a bounce's diagnostic) that may quote a phone
    number or an email address: masked as it is written, the way logs are."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        from victim_notify.logs import mask

        masked = mask(value)
        return masked[: self.max_length] if self.max_length else masked


def _identity(value: str) -> str:
    return value


NORMALISERS: dict[str, Callable[[str], str]] = {
    "contact": _identity,  # contacts are stored normalised (E.164, lower-cased email)
    "name": keys.normalise_name,
}


class BlindIndexField(models.CharField):
    """HMAC-SHA256 of another field's normalised value: equality without decryption.

    Always computed from its source when a row is written (save, bulk_create, and the intake's
    prepared inserts); `refresh_indexes` brings instances up to date before a bulk_update."""

    computed = True

    def __init__(self, *args: Any, source: str = "", purpose: str = "", **kwargs: Any) -> None:
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["purpose"] = self.purpose
        for key, default in (
            ("max_length", 80),
            ("blank", True),
            ("default", ""),
            ("editable", False),
        ):
            if kwargs.get(key) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def compute(self, instance: models.Model) -> str:
        value = getattr(instance, self.source)
        if not value:
            return ""
        normalised = NORMALISERS[self.purpose](str(value))
        return keys.blind_index(self.purpose, normalised) if normalised else ""

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def blind_index_of(field: models.Field) -> BlindIndexField | None:
    for other in field.model._meta.concrete_fields:
        if isinstance(other, BlindIndexField) and other.source == field.name:
            return other
    return None


class Matches(Lookup):
    """`value__matches="+15205550134"`: equality with a normalised value, answered by the
    blind index beside the encrypted field (under every configured index key)."""

    lookup_name = "matches"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str | int, ...]]:
        index = blind_index_of(self.lhs.target)
        assert index is not None
        values = self.rhs if isinstance(self.rhs, list | tuple | set) else [self.rhs]
        candidates = [
            candidate
            for value in values
            for candidate in keys.blind_indexes(index.purpose, NORMALISERS[index.purpose](value))
        ]
        if not candidates:
            return "1 = 0", ()
        sql, params = compiler.compile(index.get_col(self.lhs.alias))
        return f"{sql} IN ({', '.join(['%s'] * len(candidates))})", (*params, *candidates)


def refresh_indexes(objs: Iterable[models.Model]) -> None:
    """Re-compute blind indexes on instances about to be written by bulk_update."""
    for obj in objs:
        for field in obj._meta.concrete_fields:
            if isinstance(field, BlindIndexField):
                setattr(obj, field.attname, field.compute(obj))


def index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def matching(path: str, purpose: str, value: str) -> Q:
    """A filter on a blind index (`path` is the index field, through relations if need be)
    matching `value` under every configured index key."""
    normalised = NORMALISERS[purpose](value)
    return Q(**{f"{path}__in": keys.blind_indexes(purpose, normalised)})


def matching_any(path: str, purpose: str, values: Iterable[str]) -> Q:
    candidates = [
        index
        for value in values
        for index in keys.blind_indexes(purpose, NORMALISERS[purpose](value))
    ]
    return Q(**{f"{path}__in": candidates})
