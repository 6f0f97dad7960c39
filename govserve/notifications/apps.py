from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "govserve.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration side effects: audit event types, the definitions' email templates
        # (found by the email kernel), and the handlers on journeys' and casework's hooks.
        # The delivery jobs and schedules register when workers autodiscover ``notifications.jobs``.
        from govserve.notifications import audit_events, events, services  # noqa: F401, PLC0415
        from govserve.notifications.email import email_template_lookup_register  # noqa: PLC0415

        email_template_lookup_register(services.service_email_template)
        events.register()
