from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "govserve.casework"
    label = "casework"
    verbose_name = "Casework"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit event types, the bot job, and the journey hooks (submission, resubmission, withdrawal,
        # what a sent-back applicant may change, the expected decision date).
        from govserve.casework import audit_events, jobs  # noqa: F401, PLC0415
        from govserve.casework.assisted import assisted_applicant_resolve  # noqa: PLC0415
        from govserve.casework.selectors import (  # noqa: PLC0415
            applicant_case_for,
            expected_decision_for,
            send_back_request_for,
        )
        from govserve.casework.services import (  # noqa: PLC0415
            applicant_message_deliver,
            file_resubmitted,
            file_submitted,
            file_withdrawn,
        )
        from govserve.journeys import hooks  # noqa: PLC0415

        hooks.application_submitted_hook_register(file_submitted)
        hooks.application_withdrawn_hook_register(file_withdrawn)
        hooks.application_resubmitted_hook_register(file_resubmitted)
        hooks.send_back_provider_register(send_back_request_for)
        hooks.expected_decision_provider_register(expected_decision_for)
        hooks.applicant_case_provider_register(applicant_case_for)
        hooks.message_sender_register(applicant_message_deliver)
        hooks.applicant_resolver_register(assisted_applicant_resolve)
