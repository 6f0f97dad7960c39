"""The JSON API's routes (govserve/api): none renders a page a citizen or caseworker sees.

``/api/v1/docs`` is django-ninja's Swagger UI for developers integrating
with govserve, served offline from the django-ninja wheel's assets. It is
not audited with axe here: it is a third-party single-page application that
renders nothing without JavaScript, so it cannot meet the project's rule
for pages people see (GOV.UK markup, works without JavaScript). The
accessible reference for the same content is docs/api.md; the OpenAPI
document is the machine-readable one. tests/browser/test_api_docs.py checks
in chromium that it renders from this site's assets alone, with no console
or Content-Security-Policy error.
"""

from __future__ import annotations

_JSON = "JSON API (application/json or application/problem+json), no HTML"

API_NOT_PAGES: dict[str, str] = {
    "api_v1:api-root": "the API's root: ninja answers 404 problem+json (no page)",
    "api_v1:openapi-json": "the OpenAPI 3.1 document (application/json)",
    "api_v1:openapi-view": "Swagger UI for developers, assets served locally (see this module's docstring)",
    "api_v1:service_list": _JSON,
    "api_v1:service_get": _JSON,
    "api_v1:service_answers_schema": _JSON,
    "api_v1:application_create": _JSON,
    "api_v1:application_list": _JSON,
    "api_v1:application_get": _JSON,
    "api_v1:application_page_save": _JSON,
    "api_v1:application_page_upload": _JSON,
    "api_v1:application_document_upload": _JSON,
    "api_v1:application_messages": _JSON,
    "api_v1:application_message_send": _JSON,
    "api_v1:application_answers_save": _JSON,
    "api_v1:application_requirements": _JSON,
    "api_v1:application_submit": _JSON,
    "api_v1:application_history": _JSON,
    "api_v1:application_answers": _JSON,
    "api_v1:application_withdraw": _JSON,
    "api_v1:application_corrections": _JSON,
    "api_v1:application_corrections_document": _JSON,
    "api_v1:application_corrections_save": _JSON,
    "api_v1:application_delete": _JSON,
    "api_v1:application_document_remove": _JSON,
    "api_v1:application_group_item_add": _JSON,
    "api_v1:application_group_item_change": _JSON,
    "api_v1:application_group_item_remove": _JSON,
    "api_v1:application_group_items": _JSON,
    "api_v1:application_resubmit": _JSON,
    "api_v1:application_results": _JSON,
    "api_v1:sign_in_link_request": _JSON,
    "api_v1:sign_in_token": _JSON,
    "api_v1:task_assign": _JSON,
    "api_v1:task_counter_record": _JSON,
    "api_v1:tasks_reassign": _JSON,
    "api_v1:task_assignees": _JSON,
    "api_v1:task_claim": _JSON,
    "api_v1:task_decide": _JSON,
    "api_v1:task_get": _JSON,
    "api_v1:task_list": _JSON,
    "api_v1:task_message_send": _JSON,
    "api_v1:task_note_add": _JSON,
    "api_v1:task_processing_save": _JSON,
    "api_v1:task_release": _JSON,
    "api_v1:application_satisfaction": _JSON,
    "api_v1:application_answers_pdf": "the PDF copy of a sent application's answers for its client (application/pdf)",
    "api_v1:application_result_pdf": "a result's PDF for the applicant's client (application/pdf, no HTML)",
}
