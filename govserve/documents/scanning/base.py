"""The scanner protocol and its configuration.

``settings.GOVSERVE_SCANNER`` (environment variable of the same name) picks the scanner:

=================================  ==========================================================
``clamd://127.0.0.1:3310``         ClamAV's ``clamd`` over TCP (:mod:`.clamd`, INSTREAM)
``unix:///run/clamav/clamd.ctl``   ClamAV's ``clamd`` over its unix socket
``test``                           the built-in test scanner (:mod:`.test_scanner`): it finds
                                   the EICAR test string and nothing else — **test scanner,
                                   not malware protection**; ``govserve check --deploy`` warns
=================================  ==========================================================

A scanner answers :class:`ScanResult` (clean, or infected with a signature
name), or raises :class:`~govserve.documents.errors.ScannerUnavailableError`
(not reachable, too slow) or :class:`~govserve.documents.errors.ScannerError`
(no verdict: a limit, a protocol error). It never decides what happens to
the document: the upload service and the scan job do.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TEST_SCANNER_LABEL = "test scanner, not malware protection"
DEFAULT_CLAMD_PORT = 3310


class Verdict(StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"


@dataclass(frozen=True)
class ScanResult:
    """A scanner's verdict; ``signature`` names what was found (empty when clean)."""

    verdict: Verdict
    signature: str = ""

    @property
    def infected(self) -> bool:
        return self.verdict is Verdict.INFECTED


@runtime_checkable
class Scanner(Protocol):
    """What every scanner offers: a short ``name`` stored with each verdict, a ``label`` for people, ``scan``."""

    @property
    def name(self) -> str:
        """Return the short name stored with each verdict ("clamd", "test")."""
        ...

    @property
    def label(self) -> str:
        """Return what people are shown ("ClamAV clamd at ...", "test scanner, not malware protection")."""
        ...

    @property
    def is_test(self) -> bool:
        """Return whether this is the test scanner (no malware protection)."""
        ...

    def scan(self, chunks: Iterable[bytes], *, timeout: float) -> ScanResult:
        """Scan the bytes given as ``chunks`` within ``timeout`` seconds and return the verdict.

        Raise ScannerUnavailableError when the scanner cannot be reached or
        answers too late, ScannerError when it answers without a verdict.
        """
        ...


def scanner_from_url(url: str) -> Scanner:
    """Return the scanner that ``url`` names (see the module docstring); raise ImproperlyConfigured otherwise."""
    from govserve.documents.scanning.clamd import ClamdScanner  # noqa: PLC0415 - avoids an import cycle
    from govserve.documents.scanning.test_scanner import EicarTestScanner  # noqa: PLC0415

    text = url.strip()
    if text == "test":
        return EicarTestScanner()
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme == "clamd":
        try:
            port = parsed.port or DEFAULT_CLAMD_PORT
        except ValueError as error:
            msg = f"GOVSERVE_SCANNER {text!r}: the port is not a number from 1 to 65535"
            raise ImproperlyConfigured(msg) from error
        if not parsed.hostname or parsed.path not in ("", "/") or parsed.query:
            msg = f"GOVSERVE_SCANNER {text!r}: write clamd://HOST:PORT, e.g. clamd://127.0.0.1:3310"
            raise ImproperlyConfigured(msg)
        return ClamdScanner(host=parsed.hostname, port=port)
    if parsed.scheme == "unix":
        if parsed.netloc or not parsed.path.startswith("/"):
            msg = f"GOVSERVE_SCANNER {text!r}: write unix:///ABSOLUTE/PATH, e.g. unix:///run/clamav/clamd.ctl"
            raise ImproperlyConfigured(msg)
        return ClamdScanner(path=parsed.path)
    msg = (
        f"GOVSERVE_SCANNER {text!r} is not a scanner: use clamd://HOST:PORT, unix:///PATH/clamd.ctl "
        "or test (test scanner, not malware protection)"
    )
    raise ImproperlyConfigured(msg)


def scanner_from_settings() -> Scanner:
    """Return the scanner ``settings.GOVSERVE_SCANNER`` names (read at each call, so tests can change it)."""
    return scanner_from_url(str(getattr(settings, "GOVSERVE_SCANNER", "test")))
