from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "govserve.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration side effect: audit event types. The delivery job registers
        # itself when workers autodiscover ``notifications.jobs``.
        from govserve.notifications import audit_events  # noqa: F401, PLC0415
