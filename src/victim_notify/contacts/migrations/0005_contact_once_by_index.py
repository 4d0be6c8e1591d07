"""Contacts are unique by their blind index, once every contact has one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("contacts", "0004_encrypt_existing_contacts")]

    operations = [
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(fields=("kind", "value_index"), name="contact_once"),
        ),
    ]
