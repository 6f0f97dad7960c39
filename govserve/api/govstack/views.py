"""The GovStack Registration BB operations (registration-bb-api.json, registration-bb-statistics-api.json).

Catalogue reads (services, e-forms) are public: no identity needed. The
statistics need a known client (400 without or with a malformed
``Information-Mediator-Client``, 403 for an unknown one).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.http import HttpRequest

from govserve.api.govstack import selectors
from govserve.api.govstack.http import RequestInvalidError, operation
from govserve.api.govstack.identity import Caller

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
