"""Encrypting what was stored before: a migration of its own, since PostgreSQL will not
change a table's schema in the transaction that updated its rows."""

from django.db import migrations

from victim_notify.privacy.rotation import migration_step


class Migration(migrations.Migration):
    dependencies = [("replies", "0003_encrypt_replies")]

    operations = [
        migrations.RunPython(
            migration_step("replies", "InboundMessage"), migrations.RunPython.noop
        ),
    ]
