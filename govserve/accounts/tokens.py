"""One-time link tokens: 256 random bits shown once, only their SHA-256 stored.

A plain (unkeyed) hash suffices: the token has full entropy, so the hash
cannot be inverted by guessing, and a database reader gains nothing usable.
"""

from __future__ import annotations

import hashlib
import re
import secrets

_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def token_new() -> tuple[str, str]:
    """Return ``(token, token_hash)`` for a new one-time link."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of ``token`` (what the database stores)."""
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def token_well_formed(token: str) -> bool:
    """Return whether ``token`` has the shape :func:`token_new` produces (cheap refusal of junk)."""
    return bool(_TOKEN_SHAPE.match(token))
