"""GOV.UK Notify provider, email and text messages, through ``notifications-python-client``.

govserve renders every message itself (service definitions' templates,
platform templates), so Notify is used template-less, as many services do:
one generic Notify template per channel whose content is only placeholders,

- email template: subject ``((subject))``, body ``((body))``;
- text message template: ``((body))``;

and their ids are configured per environment (``NOTIFY_EMAIL_TEMPLATE_ID``,
``NOTIFY_SMS_TEMPLATE_ID``). Each request carries ``reference`` =
sha256(idempotency key)[:32], the same for every copy of a message (the hash
part of the email's Message-ID), which Notify returns in its delivery
callbacks.

Failures are classified for the delivery job:

- 400 (the request is wrong for this message: a bad address or number, a
  template id that does not exist) → :class:`PermanentProviderError`;
- 403 (the API key or its JWT refused: configuration), 429 (rate or daily
  limit), 5xx, timeouts and connection errors → :class:`TemporaryProviderError`
  (an operator or time can fix them; the job retries).

Error codes carry the HTTP status only (``notify_400``): Notify's messages can
quote what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from govserve.notifications.providers.base import (
    OutgoingEmail,
    OutgoingSms,
    PermanentProviderError,
    ProviderError,
    ProviderResult,
    ProviderStatus,
    TemporaryProviderError,
    notify_reference_of,
)

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"


@dataclass(frozen=True)
class NotifyConfig:
    """What a Notify provider needs: the API key (``name-service id-secret``), base URL, template ids."""

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    email_template_id: str = ""
    sms_template_id: str = ""
    timeout: float = 10.0

    def client(self) -> NotificationsAPIClient:
        """Return a new client (the client is not thread-safe: one per send)."""
        return NotificationsAPIClient(self.api_key, base_url=self.base_url, timeout=self.timeout)  # type: ignore[no-untyped-call]


def _classified(error: APIError) -> ProviderError:
    status = error.status_code
    if error.response is None:
        return TemporaryProviderError("notify_unreachable", type(error).__name__)
    if status == 400:
        return PermanentProviderError("notify_400", "request refused")
    return TemporaryProviderError(f"notify_{status}", "try later")


def _result(name: str, response: Any) -> ProviderResult:
    notification_id = str(response.get("id", "")) if isinstance(response, dict) else ""
    if not notification_id:
        raise TemporaryProviderError("notify_invalid_response", "no notification id")
    return ProviderResult(provider=name, reference=notification_id[:255], status=ProviderStatus.ACCEPTED)


@dataclass(frozen=True)
class NotifyEmailProvider:
    """Send email through GOV.UK Notify's generic email template (``EMAIL_URL=notify://``)."""

    config: NotifyConfig
    name: str = "notify"

    def send(self, message: OutgoingEmail) -> ProviderResult:
        """Send ``message``; return Notify's notification id as the provider reference."""
        try:
            response = self.config.client().send_email_notification(  # type: ignore[no-untyped-call]
                email_address=message.recipient,
                template_id=self.config.email_template_id,
                personalisation={"subject": message.subject, "body": message.body},
                reference=notify_reference_of(message),
            )
        except APIError as error:
            raise _classified(error) from None
        return _result(self.name, response)


@dataclass(frozen=True)
class NotifySmsProvider:
    """Send text messages through GOV.UK Notify's generic text template (``SMS_URL=notify://``)."""

    config: NotifyConfig
    name: str = "notify"

    def send(self, message: OutgoingSms) -> ProviderResult:
        """Send ``message``; return Notify's notification id as the provider reference."""
        try:
            response = self.config.client().send_sms_notification(  # type: ignore[no-untyped-call]
                phone_number=message.recipient,
                template_id=self.config.sms_template_id,
                personalisation={"body": message.body},
                reference=message.notify_reference,
            )
        except APIError as error:
            raise _classified(error) from None
        return _result(self.name, response)
