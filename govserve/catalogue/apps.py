from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "govserve.catalogue"
    label = "catalogue"
    verbose_name = "Service catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from govserve.catalogue import audit_events  # noqa: F401, PLC0415
