"""Identifiers: UUIDs for rows, short human references for people.

References use an alphabet without look-alike characters (no 0/O, 1/I/L,
2/Z, 5/S, 8/B, U/V) so they can be read over the phone and typed from paper.
"""

import secrets
import uuid

REFERENCE_ALPHABET = "34679ACDEFGHJKMNPQRTWXY"


def new_uuid() -> uuid.UUID:
    """Return a new random UUID (version 4)."""
    return uuid.uuid4()


def new_reference(length: int = 8, *, group: int = 4) -> str:
    """Return a random reference such as ``HX7D-94MC`` (about 36 bits at length 8)."""
    characters = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))
    return "-".join(characters[i : i + group] for i in range(0, length, group))


def normalise_reference(text: str) -> str:
    """Return ``text`` as a canonical reference: upper case, dashes and spaces dropped, regrouped."""
    characters = "".join(ch for ch in text.upper() if ch.isalnum())
    return "-".join(characters[i : i + 4] for i in range(0, len(characters), 4))
