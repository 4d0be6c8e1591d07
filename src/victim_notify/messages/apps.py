from django.apps import AppConfig


class MessagesConfig(AppConfig):
    name = "victim_notify.messages"
    label = "outbox"
    verbose_name = "Messages and the outbox"
