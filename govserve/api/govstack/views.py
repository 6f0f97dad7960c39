"""The GovStack Registration BB operations (registration-bb-api.json, registration-bb-statistics-api.json).

Catalogue reads (services, e-forms) are public: no identity needed. The
statistics, application files and documents need a known client (400 without or with a malformed
``Information-Mediator-Client``, 403 for an unknown one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from govserve.api.govstack import applications, bodies, documents, selectors
from govserve.api.govstack.http import RequestInvalidError, operation, problem
from govserve.api.govstack.identity import Caller
from govserve.api.models import ApiClient
from govserve.journeys.services import SUBMIT_KEY

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE_METHODS = ("GET", "PUT")


@operation("getServiceList", client_required=False)
def service_list(request: HttpRequest, caller: Caller) -> Any:
    """``GET /services?name=``: the live services (name contains ``name``); an empty list when none match."""
    return selectors.service_list(name=request.GET.get("name"))


@operation("getService", client_required=False)
def service_get(request: HttpRequest, caller: Caller, service_id: str) -> Any:
    """``GET /services/{serviceId}`` (GovStack UUID or govserve slug); 404 when unknown."""
    return selectors.service_get(service_id)


@operation("getServiceSchemaByServiceKey", client_required=False)
def service_eforms(request: HttpRequest, caller: Caller, service_id: str) -> Any:
    """``GET /services/{serviceId}/eForms``: one e-form per published version, newest first; 404 for no service."""
    return selectors.eform_list(service_id)


@operation("getEForm", client_required=False)
def eform_get(request: HttpRequest, caller: Caller, eform_id: str) -> Any:
    """``GET /eForms/{eFormId}``: the e-form with the JSON Schema of its answers; 404 when unknown."""
    return selectors.eform_get(eform_id)


def _date(request: HttpRequest, name: str) -> dt.date | None:
    text = request.GET.get(name)
    if text is None or text == "":
        return None
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise RequestInvalidError(f"{name} must be a date YYYY-MM-DD")


def _text(request: HttpRequest, name: str) -> str | None:
    text = (request.GET.get(name) or "").strip()
    if len(text) > 200:
        raise RequestInvalidError(f"{name} is longer than 200 characters")
    return text or None


@operation("Statistics", client_required=True)
def statistics(request: HttpRequest, caller: Caller) -> Any:
    """``GET /data/statistics`` and ``/data/statistics/1.0``: decisions counted, with the documented filters."""
    start, end = _date(request, "startDate"), _date(request, "endDate")
    if start is not None and end is not None and start > end:
        raise RequestInvalidError("startDate is after endDate")
    timeframe = request.GET.get("timeframe") or None
    if timeframe is not None and timeframe not in selectors.TIMEFRAMES:
        raise RequestInvalidError("timeframe is one of day, week, month, year")
    query = selectors.StatisticsQuery(
        start=start,
        end=end,
        registration_name=_text(request, "registrationName"),
        operator=_text(request, "operator"),
        role=_text(request, "role"),
        timeframe=timeframe,
    )
    return selectors.statistics(query)


def _integer(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    text = request.GET.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise RequestInvalidError(f"{name} is a whole number from {low} to {high}")
    return int(text)


def _client_of(caller: Caller) -> ApiClient:
    if caller.client is None:  # operations with client_required=True never get here without one
        msg = "a GovStack operation that needs a client was called without one"
        raise TypeError(msg)
    return caller.client


@operation("getApplicantFileList", client_required=True)
def application_list(request: HttpRequest, caller: Caller) -> Any:
    """``GET /applications``: the client's application files, filtered and paged; no match is ``[]``."""
    sort_order = request.GET.get("sortOrder") or "desc"
    if sort_order not in {"asc", "desc"}:
        raise RequestInvalidError("sortOrder is asc or desc")
    sort_by = request.GET.get("sortBy") or "created"
    if sort_by not in applications.SORTS:
        raise RequestInvalidError(f"sortBy is one of {', '.join(applications.SORTS)}")
    return applications.application_list(
        _client_of(caller),
        base_url=_documents_base(request),
        service_id=_text(request, "serviceId"),
        applicant_id=_text(request, "applicantId"),
        first=_integer(request, "firstResult", 0, 0, 1_000_000),
        count=_integer(request, "maxResult", 20, 1, applications.MAX_RESULTS),
        sort_by=sort_by,
        descending=sort_order == "desc",
    )


def _documents_base(request: HttpRequest) -> str:
    """Return the absolute address documents are named under (``.../documents/``), on whichever port was called."""
    return request.build_absolute_uri(reverse("govstack:document_upload") + "/")


@operation("getApplicationFileById", client_required=True, allow=FILE_METHODS)
def application_get(request: HttpRequest, caller: Caller, file_id: str) -> Any:
    """``GET /applications/{fileId}`` (id or reference): the file with its answers; 404 when not the client's."""
    return applications.application_get(_client_of(caller), file_id, base_url=_documents_base(request))


@operation("updateApplicationFileForm", methods=("PUT",), client_required=True, allow=FILE_METHODS)
def application_update(request: HttpRequest, caller: Caller, file_id: str) -> Any:
    """``PUT /applications/{fileId}``: update the client's draft or sent-back file and send it; the file."""
    body = bodies.file_submission(request)
    return applications.file_update(_client_of(caller), file_id, body, base_url=_documents_base(request))


@csrf_exempt  # machine clients, no cookies: X-Road or mutual TLS authenticates them
def application_file(request: HttpRequest, file_id: str) -> HttpResponse:
    """``/applications/{fileId}``: GET reads the file, PUT updates it (each its own operation, audited as such)."""
    view = application_update if request.method == "PUT" else application_get
    response: HttpResponse = view(request, file_id=file_id)
    return response


@operation("submitApplicationFile", methods=("POST",), client_required=True)
def application_create(request: HttpRequest, caller: Caller, service_id: str) -> Any:
    """``POST /services/{serviceId}/applications``: start, fill and send an application file; the file."""
    body = bodies.file_submission(request)
    return applications.file_create(
        _client_of(caller),
        service_id,
        body,
        base_url=_documents_base(request),
        idempotency=_idempotency(request, service_id),
    )


class IdempotencyKeyInvalidError(RequestInvalidError):
    """An ``Idempotency-Key`` that is not 8 to 100 letters, digits, ``-`` or ``_``."""

    code = "idempotency_key_invalid"


def _idempotency(request: HttpRequest, service_id: str) -> applications.Idempotency | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not SUBMIT_KEY.match(key):
        raise IdempotencyKeyInvalidError("The Idempotency-Key is 8 to 100 letters, digits, hyphens or underscores")
    digest = hashlib.sha256()
    for part in (service_id.encode(), bodies.media_type(request).encode(), request.body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return applications.Idempotency(key=key, digest=digest.hexdigest())


@operation("uploadFile", methods=("POST",), client_required=True)
def document_upload(request: HttpRequest, caller: Caller) -> Any:
    """``POST /documents``: keep a document (multipart file, or base64 text) for an application file to name."""
    document = documents.document_keep(_client_of(caller), documents.sent_document(request))
    return {
        "code": 200,
        "type": document.content_type,
        "message": f"Uploaded as document {document.id}: name its url in documentUrls or as a file answer",
        "url": _documents_base(request) + str(document.id),
    }


@operation("getDocument", client_required=True)
def document_get(request: HttpRequest, caller: Caller, document_id: str) -> Any:
    """``GET /documents/{documentId}`` (govserve's): the bytes of a document the client uploaded or its file holds."""
    opened = documents.document_read(_client_of(caller), document_id)
    response = HttpResponse(opened.content, content_type=opened.content_type)
    response["Content-Disposition"] = f'attachment; filename="document-{opened.id}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer an unknown path on the GovStack port (``handler404`` of config.urls_govstack) with a JSON 404."""
    return problem(selectors.GovStackNotFoundError("There is no GovStack operation at this address"))
