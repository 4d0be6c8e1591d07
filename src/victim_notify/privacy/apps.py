from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "victim_notify.privacy"
    label = "privacy"
    verbose_name = "Personal data"
