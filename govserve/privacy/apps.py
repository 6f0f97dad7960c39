from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "govserve.privacy"
    label = "privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the audit event types, the system checks (privacy.E001...) and the jobs (enqueued by name).
        from govserve.privacy import audit_events, checks, jobs  # noqa: F401, PLC0415
