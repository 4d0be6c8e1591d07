from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "victim_notify.staff"
    label = "staff"
    verbose_name = "Staff web app"
