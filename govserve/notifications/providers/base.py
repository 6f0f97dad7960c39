"""The one provider interface every outbound channel implements.

A provider takes one message and either returns a :class:`ProviderResult`
(the provider's reference and how far the message got) or raises a
:class:`TemporaryProviderError` (try again later: connection refused, timeout,
4xx) or a :class:`PermanentProviderError` (this message will never go: 5xx,
recipient unknown). Providers do no retries, no database work and no logging
of content; the delivery job around them owns status, retries and audit.

Email providers implement ``Provider[OutgoingEmail]`` (SMTP, GOV.UK Notify,
log); text-message providers ``Provider[OutgoingSms]`` (GOV.UK Notify, log):
one protocol, one message type per channel, so the delivery machinery treats
them alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

# CR, LF and NUL end or corrupt a header line; any of them in a header value is an injection attempt.
_HEADER_BREAKERS = re.compile(r"[\r\n\x00]")


class ProviderStatus(StrEnum):
    """How far a message got when the provider answered."""

    ACCEPTED = "accepted"  # the provider took responsibility (SMTP 250); delivery not yet confirmed
    DELIVERED = "delivered"  # the provider confirms delivery (log provider; Notify callbacks later)


@dataclass(frozen=True)
class ProviderResult:
    """The provider's answer to a send: its reference for the message and the status reached."""

    provider: str
    reference: str
    status: ProviderStatus


class ProviderError(Exception):
    """A failure to hand a message over; ``code`` is short and stable (``smtp_550``, ``connection_refused``).

    The message is the code and ``detail`` (the protocol stage or exception
    class), never the server's reply text: replies often quote the recipient's
    address, and job rows, tracebacks and logs keep these messages in clear.
    Providers raise it ``from None`` for the same reason.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code} ({detail})" if detail else code)
        self.code = code
        self.detail = detail


class TemporaryProviderError(ProviderError):
    """The message may go through later (server down, timeout, 4xx reply): retry."""


class PermanentProviderError(ProviderError):
    """The message will never go through as it is (5xx reply to this message): do not retry."""


def has_header_breaker(value: str) -> bool:
    """Return whether ``value`` contains CR, LF or NUL (and so must never become a header)."""
    return _HEADER_BREAKERS.search(value) is not None


@dataclass(frozen=True)
class OutgoingEmail:
    """One rendered email ready for a provider: plain values, held in memory only for the send.

    ``message_id`` is the RFC 5322 Message-ID with its angle brackets, derived
    from the idempotency key so every retry carries the same one;
    ``reference`` is govserve's id for the message (safe to log). Construction
    raises ValueError when a header value carries CR, LF or NUL.
    """

    reference: str
    message_id: str
    sender: str
    recipient: str
    subject: str
    body: str
    language: str = "en"

    def __post_init__(self) -> None:
        for header in ("reference", "message_id", "sender", "recipient", "subject", "language"):
            if has_header_breaker(getattr(self, header)):
                msg = f"the {header} of an email may not contain CR, LF or NUL"
                raise ValueError(msg)


@dataclass(frozen=True)
class OutgoingSms:
    """One rendered text message ready for a provider, held in memory only for the send.

    ``reference`` is govserve's id for the message (safe to log);
    ``notify_reference`` is derived from the idempotency key
    (sha256(key)[:32]), so every copy of the message carries the same one;
    ``recipient`` is a phone number in E.164 form (``+447700900123``).
    """

    reference: str
    notify_reference: str
    recipient: str
    body: str
    language: str = "en"


def notify_reference_of(message: OutgoingEmail) -> str:
    """Return the reference every copy of ``message`` carries: the hash part of its Message-ID."""
    return message.message_id.strip("<>").partition("@")[0]


MessageT_contra = TypeVar("MessageT_contra", contravariant=True)


class Provider(Protocol[MessageT_contra]):
    """Send one message through one channel; ``name`` is recorded with each message (``smtp``, ``log``)."""

    @property
    def name(self) -> str:
        """Return the provider's short name."""
        ...

    def send(self, message: MessageT_contra) -> ProviderResult:
        """Hand ``message`` over; raise TemporaryProviderError or PermanentProviderError on failure."""
        ...


EmailProvider = Provider[OutgoingEmail]
SmsProvider = Provider[OutgoingSms]
