from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "govserve.api"
    label = "api"
    verbose_name = "JSON API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from govserve.api import audit_events  # noqa: F401, PLC0415
        from govserve.api.demo import demo_token_issue  # noqa: PLC0415
        from govserve.catalogue.demo import demo_step_register  # noqa: PLC0415

        demo_step_register(demo_token_issue)
