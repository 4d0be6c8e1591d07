"""`victim-notify rotate-keys`: a new key takes over without downtime, old data follows."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.conftest import make_record
from victim_notify.accounts.models import AuditEvent
from victim_notify.contacts.models import Contact, OptOut
from victim_notify.intake.models import Party
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.privacy import keys
from victim_notify.privacy.keys import DecryptionError
from victim_notify.replies.inbound import receive

pytestmark = pytest.mark.django_db

VICTIM = {"first_name": "Remedios", "last_name": "Varela", "phone": "(520) 555-0166"}


def _ingest(agency, *records):
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")


def _stored(sql: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def _rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate-keys", *args, stdout=out)
    keys.forget()
    return out.getvalue()


def test_a_new_encryption_key_takes_over_and_old_data_is_reencrypted(agency, settings):
    _ingest(agency, make_record(victim=VICTIM))
    old = settings.ENCRYPTION_KEYS[0]
    new = keys.new_key_entry(keys.encryption_keys().current[0] + 1)
    settings.ENCRYPTION_KEYS = [new, old]
    keys.forget()
    # Before the rotation: old rows still read, new rows are written under the new key.
    assert Party.objects.get().first_name == "Remedios"
    _ingest(agency, make_record(victim=VICTIM | {"first_name": "Sagrario"}))
    new_version = int(new.split(":")[0])
    assert {keys.key_version(s) for s in _stored("SELECT first_name FROM intake_party")} == {
        new_version - 1,
        new_version,
    }

    dry = _rotate("--dry-run")
    assert "would rewrite" in dry
    assert keys.key_version(_stored("SELECT first_name FROM intake_party ORDER BY id")[0]) == (
        new_version - 1
    )
    report = _rotate()
    assert "intake.Party: 2 rows, rewrote 1 (encrypted 0 plaintext values, re-encrypted" in report
    assert AuditEvent.objects.filter(action="privacy.rotate_keys").exists()
    # Nothing is left under the old key: it can be taken out of the configuration.
    assert "rewrote 0 rows" in _rotate()
    settings.ENCRYPTION_KEYS = [new]
    keys.forget()
    assert sorted(p.first_name for p in Party.objects.all()) == ["Remedios", "Sagrario"]
    assert Contact.objects.get(kind="phone").value == "+15205550166"


def test_without_the_old_key_old_data_cannot_be_read(agency, settings):
    _ingest(agency, make_record(victim=VICTIM))
    settings.ENCRYPTION_KEYS = [keys.new_key_entry(99)]
    keys.forget()
    with pytest.raises(DecryptionError, match="no key of version"):
        Party.objects.get()


def test_a_new_index_key_keeps_stop_working_during_and_after_the_rotation(agency, settings):
    _ingest(agency, make_record(victim=VICTIM))
    old = settings.BLIND_INDEX_KEYS[0]
    new = keys.new_key_entry(keys.index_keys().current[0] + 1)
    settings.BLIND_INDEX_KEYS = [new, old]
    keys.forget()
    # During: the contact is found under the old index, and no second contact is made.
    _ingest(agency, make_record(victim=VICTIM))
    assert Contact.objects.filter(kind="phone").count() == 1
    receive(
        channel="sms",
        to_address="+15205550100",
        from_address="+15205550166",
        body="STOP",
        provider="twilio",
        provider_message_id="SM-rotation-1",
    )
    assert OptOut.objects.filter(revoked_at=None).count() == 1
    report = _rotate()
    assert "contacts.Contact: " in report and "re-indexed 1" in report
    # After: the old index key is gone, and the same person is still recognised.
    settings.BLIND_INDEX_KEYS = [new]
    keys.forget()
    contact = Contact.objects.find("phone", "+15205550166")
    assert contact is not None and contact.opt_outs.filter(revoked_at=None).exists()
    assert Party.objects.filter(last_name_index=Party.objects.first().last_name_index).count() == 2


def test_plaintext_left_from_before_encryption_is_encrypted(agency):
    _ingest(agency, make_record(victim=VICTIM))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE intake_party SET first_name = 'Remedios'")
    assert Party.objects.get().first_name == "Remedios"  # read as it is
    assert "encrypted 1 plaintext values" in _rotate()
    assert _stored("SELECT first_name FROM intake_party")[0].startswith(keys.PREFIX)
    assert Party.objects.get().first_name == "Remedios"


def test_a_row_changed_during_the_rotation_is_not_overwritten(agency, settings, monkeypatch):
    from victim_notify.privacy import rotation

    _ingest(agency, make_record(victim=VICTIM))
    settings.ENCRYPTION_KEYS = [keys.new_key_entry(50), *settings.ENCRYPTION_KEYS]
    keys.forget()
    original = rotation._changes

    def edit_meanwhile(row, *args):
        changes = original(row, *args)
        Party.objects.filter(pk=row[0]).update(first_name="Changed")
        return changes

    monkeypatch.setattr(rotation, "_changes", edit_meanwhile)
    count = rotation.bring_up_to_date(Party)
    assert count.rows_changed_meanwhile == 1
    assert Party.objects.get().first_name == "Changed"


def test_local_installations_get_keys_of_their_own(tmp_path):
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    env = subprocess_env(VN_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="victim_notify.settings")
    env.pop("VN_ENCRYPTION_KEYS", None)
    env.pop("VN_BLIND_INDEX_KEYS", None)
    code = "from django.conf import settings; print(settings.ENCRYPTION_KEYS[0][:2])"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "1:"
    for name in ("encryption-keys", "blind-index-keys"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert settings.ENCRYPTION_KEYS != [(tmp_path / "encryption-keys").read_text()]
