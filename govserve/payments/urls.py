"""URLs of payments. Each audience has its own section and view module; add yours below."""

from django.urls import path

from govserve.payments.views import applicant, sandbox, staff, webhooks

app_name = "payments"

urlpatterns = [
    # --- The applicant (govserve.payments.views.applicant) ---
    path("payments/apply/<uuid:application_id>/pay", applicant.payment_start, name="start"),
    path("payments/return/<str:token>", applicant.payment_return, name="return"),
    path("payments/<uuid:payment_id>/", applicant.payment_detail, name="payment_detail"),
    path("payments/<uuid:payment_id>/receipt", applicant.payment_receipt, name="receipt"),
    path("payments/<uuid:payment_id>/receipt.pdf", applicant.payment_receipt_pdf, name="receipt_pdf"),
    # --- The built-in sandbox's hosted payment page (govserve.payments.views.sandbox) ---
    path("payments/sandbox/<str:provider_id>/", sandbox.sandbox_page, name="sandbox_page"),
    # --- Staff: refunds, reconciliation; the providers' webhooks (their own modules) ---
    # Finance staff (govserve.payments.views.staff): refund a payment, reconcile a period.
    path("staff/payments/<uuid:payment_id>/refund", staff.refund, name="refund"),
    path("staff/payments/reconciliation", staff.reconciliation, name="reconciliation"),
    # GOV.UK Pay's signed webhooks (govserve.payments.views.webhooks; no page, no session).
    path("api/payments/govukpay/webhooks", webhooks.govuk_pay_webhook, name="govukpay_webhook"),
]
