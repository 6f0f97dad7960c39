from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "govserve.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from govserve.web import checks  # noqa: F401, PLC0415  (registers the deployment checks)
