from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "victim_notify.providers"
    label = "providers"
    verbose_name = "Message providers"
