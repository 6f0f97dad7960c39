"""Fixtures of the encryption kernel's tests: key-encryption keys and a clean data key cache."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from govserve.privacy.crypto import data_key_cache_clear


def kek_entry(kek_id: str, fill: int) -> str:
    """Return a GOVSERVE_KEYS entry whose 32 key bytes are all ``fill`` (distinct, recognisable test keys)."""
    return f"{kek_id}:{base64.b64encode(bytes([fill]) * 32).decode('ascii')}"


OLD_KEK = kek_entry("old", 0x11)
NEW_KEK = kek_entry("new", 0x22)
OTHER_KEK = kek_entry("other", 0x33)


@pytest.fixture(autouse=True)
def _clean_data_key_cache() -> Iterator[None]:
    # Test transactions roll back: a key cached by one test must not outlive it.
    data_key_cache_clear()
    yield
    data_key_cache_clear()
