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
it answer the end of DATA with a chosen reply instead of accepting; ``hold``
keeps the 250 back after the message is recorded, until :meth:`SmtpSink.release`.

:func:`fake_notify` runs a local fake of the GOV.UK Notify API that checks
the JWT and the payload as Notify does (:class:`FakeNotify`).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedEmail:
    """One message the server accepted: envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes = field(repr=False)
    received_at: float = 0.0  # time.time() when the server had the whole message

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
        self.hold = False
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
            count = self._count
            self.received.append(
                ReceivedEmail(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=envelope.content,
                    received_at=time.time(),
                )
            )
        while self.hold:  # the message is in; the answer waits (a test kills the sender meanwhile)
            await asyncio.sleep(0.02)
        return f"250 2.0.0 Ok: queued as SINK{count}"

    def release(self) -> None:
        """Let a held answer to DATA go (and answer later messages at once)."""
        self.hold = False


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


# --- A local fake of the GOV.UK Notify API ----------------------------------------------------------


@dataclass(frozen=True)
class NotifyRequest:
    """One request the fake Notify accepted: ``kind`` is ``email`` or ``sms``, ``payload`` the JSON body."""

    kind: str
    payload: dict[str, Any]
    notification_id: str


class FakeNotify:
    """A loopback HTTP server that answers like GOV.UK Notify's ``POST /v2/notifications/{email,sms}``.

    Each request must carry ``Authorization: Bearer <JWT>`` signed with HS256
    by the API key's secret, with ``iss`` = the service id and ``iat`` within
    30 seconds of now (Notify's rules; 403 ``AuthError`` otherwise). The body
    must name the configured template and the recipient, with string
    ``personalisation`` values: ``subject`` and ``body`` for email, ``body``
    for text messages (400 ``BadRequestError`` otherwise). Accepted requests
    answer 201 with a notification id and are kept in ``received``.

    Scripting: ``status_override`` answers every request with that status
    (500, 429...); ``hold`` keeps the answer back after the request was
    recorded until :meth:`release` (a worker killed meanwhile has sent the
    data and never heard back).
    """

    def __init__(self, *, email_template_id: str, sms_template_id: str) -> None:
        self.service_id = str(uuid.uuid4())
        self.secret = str(uuid.uuid4())
        self.email_template_id = email_template_id
        self.sms_template_id = sms_template_id
        self.received: list[NotifyRequest] = []
        self.refused: list[tuple[int, str]] = []
        self.status_override: int | None = None
        self.hold = False
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.port = 0

    @property
    def api_key(self) -> str:
        """Return an API key in Notify's form: ``<key name>-<service id>-<secret>``."""
        return f"govserve_test-{self.service_id}-{self.secret}"

    @property
    def base_url(self) -> str:
        """Return the NOTIFY_BASE_URL that reaches this server."""
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        """Let held answers go (and answer later requests at once)."""
        self.hold = False
        self._released.set()

    def check_token(self, header: str) -> str | None:
        """Return why ``header`` is not a valid Notify bearer token, or None when it is."""
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return "Unauthorized: authentication token must be provided"
        try:
            headers = jwt.get_unverified_header(token)
            claims = jwt.decode(token, key=self.secret, algorithms=["HS256"], options={"verify_iat": False})
        except jwt.InvalidTokenError as error:
            return f"Invalid token: {type(error).__name__}"
        if headers.get("alg") != "HS256" or headers.get("typ") != "JWT":
            return "Invalid token: algorithm used is not HS256"
        if claims.get("iss") != self.service_id:
            return "Invalid token: service not found"
        issued_at = claims.get("iat")
        if not isinstance(issued_at, int) or abs(time.time() - issued_at) > NOTIFY_TOKEN_BOUND_SECONDS:
            return "Error: Your system clock must be accurate to within 30 seconds"
        return None

    def check_payload(self, kind: str, payload: Any) -> str | None:  # noqa: PLR0911 - one answer per rule
        """Return why ``payload`` is not a valid send request of ``kind``, or None when it is."""
        if not isinstance(payload, dict):
            return "JSON body required"
        recipient, template_id, keys = (
            ("email_address", self.email_template_id, {"subject", "body"})
            if kind == "email"
            else ("phone_number", self.sms_template_id, {"body"})
        )
        allowed = {recipient, "template_id", "personalisation", "reference", "email_reply_to_id", "sms_sender_id"}
        if set(payload) - allowed:
            return f"Additional properties are not allowed ({', '.join(sorted(set(payload) - allowed))})"
        if not isinstance(payload.get(recipient), str) or not payload[recipient]:
            return f"{recipient} is a required property"
        if payload.get("template_id") != template_id:
            return (
                "template_id is not a valid UUID" if not _is_uuid(payload.get("template_id")) else "Template not found"
            )
        personalisation = payload.get("personalisation")
        if not isinstance(personalisation, dict) or set(personalisation) != keys:
            return f"Missing personalisation: {', '.join(sorted(keys))}"
        if not all(isinstance(value, str) for value in personalisation.values()):
            return "personalisation values must be strings"
        reference = payload.get("reference")
        if reference is not None and (not isinstance(reference, str) or len(reference) > NOTIFY_REFERENCE_MAX):
            return "reference must be a string of at most 1000 characters"
        return None

    def record(self, kind: str, payload: dict[str, Any]) -> NotifyRequest:
        with self._lock:
            request = NotifyRequest(kind=kind, payload=payload, notification_id=str(uuid.uuid4()))
            self.received.append(request)
        return request

    def wait_released(self) -> None:
        if self.hold:
            self._released.wait(timeout=60)


NOTIFY_TOKEN_BOUND_SECONDS = 30
NOTIFY_REFERENCE_MAX = 1000


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _notify_handler(fake: FakeNotify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: Mapping[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, error: str, message: str) -> None:
            fake.refused.append((status, message))
            self._answer(status, {"status_code": status, "errors": [{"error": error, "message": message}]})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            kind = {"/v2/notifications/email": "email", "/v2/notifications/sms": "sms"}.get(self.path)
            if kind is None:
                self._error(404, "BadRequestError", "Not found")
                return
            if fake.status_override is not None:
                self._error(fake.status_override, "Exception", "Internal server error")
                return
            problem = fake.check_token(self.headers.get("Authorization", ""))
            if problem is not None:
                self._error(403, "AuthError", problem)
                return
            try:
                payload = json.loads(raw)
            except ValueError:
                self._error(400, "BadRequestError", "Invalid JSON")
                return
            problem = fake.check_payload(kind, payload)
            if problem is not None:
                self._error(400, "ValidationError" if "required" in problem else "BadRequestError", problem)
                return
            request = fake.record(kind, payload)
            fake.wait_released()
            content = (
                {"subject": payload["personalisation"]["subject"], "body": payload["personalisation"]["body"]}
                if kind == "email"
                else {"body": payload["personalisation"]["body"]}
            )
            self._answer(
                201,
                {
                    "id": request.notification_id,
                    "reference": payload.get("reference"),
                    "content": content,
                    "uri": f"{fake.base_url}/v2/notifications/{request.notification_id}",
                    "template": {"id": payload["template_id"], "version": 1, "uri": f"{fake.base_url}/template"},
                },
            )

    return Handler


@contextmanager
def fake_notify(*, port: int | None = None) -> Iterator[FakeNotify]:
    """Run the fake Notify API on loopback for the duration of the block (on ``port``, or a free one)."""
    fake = FakeNotify(email_template_id=str(uuid.uuid4()), sms_template_id=str(uuid.uuid4()))
    server = ThreadingHTTPServer(("127.0.0.1", port or 0), _notify_handler(fake))
    server.daemon_threads = True
    fake.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="fake-notify", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
