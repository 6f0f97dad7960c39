"""A real SMTP server on loopback for tests (aiosmtpd), shared by every app that sends email.

::

    from govserve.notifications.testing import smtp_sink

    with smtp_sink() as sink:
        settings.EMAIL_URL = sink.url
        ...                            # send, run_pending()
        [received] = sink.received
        assert received.message["Subject"] == "Sign in to Westmoor"
        assert "https://" in received.body

The server speaks real SMTP on a free port of 127.0.0.1. ``refuse_recipient``
makes it answer RCPT TO for an address with a chosen reply (``550 5.1.1 ...``
for permanent, ``451 4.3.0 ...`` for temporary failures); ``data_reply`` makes
it answer the end of DATA with a chosen reply instead of accepting.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedEmail:
    """One message the server accepted: envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes = field(repr=False)

    @property
    def message(self) -> EmailMessage:
        """Return the message parsed with the modern policy (decoded headers)."""
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        if not isinstance(parsed, EmailMessage):
            msg = "the modern email policy returns EmailMessage"
            raise TypeError(msg)
        return parsed

    @property
    def body(self) -> str:
        """Return the decoded plain-text body, with the wire's CRLF line endings as LF."""
        part = self.message.get_body(preferencelist=("plain",))
        content = part.get_content() if part is not None else None
        if not isinstance(content, str):
            msg = "the message has no plain-text body"
            raise TypeError(msg)
        return content.replace("\r\n", "\n")


class SmtpSink:
    """The aiosmtpd handler and its record of what arrived."""

    def __init__(self) -> None:
        self.received: list[ReceivedEmail] = []
        self.recipient_replies: dict[str, str] = {}
        self.data_reply: str | None = None
        self.port = 0
        self._lock = threading.Lock()
        self._count = 0

    @property
    def url(self) -> str:
        """Return the EMAIL_URL that reaches this server."""
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    def refuse_recipient(self, address: str, reply: str) -> None:
        """Answer RCPT TO for ``address`` with ``reply`` (for example ``550 5.1.1 User unknown``)."""
        self.recipient_replies[address] = reply

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.recipient_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        if self.data_reply is not None:
            return self.data_reply
        with self._lock:
            self._count += 1
            self.received.append(
                ReceivedEmail(mail_from=envelope.mail_from, rcpt_tos=tuple(envelope.rcpt_tos), data=envelope.content)
            )
            return f"250 2.0.0 Ok: queued as SINK{self._count}"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (for a server about to start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_sink(*, port: int | None = None) -> Iterator[SmtpSink]:
    """Run a real SMTP server on loopback for the duration of the block (on ``port``, or a free one)."""
    sink = SmtpSink()
    sink.port = port or free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
