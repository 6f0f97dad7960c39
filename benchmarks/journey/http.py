"""A minimal HTTP/1.1 client over asyncio streams, for load generation on loopback.

A full client (httpx) costs about a millisecond of CPU per request, which on
a 2-core machine is CPU taken from the server under test; this one writes
the request bytes and reads the answer to the end. gunicorn's sync workers
close every connection after the response (no keep-alive), so each request
opens its own connection and the answer ends at end of file; the client
checks the received body against ``Content-Length``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

MAX_RESPONSE_BYTES = 8 * 1024 * 1024


class ExchangeError(Exception):
    """The server did not give a complete HTTP response."""


@dataclass(frozen=True)
class Response:
    """A received response: status, headers (names lower-cased, in order) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str:
        """Return the first value of header ``name`` (lower-case), or ""."""
        return next((value for key, value in self.headers if key == name), "")

    def headers_named(self, name: str) -> list[str]:
        """Return every value of header ``name`` (lower-case), such as each ``set-cookie``."""
        return [value for key, value in self.headers if key == name]


def request_bytes(*, method: str, path: str, host: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    """Return an HTTP/1.1 request (``Connection: close``; ``Content-Length`` when there is a body)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def response_parse(data: bytes) -> Response:
    """Parse a whole response (head and body, as read until the server closed)."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        raise ExchangeError(f"no complete response head ({len(data)} bytes)")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ExchangeError(f"bad status line {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ExchangeError(f"bad header line {line[:80]!r}")
        headers.append((name.strip().lower(), value.strip()))
    response = Response(status=int(parts[1]), headers=tuple(headers), body=body)
    length = response.header("content-length")
    if length and int(length) != len(body):
        raise ExchangeError(f"body of {len(body)} bytes, Content-Length {length}")
    return response


async def exchange(port: int, request: bytes, *, timeout: float = 30.0) -> Response:
    """Send ``request`` to 127.0.0.1:``port`` on a new connection and return the whole response."""

    async def run() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await writer.drain()
            chunks: list[bytes] = []
            received = 0
            while chunk := await reader.read(65536):
                chunks.append(chunk)
                received += len(chunk)
                if received > MAX_RESPONSE_BYTES:
                    raise ExchangeError(f"response over {MAX_RESPONSE_BYTES} bytes")
            return b"".join(chunks)
        finally:
            writer.close()

    data = await asyncio.wait_for(run(), timeout)
    return response_parse(data)
