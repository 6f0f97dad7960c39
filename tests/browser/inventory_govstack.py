"""The GovStack Registration BB API's routes (govserve/api/govstack): JSON for machines, never a page."""

from __future__ import annotations

_JSON = "GovStack Registration BB API (application/json; charset=utf-8), no HTML"

GOVSTACK_NOT_PAGES: dict[str, str] = {
    "govstack:service_list": _JSON,
    "govstack:service_get": _JSON,
    "govstack:service_eforms": _JSON,
    "govstack:eform_get": _JSON,
    "govstack:application_list": _JSON,
    "govstack:application_get": _JSON,
    "govstack:statistics": _JSON,
    "govstack:statistics_versioned": _JSON,
    "govstack:application_create": _JSON,
    "govstack:document_upload": _JSON,
    "govstack:document_get": "a client's uploaded document, as its own type (the client's API, never a page)",
    "govstack:task_list": _JSON,
    "govstack:task_get": _JSON,
    "govstack:task_complete": _JSON,
}
