from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "govserve.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing registers the deployment checks (security; the shared pages' settings).
        from govserve.web import checks, database_health, page_checks  # noqa: F401, PLC0415

        database_health.connect()
