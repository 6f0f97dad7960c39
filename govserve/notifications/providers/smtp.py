"""SMTP provider: one connection per message through :mod:`smtplib`, with timeouts.

Failures are classified for the delivery job:

- connection refused or reset, timeouts, TLS failures, a greeting/EHLO/AUTH/
  STARTTLS refusal, and any 4xx reply → :class:`TemporaryProviderError`
  (these are about the server or our configuration, not this message; an
  operator can fix them and the job retries);
- a 5xx reply to MAIL FROM, RCPT TO or DATA → :class:`PermanentProviderError`
  (the server refuses this message; resending it unchanged cannot help).

A message counts as sent once the server answers 250 to the end of DATA; an
error while saying QUIT afterwards does not undo that.
"""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import functools
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from govserve.core import clock
from govserve.notifications.providers.base import (
    OutgoingEmail,
    PermanentProviderError,
    ProviderError,
    ProviderResult,
    ProviderStatus,
    TemporaryProviderError,
)

_REFERENCE_MAX = 255
_ADDRESS_LIKE = re.compile(r"\S+@\S+")


class SmtpSecurity(StrEnum):
    """How the connection is protected: none (loopback relays), STARTTLS (port 587) or implicit TLS (465)."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True)
class SmtpProvider:
    """Send email to one SMTP server (``EMAIL_URL=smtp://host:port`` and friends)."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    security: SmtpSecurity = SmtpSecurity.NONE
    timeout: float = 10.0
    name: str = "smtp"

    def send(self, message: OutgoingEmail) -> ProviderResult:
        """Send ``message``; return the server's reply to DATA as the reference."""
        payload = build_mime(message).as_bytes(policy=email.policy.SMTP)
        envelope_from = email.utils.parseaddr(message.sender)[1]
        # Errors are raised "from None": the smtplib exceptions quote the server's replies.
        try:
            smtp = self._connect()
        except smtplib.SMTPResponseException as error:  # refused greeting, EHLO, STARTTLS or AUTH
            raise TemporaryProviderError(f"smtp_{error.smtp_code}", "connect") from None
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryProviderError(_connection_error_code(error), type(error).__name__) from None
        try:
            reply = self._transact(smtp, envelope_from=envelope_from, recipient=message.recipient, payload=payload)
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryProviderError(_connection_error_code(error), type(error).__name__) from None
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()
        return ProviderResult(provider=self.name, reference=reply[:_REFERENCE_MAX], status=ProviderStatus.ACCEPTED)

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.security is SmtpSecurity.TLS:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=_tls_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo_or_helo_if_needed()
            if self.security is SmtpSecurity.STARTTLS:
                smtp.starttls(context=_tls_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    @staticmethod
    def _transact(smtp: smtplib.SMTP, *, envelope_from: str, recipient: str, payload: bytes) -> str:
        """Run MAIL, RCPT and DATA; return the final reply text or raise a classified provider error."""
        code, _reply = smtp.mail(envelope_from)
        _raise_for_reply("mail", code, accepted=(250,))
        code, _reply = smtp.rcpt(recipient)
        _raise_for_reply("rcpt", code, accepted=(250, 251))
        try:
            code, reply = smtp.data(payload)
        except smtplib.SMTPDataError as error:  # the server refused to start DATA (not 354)
            raise _reply_error("data", error.smtp_code) from None
        _raise_for_reply("data", code, accepted=(250,))
        return _reply_text(reply)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Return the verifying TLS context (system trust store), built once: loading the store takes ~100 ms."""
    return ssl.create_default_context()


def _raise_for_reply(stage: str, code: int, *, accepted: tuple[int, ...]) -> None:
    if code not in accepted:
        raise _reply_error(stage, code)


def _reply_error(stage: str, code: int) -> ProviderError:
    """Return the error for a refusing reply: permanent for 5xx, temporary otherwise (4xx, -1 = no reply)."""
    if 500 <= code <= 599:
        return PermanentProviderError(f"smtp_{code}", stage)
    return TemporaryProviderError(f"smtp_{code}", stage)


def _reply_text(reply: bytes | str) -> str:
    """Return the server's reply on one line, with anything that looks like an address masked."""
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply
    return _ADDRESS_LIKE.sub("[address]", " ".join(text.split()))


_CONNECTION_ERROR_CODES: tuple[tuple[type[BaseException], str], ...] = (
    (TimeoutError, "timeout"),
    (ConnectionRefusedError, "connection_refused"),
    (ssl.SSLError, "tls_error"),
    (smtplib.SMTPNotSupportedError, "smtp_extension_missing"),
    (smtplib.SMTPServerDisconnected, "server_disconnected"),
)


def _connection_error_code(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPServerDisconnected) and isinstance(error.__context__, OSError):
        # smtplib reports a read that timed out or failed as a disconnection: name the cause.
        return _connection_error_code(error.__context__)
    for kind, code in _CONNECTION_ERROR_CODES:
        if isinstance(error, kind):
            return code
    return "connection_error"


def build_mime(message: OutgoingEmail) -> EmailMessage:
    """Return the RFC 5322 message for ``message``: plain text, UTF-8, with its fixed Message-ID.

    ``Auto-Submitted`` and ``X-Auto-Response-Suppress`` ask servers not to
    answer with out-of-office replies; ``Content-Language`` names the language
    the text was rendered in. The policy refuses CR/LF in any header value.
    """
    mime = EmailMessage(policy=email.policy.SMTP)
    mime["From"] = message.sender
    mime["To"] = message.recipient
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(clock.now())
    mime["Message-ID"] = message.message_id
    mime["Auto-Submitted"] = "auto-generated"
    mime["X-Auto-Response-Suppress"] = "All"
    mime.set_content(message.body, charset="utf-8")
    mime["Content-Language"] = message.language  # after set_content, which resets Content-* headers
    return mime
