from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "victim_notify.worker"
    label = "worker"
    verbose_name = "Background worker"
