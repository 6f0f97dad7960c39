"""A client for ClamAV's ``clamd`` speaking its INSTREAM protocol, over TCP or a unix socket.

The protocol (clamd(8), "INSTREAM"), with the ``z`` prefix for NUL-terminated
commands and replies::

    -> "zINSTREAM\\0"
    -> <4-byte big-endian length><that many bytes>     (repeated, each chunk at most CHUNK_SIZE)
    -> <4 zero bytes>                                  (end of stream)
    <- "stream: OK\\0"                                  clean
    <- "stream: Eicar-Test-Signature FOUND\\0"          infected (the signature name)
    <- "INSTREAM size limit exceeded. ERROR\\0"         no verdict (clamd's StreamMaxLength)

The file never touches clamd's disk: clamd reads it from the socket. clamd's
``StreamMaxLength`` (default 25 MB) must be at least govserve's upload
ceiling (``GOVSERVE_UPLOAD_MAX_BYTES``), else big files get no verdict and
stay *failed*. Each call opens its own connection (clamd serves one command
per connection without IDSESSION), so the client is safe across threads and
processes. Every socket operation runs against one deadline: ``timeout``
bounds the whole scan, not each read.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterable, Iterator

from govserve.documents.errors import ScannerError, ScannerUnavailableError
from govserve.documents.scanning.base import ScanResult, Verdict

CHUNK_SIZE = 64 * 1024
MAX_REPLY_BYTES = 8192
DEFAULT_CONNECT_TIMEOUT = 2.0


class ClamdScanner:
    """Scan through a clamd daemon at ``host``:``port`` (TCP) or at ``path`` (unix socket)."""

    name = "clamd"
    is_test = False

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        path: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        if (path is None) == (host is None or port is None):
            msg = "give either host and port, or a unix socket path"
            raise ValueError(msg)
        self.host = host
        self.port = port
        self.path = path
        self.connect_timeout = connect_timeout

    @property
    def address(self) -> str:
        """Return where the daemon listens, as configured (``clamd://host:port`` or ``unix:///path``)."""
        return f"unix://{self.path}" if self.path is not None else f"clamd://{self.host}:{self.port}"

    @property
    def label(self) -> str:
        return f"ClamAV clamd at {self.address}"

    def __repr__(self) -> str:
        return f"ClamdScanner({self.address})"

    # --- Connection -------------------------------------------------------------------------

    def _connect(self, deadline: float) -> socket.socket:
        timeout = min(self.connect_timeout, max(0.001, deadline - time.monotonic()))
        try:
            if self.path is not None:
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    connection.settimeout(timeout)
                    connection.connect(self.path)
                except BaseException:
                    connection.close()
                    raise
                return connection
            assert self.host is not None  # noqa: S101 - established in __init__
            return socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as error:  # refused, no such socket file, unreachable, timed out
            msg = f"clamd at {self.address} is not reachable: {type(error).__name__}"
            raise ScannerUnavailableError(msg) from error

    @staticmethod
    def _remaining(deadline: float, address: str) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            msg = f"clamd at {address} did not answer in time"
            raise ScannerUnavailableError(msg)
        return remaining

    def _send(self, connection: socket.socket, data: bytes, deadline: float) -> None:
        connection.settimeout(self._remaining(deadline, self.address))
        connection.sendall(data)

    def _reply(self, connection: socket.socket, deadline: float) -> str:
        received = b""
        while b"\0" not in received:
            connection.settimeout(self._remaining(deadline, self.address))
            try:
                part = connection.recv(1024)
            except TimeoutError as error:
                msg = f"clamd at {self.address} did not answer in time"
                raise ScannerUnavailableError(msg) from error
            if not part:
                break
            received += part
            if len(received) > MAX_REPLY_BYTES:
                msg = f"clamd at {self.address} sent an over-long reply"
                raise ScannerError(msg)
        if b"\0" not in received:
            msg = f"clamd at {self.address} closed the connection without a complete reply: {received[:200]!r}"
            raise ScannerError(msg)
        return received.split(b"\0", 1)[0].decode("utf-8", "replace").strip()

    def _command(self, command: bytes, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self._connect(deadline) as connection:
            try:
                self._send(connection, b"z" + command + b"\0", deadline)
                return self._reply(connection, deadline)
            except TimeoutError as error:
                msg = f"clamd at {self.address} did not answer in time"
                raise ScannerUnavailableError(msg) from error
            except OSError as error:
                msg = f"clamd at {self.address} dropped the connection: {type(error).__name__}"
                raise ScannerUnavailableError(msg) from error

    # --- Commands ---------------------------------------------------------------------------

    def ping(self, *, timeout: float = 2.0) -> bool:
        """Return whether the daemon answers PING with PONG (readiness probes, the test fixture)."""
        try:
            return self._command(b"PING", timeout) == "PONG"
        except ScannerError:
            return False

    def version(self, *, timeout: float = 2.0) -> str:
        """Return the daemon's VERSION reply ("ClamAV 1.4.6/..."); raise as :meth:`scan` does."""
        return self._command(b"VERSION", timeout)

    @staticmethod
    def _pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            for start in range(0, len(chunk), CHUNK_SIZE):
                yield chunk[start : start + CHUNK_SIZE]

    def scan(self, chunks: Iterable[bytes], *, timeout: float) -> ScanResult:
        """Stream ``chunks`` to clamd with INSTREAM and return its verdict, all within ``timeout`` seconds.

        Raise ScannerUnavailableError when clamd is unreachable, drops the
        connection or answers too late; ScannerError when it answers without
        a verdict (size limit, an ERROR reply, an unknown reply).
        """
        deadline = time.monotonic() + timeout
        with self._connect(deadline) as connection:
            try:
                self._send(connection, b"zINSTREAM\0", deadline)
                try:
                    for piece in self._pieces(chunks):
                        if piece:
                            self._send(connection, struct.pack(">I", len(piece)) + piece, deadline)
                    self._send(connection, struct.pack(">I", 0), deadline)
                except (BrokenPipeError, ConnectionResetError):
                    # clamd stops reading and answers at once when a limit is hit: read why.
                    pass
                reply = self._reply(connection, deadline)
            except TimeoutError as error:
                msg = f"clamd at {self.address} did not answer in time"
                raise ScannerUnavailableError(msg) from error
            except OSError as error:
                msg = f"clamd at {self.address} dropped the connection: {type(error).__name__}"
                raise ScannerUnavailableError(msg) from error
        return self._verdict(reply)

    def _verdict(self, reply: str) -> ScanResult:
        subject, _, result = reply.partition(": ")
        if subject == "stream" and result == "OK":
            return ScanResult(verdict=Verdict.CLEAN)
        if subject == "stream" and result.endswith(" FOUND"):
            signature = result.removesuffix(" FOUND").strip()
            return ScanResult(verdict=Verdict.INFECTED, signature=signature[:200] or "unknown")
        msg = f"clamd at {self.address} gave no verdict: {reply[:200]!r}"
        raise ScannerError(msg)
