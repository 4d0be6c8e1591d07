from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "victim_notify.accounts"
    label = "accounts"
    verbose_name = "Staff accounts and the audit trail"

    def ready(self) -> None:
        from victim_notify.accounts import signals  # noqa: F401  (connects the receivers)
