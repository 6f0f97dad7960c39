"""Test key-encryption keys: fixed, recognisable, never used outside tests."""

from __future__ import annotations

import base64


def kek_entry(kek_id: str, fill: int) -> str:
    """Return a GOVSERVE_KEYS entry whose 32 key bytes are all ``fill``."""
    return f"{kek_id}:{base64.b64encode(bytes([fill]) * 32).decode('ascii')}"


OLD_KEK = kek_entry("old", 0x11)
NEW_KEK = kek_entry("new", 0x22)
OTHER_KEK = kek_entry("other", 0x33)
