from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "govserve.journeys"
    label = "journeys"
    verbose_name = "Citizen journeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit event types and the scheduled draft expiry.
        from govserve.journeys import audit_events, emails, jobs  # noqa: F401, PLC0415

        # Service definitions' own emails (notifications.<event>.email), found by the email kernel.
        emails.register()
