from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "victim_notify.rules"
    label = "rules"
    verbose_name = "Eligibility decisions"
