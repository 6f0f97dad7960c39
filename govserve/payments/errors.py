"""Payments' typed errors (the web shows the message; the API answers with the status and code)."""

from __future__ import annotations

from govserve.core.errors import ApplicationError, ConflictError, NotFoundError


class PaymentProviderUnavailableError(ApplicationError):
    """The provider could not be reached or answered 5xx/429: try again later (jobs retry)."""

    code = "payment_provider_unavailable"
    status = 503


class PaymentProviderRefusedError(ApplicationError):
    """The provider refused the request (4xx); ``extra['provider_code']`` carries its code (P0604...)."""

    code = "payment_provider_refused"
    status = 422


class PaymentProviderResponseInvalidError(PaymentProviderUnavailableError):
    """The provider answered 2xx with a body it does not document (a field missing, an unknown state).

    A kind of unavailable (the caller retries later; the log says what was
    wrong in ``extra['detail']``), never a ``KeyError`` and a 500.
    """

    code = "payment_provider_response_invalid"
    status = 502


class PaymentWebhookInvalidError(ApplicationError):
    """A webhook whose signature does not match, or whose body is not the provider's."""

    code = "payment_webhook_invalid"
    status = 400


class PaymentNotFoundError(NotFoundError):
    """No such payment, or not one the caller may see."""

    code = "payment_not_found"


class PaymentNotDueError(ConflictError):
    """Nothing is due: the application is not awaiting payment (paid already, withdrawn...)."""

    code = "payment_not_due"


class RefundNotPossibleError(ConflictError):
    """The refund is larger than what is left to refund, or the payment did not succeed."""

    code = "refund_not_possible"
