from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "victim_notify.cases"
    label = "cases"
    verbose_name = "What happens to a case after the report"
