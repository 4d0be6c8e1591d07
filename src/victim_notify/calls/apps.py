from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "victim_notify.calls"
    label = "calls"
    verbose_name = "Calls for service from the dispatch system (CAD)"
