from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "govserve.payments"
    label = "payments"
    verbose_name = "Payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit event types, system checks, the receipt and fee-due email templates, casework's hooks
        # (the fee-due email on approval, the payments on the file view), and the journey hook that
        # puts "Pay now" on the applicant's pages.
        from govserve.journeys import hooks  # noqa: PLC0415
        from govserve.payments import (  # noqa: F401, PLC0415
            audit_events,
            checks,
            due_notices,
            file_payments,
            receipts,
        )
        from govserve.payments.selectors import payment_link_for  # noqa: PLC0415

        receipts.register()
        due_notices.register()  # the "you now need to pay" email on approval (casework's hook)
        file_payments.register()  # the file's payments on casework's file view (casework's hook)
        hooks.payment_link_provider_register(payment_link_for)
