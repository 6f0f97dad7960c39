"""The scanners: the clamd INSTREAM adapter against a REAL clamd, the test scanner, configuration."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured

from govserve.documents.errors import ScannerError, ScannerUnavailableError
from govserve.documents.scanning import Verdict, scanner_from_url
from govserve.documents.scanning.clamd import CHUNK_SIZE, ClamdScanner
from govserve.documents.scanning.test_scanner import EICAR, EicarTestScanner
from govserve.documents.tests import samples
from govserve.documents.tests.conftest import ClamdDaemon


def _tcp(daemon: ClamdDaemon) -> ClamdScanner:
    return ClamdScanner(host="127.0.0.1", port=daemon.port)


def _unix(daemon: ClamdDaemon) -> ClamdScanner:
    return ClamdScanner(path=str(daemon.socket_path))


@pytest.mark.parametrize("connect", [_tcp, _unix], ids=["tcp", "unix-socket"])
def test_real_clamd_finds_eicar_over_both_transports(clamd_daemon: ClamdDaemon, connect: object) -> None:
    scanner = connect(clamd_daemon)  # type: ignore[operator]
    assert scanner.ping() is True
    assert scanner.version().startswith("ClamAV ")
    infected = scanner.scan([EICAR], timeout=10)
    assert (infected.verdict, infected.signature) == (Verdict.INFECTED, "Eicar-Test-Signature.UNOFFICIAL")
    clean = scanner.scan([samples.pdf_document()], timeout=10)
    assert (clean.verdict, clean.signature) == (Verdict.CLEAN, "")


def test_real_clamd_finds_eicar_split_across_chunks_deep_in_a_large_stream(clamd_daemon: ClamdDaemon) -> None:
    # Given EICAR straddling the adapter's chunk boundary, 3 MB into the stream, given in odd pieces
    payload = b"A" * (3 * 1024 * 1024 + CHUNK_SIZE - 30) + EICAR + b"B" * 1000
    pieces = [payload[start : start + 100_003] for start in range(0, len(payload), 100_003)]

    # When
    result = _tcp(clamd_daemon).scan(iter(pieces), timeout=30)

    # Then
    assert result.verdict is Verdict.INFECTED


def test_real_clamd_over_its_stream_limit_gives_no_verdict(clamd_daemon: ClamdDaemon) -> None:
    # The fixture's clamd has StreamMaxLength 30M: 31 MB is refused with an ERROR reply, not a verdict.
    block = b"\x00" * (1024 * 1024)
    with pytest.raises(ScannerError) as failed:
        _tcp(clamd_daemon).scan((block for _ in range(31)), timeout=30)
    assert not isinstance(failed.value, ScannerUnavailableError)
    assert "size limit exceeded" in str(failed.value)


def test_scanner_from_url_builds_the_real_adapter_for_both_forms(clamd_daemon: ClamdDaemon) -> None:
    for url in (clamd_daemon.tcp_url, clamd_daemon.unix_url):
        scanner = scanner_from_url(url)
        assert isinstance(scanner, ClamdScanner)
        assert scanner.scan([EICAR], timeout=10).verdict is Verdict.INFECTED


def test_an_unreachable_clamd_is_unavailable_quickly() -> None:
    # Given a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    # When / Then
    with pytest.raises(ScannerUnavailableError):
        ClamdScanner(host="127.0.0.1", port=port).scan([b"hello"], timeout=5)
    assert ClamdScanner(host="127.0.0.1", port=port).ping() is False
    with pytest.raises(ScannerUnavailableError):
        ClamdScanner(path="/nonexistent/clamd.ctl").scan([b"hello"], timeout=5)
    assert time.monotonic() - started < 3


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections, reads everything and never answers (a hung clamd)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        held: list[socket.socket] = []
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
                held.append(connection)
            except TimeoutError:
                continue
        for connection in held:
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_a_hung_clamd_is_unavailable_after_the_timeout(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(ScannerUnavailableError, match="did not answer in time"):
        ClamdScanner(host="127.0.0.1", port=silent_server).scan([b"hello"], timeout=0.5)
    assert 0.4 < time.monotonic() - started < 3


@pytest.fixture
def garbage_server() -> Iterator[int]:
    """A TCP server that answers every command with something that is not a verdict."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"UNKNOWN COMMAND\x00")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(timeout=5)
    listener.close()


def test_a_reply_that_is_no_verdict_is_a_scanner_error(garbage_server: int) -> None:
    with pytest.raises(ScannerError, match="gave no verdict") as failed:
        ClamdScanner(host="127.0.0.1", port=garbage_server).scan([b"x"], timeout=5)
    assert not isinstance(failed.value, ScannerUnavailableError)


def test_the_test_scanner_finds_eicar_anywhere_even_across_chunks() -> None:
    scanner = EicarTestScanner()
    assert (scanner.name, scanner.is_test, scanner.label) == ("test", True, "test scanner, not malware protection")
    payload = b"x" * 1000 + EICAR + b"y" * 10
    pieces = [payload[start : start + 7] for start in range(0, len(payload), 7)]
    result = scanner.scan(pieces, timeout=1)
    assert (result.verdict, result.signature) == (Verdict.INFECTED, "Eicar-Test-Signature")
    assert scanner.scan([samples.pdf_document()], timeout=1).verdict is Verdict.CLEAN
    assert scanner.scan([EICAR[:-1]], timeout=1).verdict is Verdict.CLEAN


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("test", "EicarTestScanner"),
        ("clamd://127.0.0.1:3310", "ClamdScanner(clamd://127.0.0.1:3310)"),
        ("clamd://scanner.internal", "ClamdScanner(clamd://scanner.internal:3310)"),
        ("unix:///run/clamav/clamd.ctl", "ClamdScanner(unix:///run/clamav/clamd.ctl)"),
    ],
)
def test_scanner_urls(url: str, expected: str) -> None:
    scanner = scanner_from_url(url)
    shown = type(scanner).__name__ if isinstance(scanner, EicarTestScanner) else repr(scanner)
    assert shown == expected


@pytest.mark.parametrize(
    "url",
    ["", "clamav://x", "clamd://:3310", "clamd://host:99999", "clamd://host/path", "unix://relative/x", "http://x"],
)
def test_bad_scanner_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="GOVSERVE_SCANNER"):
        scanner_from_url(url)
