from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "govserve.casework"
    label = "casework"
    verbose_name = "Casework"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit event types, the bot job, and the journey hooks (submission, resubmission, withdrawal).
        from govserve.casework import audit_events  # noqa: F401, PLC0415
