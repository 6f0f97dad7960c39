"""The built-in test scanner: it finds the EICAR test string and NOTHING ELSE.

**Test scanner, not malware protection.** It exists so that development,
demos and the test suite exercise the whole scanning path (pending, clean,
infected, blocked submission) without a ClamAV daemon. It detects the
68-byte EICAR anti-virus test string anywhere in the file, as ClamAV with
govserve's shipped test signature does. Every place that shows the scanner
says "test scanner, not malware protection", and ``govserve check --deploy``
warns (documents.W001) when production runs with it.

(The file name is the one the scanning package documents; ``__test__ =
False`` keeps pytest from collecting it as a test module.)
"""

from __future__ import annotations

from collections.abc import Iterable

from govserve.documents.scanning.base import TEST_SCANNER_LABEL, ScanResult, Verdict

__test__ = False

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
"""The EICAR anti-virus test string (harmless by design; every scanner detects it)."""
EICAR_SIGNATURE = "Eicar-Test-Signature"


class EicarTestScanner:
    """Find the EICAR test string in a stream of chunks — test scanner, not malware protection."""

    name = "test"
    label = TEST_SCANNER_LABEL
    is_test = True

    def scan(self, chunks: Iterable[bytes], *, timeout: float) -> ScanResult:
        """Return INFECTED (signature ``Eicar-Test-Signature``) when the EICAR string occurs, else CLEAN."""
        tail = b""
        for chunk in chunks:
            window = tail + chunk
            if EICAR in window:
                return ScanResult(verdict=Verdict.INFECTED, signature=EICAR_SIGNATURE)
            tail = window[-(len(EICAR) - 1) :]
        return ScanResult(verdict=Verdict.CLEAN)
