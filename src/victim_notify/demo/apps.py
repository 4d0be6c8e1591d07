from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "victim_notify.demo"
    label = "demo"
    verbose_name = "Demonstration agency and simulated records feed"
