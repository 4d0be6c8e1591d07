"""Personal data is encrypted in the database and still found by equality."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection

from tests.conftest import make_record
from tests.privacy import scan
from victim_notify.contacts.models import Contact
from victim_notify.intake.models import Party, ReportVersion
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages.models import Notification
from victim_notify.privacy import keys
from victim_notify.privacy.keys import DecryptionError, parse_keyring

pytestmark = pytest.mark.django_db

VICTIM = {
    "first_name": "Xiomara",
    "last_name": "Quintanilla",
    "phone": "(520) 555-0177",
    "email": "xiomara.q@example.net",
    "date_of_birth": "1979-03-02",
}


def _ingest(agency, *records):
    return ingest(
        agency,
        [IncomingRecord.from_object(i, r) for i, r in enumerate(records)],
        source="api",
    )


def test_names_contacts_birth_dates_and_payloads_are_not_stored_in_plaintext(agency):
    _ingest(agency, make_record(victim=VICTIM))
    needles = {"Xiomara", "Quintanilla", "+15205550177", "5550177", "xiomara.q@example.net"}
    needles |= {"1979-03-02"}
    assert scan.found(needles) == []
    # ...while the application reads them as they were.
    party = Party.objects.get()
    assert (party.first_name, party.last_name) == ("Xiomara", "Quintanilla")
    assert party.phone.value == "+15205550177"
    assert party.email.value == "xiomara.q@example.net"
    assert str(party.date_of_birth) == "1979-03-02"
    payload = ReportVersion.objects.get().payload
    assert payload["parties"][0]["first_name"] == "Xiomara"
    notes = Notification.objects.filter(party=party)
    assert notes and all(n.report.report_number in n.body for n in notes)


def test_stored_value_carries_key_version_and_differs_each_time(agency):
    _ingest(agency, make_record(victim=VICTIM), make_record(victim=VICTIM))
    with connection.cursor() as cursor:
        cursor.execute("SELECT first_name FROM intake_party")
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 2 and stored[0] != stored[1]  # a fresh nonce each time
    version = keys.encryption_keys().current[0]
    assert all(s.startswith(f"{keys.PREFIX}{version}.") for s in stored)


def test_a_lookup_on_an_encrypted_field_fails_loudly():
    with pytest.raises(FieldError, match="blind index"):
        list(Contact.objects.filter(value="+15205550177"))
    with pytest.raises(FieldError, match="blind index"):
        list(Party.objects.filter(first_name__iexact="ana"))
    with pytest.raises(FieldError):
        list(Party.objects.filter(phone__value__in=["+15205550177"]))


def test_contacts_are_found_and_deduplicated_through_the_blind_index(agency):
    _ingest(agency, make_record(victim=VICTIM), make_record(victim=VICTIM | {"party_id": "1"}))
    assert Contact.objects.filter(kind="phone").count() == 1
    found = Contact.objects.find("phone", "+15205550177")
    assert found is not None and found.value == "+15205550177"
    assert Contact.objects.find("phone", "+15205550178") is None
    assert found.value_index.startswith(f"{keys.index_keys().current[0]}:")


def test_a_value_copied_into_another_column_does_not_decrypt(agency):
    _ingest(agency, make_record(victim=VICTIM))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE intake_party SET last_name = first_name")
    with pytest.raises(DecryptionError):
        Party.objects.get()


def test_a_tampered_value_does_not_decrypt(agency):
    _ingest(agency, make_record(victim=VICTIM))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, first_name FROM intake_party")
        pk, stored = cursor.fetchone()
        flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
        cursor.execute("UPDATE intake_party SET first_name = %s WHERE id = %s", [flipped, pk])
    with pytest.raises(DecryptionError):
        Party.objects.get()


def test_values_written_by_another_process_decrypt(agency):
    _ingest(agency, make_record(victim=VICTIM))
    keys.forget()  # as a new process: a data key of its own, the first one unwrapped on read
    _ingest(agency, make_record(victim=VICTIM | {"first_name": "Yolanda"}))
    keys.forget()
    assert sorted(p.first_name for p in Party.objects.all()) == ["Xiomara", "Yolanda"]


def test_key_configuration_is_checked():
    with pytest.raises(ImproperlyConfigured, match="VERSION:BASE64"):
        parse_keyring("VN_ENCRYPTION_KEYS", ["not-a-key"])
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        parse_keyring("VN_ENCRYPTION_KEYS", ["1:AAAA"])
    one = keys.new_key_entry(1)
    with pytest.raises(ImproperlyConfigured, match="twice"):
        parse_keyring("VN_ENCRYPTION_KEYS", [one, one])
    assert parse_keyring("X", [keys.new_key_entry(2), one]).current[0] == 2
