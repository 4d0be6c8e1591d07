"""Encrypting what was stored before: a migration of its own, since PostgreSQL will not
change a table's schema in the transaction that updated its rows."""

from django.db import migrations

from victim_notify.privacy.keys import blind_index, index_version
from victim_notify.privacy.rotation import migration_step


def hash_person_keys(apps, schema_editor):
    """A participant drawn from a contact was keyed by the phone or email itself; now by its
    blind index. Imported participants keep the id they were imported with."""
    Participant = apps.get_model("surveys", "Participant")
    drawn = Participant.objects.exclude(assignment="imported").only("pk", "person_key")
    changed = []
    for participant in drawn.iterator(chunk_size=1000):
        if index_version(participant.person_key) is None:
            participant.person_key = blind_index("contact", participant.person_key)
            changed.append(participant)
    Participant.objects.bulk_update(changed, ["person_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("surveys", "0002_encrypt_responses")]

    operations = [
        migrations.RunPython(migration_step("surveys", "Response"), migrations.RunPython.noop),
        migrations.RunPython(hash_person_keys, migrations.RunPython.noop),
    ]
