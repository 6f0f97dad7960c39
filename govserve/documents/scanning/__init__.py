"""Malware scanners behind one small protocol, chosen by ``settings.GOVSERVE_SCANNER``.

See :mod:`govserve.documents.scanning.base` for the protocol and the URL forms.
"""

from govserve.documents.scanning.base import Scanner, ScanResult, Verdict, scanner_from_settings, scanner_from_url

__all__ = ["ScanResult", "Scanner", "Verdict", "scanner_from_settings", "scanner_from_url"]
