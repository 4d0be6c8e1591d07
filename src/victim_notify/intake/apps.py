from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "victim_notify.intake"
    label = "intake"
    verbose_name = "Reports received from records systems"
