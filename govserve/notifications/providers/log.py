"""Log provider for the demo and development: nothing leaves the machine.

The message stays sealed in the database (the demo mail page shows it there);
the log line carries ids only, never the address, subject or body.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from govserve.notifications.providers.base import OutgoingEmail, OutgoingSms, ProviderResult, ProviderStatus

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LogProvider:
    """Record the message as delivered and log its ids (``EMAIL_URL=log://``)."""

    name: str = "log"

    def send(self, message: OutgoingEmail) -> ProviderResult:
        """Log ``message``'s ids and return it as delivered."""
        logger.info("email.delivered_to_log", email_id=message.reference, message_id=message.message_id)
        return ProviderResult(provider=self.name, reference=f"log:{message.reference}", status=ProviderStatus.DELIVERED)


@dataclass(frozen=True)
class LogSmsProvider:
    """Record the text message as delivered and log its ids (``SMS_URL=log://``)."""

    name: str = "log"

    def send(self, message: OutgoingSms) -> ProviderResult:
        """Log ``message``'s ids and return it as delivered."""
        logger.info("sms.delivered_to_log", sms_id=message.reference, notify_reference=message.notify_reference)
        return ProviderResult(provider=self.name, reference=f"log:{message.reference}", status=ProviderStatus.DELIVERED)
