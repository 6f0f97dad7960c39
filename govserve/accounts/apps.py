from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "govserve.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from govserve.accounts import audit_events, checks  # noqa: F401, PLC0415  (registration side effects)
