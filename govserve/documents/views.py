"""The one way a document leaves govserve: decrypted, permission-checked, audited, and served defensively.

``GET /documents/<uuid>`` answers with the file's bytes when a viewer of the
request may see it (:func:`govserve.documents.selectors.document_open`):

- ``Content-Type`` is the *sniffed* type (what the bytes are), never the
  browser's claim at upload;
- PDF, PNG and JPEG are ``inline``; every other type is an ``attachment``;
  SVG and HTML are never accepted at all;
- ``Content-Disposition`` carries an ASCII ``filename`` and the exact name
  as ``filename*`` (RFC 6266 / RFC 8187), built from the sanitised name;
- ``Content-Security-Policy: sandbox; default-src 'none'; ...`` so even a
  file a browser managed to render as a page runs no script, has an opaque
  origin and can load nothing; ``X-Content-Type-Options: nosniff``;
  ``Cache-Control: private, no-store``; ``Referrer-Policy: no-referrer``.

A refused viewer and an unknown id both get the ordinary 404 page.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from govserve.documents import errors, selectors
from govserve.documents.access import viewers_for_request

DOCUMENT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")


def content_disposition(filename: str, *, inline: bool) -> str:
    """Return a Content-Disposition value for ``filename`` (RFC 6266 with an RFC 8187 ``filename*``)."""
    # Accents go (NFKD splits "ë" into "e" and a combining mark), anything else unsafe becomes "_".
    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_name = "".join(character for character in decomposed if not unicodedata.combining(character))
    fallback = _FALLBACK_UNSAFE.sub("_", ascii_name).strip(" .") or "document"
    encoded = urllib.parse.quote(filename, safe="")
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


@require_GET
def document_download(request: HttpRequest, document_id: uuid.UUID) -> HttpResponse:
    """Serve a document to a viewer who may see it (see the module docstring)."""
    try:
        opened = selectors.document_open(viewers=viewers_for_request(request), document_id=document_id)
    except errors.DocumentNotFoundError as error:
        raise Http404(error.message) from error
    except errors.DocumentNotAvailableError as error:
        response = render(request, "documents/not_available.html", {"message": error.message}, status=error.status)
        response["Cache-Control"] = "private, no-store"
        return response
    response = HttpResponse(opened.content, content_type=opened.content_type)
    response["Content-Disposition"] = content_disposition(opened.filename, inline=opened.inline)
    response["Content-Length"] = str(len(opened.content))
    response["Content-Security-Policy"] = DOCUMENT_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    patch_vary_headers(response, ["Cookie"])
    return response
