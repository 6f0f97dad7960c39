from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "govserve.casework.results"
    label = "casework_results"
    verbose_name = "Casework results"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit event types, system checks, the render job, and the hooks: results are issued on final
        # approval (casework) and listed on the applicant's application page (journeys).
        from govserve.casework.hooks import file_approved_hook_register  # noqa: PLC0415
        from govserve.casework.results import audit_events, checks, jobs  # noqa: F401, PLC0415
        from govserve.casework.results.selectors import results_for_applicant_page  # noqa: PLC0415
        from govserve.casework.results.services import results_issue_on_approval  # noqa: PLC0415
        from govserve.journeys.hooks import results_provider_register  # noqa: PLC0415

        file_approved_hook_register(results_issue_on_approval)
        results_provider_register(results_for_applicant_page)
