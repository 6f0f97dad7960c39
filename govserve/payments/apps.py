from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "govserve.payments"
    label = "payments"
    verbose_name = "Payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit event types, system checks, the receipt and fee-due email templates, the casework hook
        # that sends the fee-due email on approval, and the journey hook that puts "Pay now" on the
        # applicant's pages.
        from govserve.journeys import hooks  # noqa: PLC0415
        from govserve.payments import audit_events, checks, due_notices, receipts  # noqa: F401, PLC0415
        from govserve.payments.selectors import payment_link_for  # noqa: PLC0415

        receipts.register()
        due_notices.register()  # the "you now need to pay" email on approval (casework's hook)
        hooks.payment_link_provider_register(payment_link_for)
