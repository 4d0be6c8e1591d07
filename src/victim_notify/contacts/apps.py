from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "victim_notify.contacts"
    label = "contacts"
    verbose_name = "Contacts and opt-outs"
