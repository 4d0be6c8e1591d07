"""Encrypting what was stored before: a migration of its own, since PostgreSQL will not
change a table's schema in the transaction that updated its rows."""

from django.db import migrations

from victim_notify.privacy.rotation import migration_step


def flag_details_links(apps, schema_editor):
    """Clicks are counted for messages with a details link, which was found by searching the
    text; encrypted text cannot be searched, so it is a column now, filled while plain."""
    table = apps.get_model("outbox", "Notification")._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET has_details_link = %s WHERE body LIKE %s",  # noqa: S608
            [True, "%/d/%"],
        )


class Migration(migrations.Migration):
    dependencies = [("outbox", "0005_encrypt_message_text")]

    operations = [
        migrations.RunPython(flag_details_links, migrations.RunPython.noop),
        migrations.RunPython(migration_step("outbox", "Notification"), migrations.RunPython.noop),
    ]
