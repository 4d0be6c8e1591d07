from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "victim_notify.accounts"
    label = "accounts"
    verbose_name = "Staff accounts and the audit trail"
