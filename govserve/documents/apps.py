from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "govserve.documents"
    label = "documents"
    verbose_name = "Documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit event types, system checks (documents.E00x/W001) and the scan and purge jobs.
        from govserve.documents import audit_events, checks, jobs  # noqa: F401, PLC0415
