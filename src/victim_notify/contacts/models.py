"""A contact is one phone number or email address, shared by every party that gives it.

Opt-outs hang off the contact, not the party, so "STOP" from a number holds for every later
report that lists it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from victim_notify.privacy.fields import BlindIndexField, EncryptedTextField, matching_any
from victim_notify.privacy.keys import blind_indexes


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class ContactManager(models.Manager["Contact"]):
    def ids_for(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The id of each (kind, value), creating the contacts that do not exist yet. Safe when
        several processes add the same contact at once."""
        found: dict[tuple[str, str], int] = {}
        for kind in {k for k, _value in pairs}:
            values = [v for k, v in pairs if k == kind]
            for start in range(0, len(values), 500):
                batch = values[start : start + 500]
                found.update(self._lookup(kind, batch))
                missing = [v for v in batch if (kind, v) not in found]
                if missing:
                    self.bulk_create(
                        [Contact(kind=kind, value=v) for v in missing], ignore_conflicts=True
                    )
                    found.update(self._lookup(kind, missing))
        return found

    def _lookup(self, kind: str, values: list[str]) -> dict[tuple[str, str], int]:
        # By blind index under every configured key, and without decrypting anything.
        wanted = {index: value for value in values for index in blind_indexes("contact", value)}
        rows = self.filter(kind=kind, value_index__in=list(wanted)).values_list(
            "value_index", "pk", "value"
        )
        found = {}
        for index, pk, stored in rows:
            found[(kind, wanted[index])] = pk
            if not stored:
                # Purged after its reports' retention ran out (privacy/purge.py), and given
                # again: the same contact, with its opt-outs, holds the value once more.
                self.filter(pk=pk).update(value=wanted[index])
        return found

    def find(self, kind: str, value: str) -> Contact | None:
        """The contact with this normalised value, found by its blind index."""
        return self.filter(matching_any("value_index", "contact", [value]), kind=kind).first()

    def get_or_add(self, kind: str, value: str) -> Contact:
        return self.get(pk=self.ids_for({(kind, value)})[(kind, value)])


class Contact(models.Model):
    kind = models.CharField(max_length=8, choices=ContactKind.choices)
    value = EncryptedTextField(help_text="E.164 phone or lower-cased email address.")
    # Equality on the value (STOP, reply matching, dedup, search) goes through this; it is what
    # remains of a contact after its personal data is purged, so an opt-out still holds.
    value_index = BlindIndexField(source="value", purpose="contact")
    created_at = models.DateTimeField(auto_now_add=True)
    # A provider said this contact cannot receive messages (a landline, an unknown number, a
    # mailbox that does not exist): later reports do not try it again.
    undeliverable_at = models.DateTimeField(null=True, blank=True)
    undeliverable_code = models.CharField(max_length=40, blank=True)
    undeliverable_reason = models.CharField(max_length=300, blank=True)

    objects = ContactManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value_index"], name="contact_once")]
        # Equality only: a Meta index, so PostgreSQL gets no second (LIKE) index.
        indexes = [models.Index(fields=["value_index"], name="contact_by_value")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class OptOutSource(models.TextChoices):
    STAFF = "staff", _("Recorded by staff")
    COMMAND = "command", _("Recorded by command")
    REPLY = "reply", _("Reply keyword")
    PROVIDER = "provider", _("Reported by the provider")
    WEB = "web", _("The person's case page")


class OptOut(models.Model):
    """The contact asked this agency not to write to it. Active while `revoked_at` is empty."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="opt_outs")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opt_outs")
    source = models.CharField(max_length=16, choices=OptOutSource.choices)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "contact"],
                condition=models.Q(revoked_at=None),
                name="one_active_opt_out",
            )
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"opt-out of contact #{self.contact_id} ({state})"


@dataclass
class Standing:
    """What the rules need to know of some contacts: their values, the ones found
    undeliverable, and the ones opted out, by agency."""

    values: dict[int, str]
    undeliverable: set[str]
    opted_out: dict[int, set[str]]


def standing_of(contact_ids: Iterable[int]) -> Standing:
    ids = set(contact_ids)
    values: dict[int, str] = {}
    undeliverable: set[str] = set()
    for pk, value, dead in Contact.objects.filter(pk__in=ids).values_list(
        "pk", "value", "undeliverable_at"
    ):
        values[pk] = value
        if dead is not None:
            undeliverable.add(value)
    opted_out: dict[int, set[str]] = defaultdict(set)
    for agency_id, contact_id in OptOut.objects.filter(
        revoked_at=None, contact_id__in=ids
    ).values_list("agency_id", "contact_id"):
        opted_out[agency_id].add(values[contact_id])
    return Standing(values, undeliverable, opted_out)
