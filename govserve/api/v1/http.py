"""Response helpers: JSON with an ETag (``If-None-Match`` answers 304), and opaque cursors.

The ETag is a strong validator of the exact bytes of the JSON body (SHA-256,
first 32 hex digits): two reads that would return the same body have the
same tag, whatever changed underneath.

Cursors are base64url JSON, opaque to clients; a cursor that does not
decode to what the list expects is refused (400 ``cursor_invalid``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags
from pydantic import BaseModel

from govserve.api import errors

CURSOR_MAX_LENGTH = 500


def json_response(request: HttpRequest, payload: BaseModel, *, status: int = 200) -> HttpResponse:
    """Return ``payload`` as JSON with its ETag; 304 with no body if the request's If-None-Match has that tag."""
    body = payload.model_dump_json().encode("utf-8")
    tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    if status == 200:
        wanted = parse_etags(request.headers.get("If-None-Match", ""))
        if tag in wanted or "*" in wanted:
            response = HttpResponse(status=304)
            response["ETag"] = tag
            return response
    response = HttpResponse(body, status=status, content_type="application/json")
    response["ETag"] = tag
    return response


def cursor_encode(position: dict[str, Any]) -> str:
    """Return the opaque cursor of ``position``."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def cursor_decode(cursor: str, *, keys: set[str]) -> dict[str, Any]:
    """Return the position of ``cursor`` (a JSON object with exactly ``keys``); raise CursorInvalidError."""
    refused = errors.CursorInvalidError("The cursor is not valid: use the next_cursor of the previous page")
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise refused
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refused from None
    if not isinstance(position, dict) or set(position) != keys:
        raise refused
    return position
