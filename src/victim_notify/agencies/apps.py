from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "victim_notify.agencies"
    label = "agencies"
    verbose_name = "Agencies and their configuration"
