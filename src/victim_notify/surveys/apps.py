from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "victim_notify.surveys"
    label = "surveys"
    verbose_name = "Experiments and surveys"
