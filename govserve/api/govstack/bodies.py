"""The request bodies of GovStack's write operations, read from JSON or ``application/x-www-form-urlencoded``.

An application file (``applicationFileSubmit``) comes as JSON::

    {"applicantId": "...", "formData": {"eFormId": "...", "data": {"location": {"street": "High Street"}}},
     "documentUrls": ["https://.../govstack/documents/<id>"]}

or form-encoded, the same members named by their path with dots or
brackets: ``applicantId=...``, ``formData.eFormId=...`` (or ``eFormId``),
``formData[data][location][street]=High+Street`` (or
``formData.data.location.street``, ``data.location.street``,
``location.street``), an address part one level deeper
(``location.address.line1``), ``documentUrls`` repeated; ``formData`` may
also be one member holding the JSON of the whole object. Form values are
text: they are turned into the answers' JSON forms by the fields' types
(:func:`form_answers_typed`: ``true``/``yes`` for yes/no, whole minor units
for money, a repeated member for checkboxes, an empty value for no answer).

``formData.data`` holds answers by page id then field id (as the files'
reads give them); answers by field id alone are taken too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, QueryDict

from govserve.api.govstack.http import RequestInvalidError
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions import schema

FORM = "application/x-www-form-urlencoded"
_BRACKET = re.compile(r"\[([^\]]*)\]")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_MEMBERS = {"applicantId", "applicationName", "created", "contactEmail", "documentUrls", "formData"}


class BodyTooLargeError(RequestInvalidError):
    """The body is larger than the platform takes (``DATA_UPLOAD_MAX_MEMORY_SIZE``)."""

    code = "body_too_large"


class BodyMalformedError(RequestInvalidError):
    """The body is not a JSON object (or a form) of the operation's shape."""

    code = "malformed_body"


@dataclass
class FileSubmission:
    """An ``applicationFileSubmit`` body: who applies, the e-form, its answers by page (or field), documents."""

    applicant_id: str
    application_name: str | None = None
    contact_email: str | None = None
    eform_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    document_urls: list[str] = field(default_factory=list)
    form_encoded: bool = False


def media_type(request: HttpRequest) -> str:
    """Return the request's media type, lower case, without parameters."""
    return (request.content_type or "").split(";", 1)[0].strip().lower()


def _invalid(member: str, message: str) -> BodyMalformedError:
    return BodyMalformedError(message, errors=[{"field": member, "code": "type", "detail": message}])


def json_body(request: HttpRequest) -> dict[str, Any]:
    """Return the JSON object the body holds; raise BodyMalformedError, BodyTooLargeError."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BodyTooLargeError("The request body is too large") from None
    try:
        parsed = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BodyMalformedError("The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BodyMalformedError("The request body must be a JSON object")
    return parsed


def _path(key: str) -> list[str]:
    """Return the parts of a form member's name: ``a[b][c]`` and ``a.b.c`` are ``[a, b, c]``; ``x[]`` is ``[x]``."""
    head, _, rest = key.partition("[")
    parts = head.split(".")
    if rest:
        parts += [part for part in _BRACKET.findall("[" + rest) if part != ""]
    return [part for part in parts if part != ""]


def _form_object(request: HttpRequest) -> dict[str, Any]:  # noqa: PLR0912 - one branch per kind of member
    """Return the form as the JSON object it stands for (module docstring)."""
    try:
        # Parsed here, not by request.POST: Django reads a form only for POST, and PUT takes one too.
        posted = QueryDict(request.body, encoding=request.encoding)
    except (RequestDataTooBig, TooManyFieldsSent):
        raise BodyTooLargeError("The request body is too large or has too many members") from None
    body: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for key in posted:
        values = posted.getlist(key)
        value: Any = values[0] if len(values) == 1 else values
        parts = _path(key)
        if not parts:
            continue
        if parts[0] == "formData" and len(parts) == 1:
            body["formData"] = _form_data_json(value)
            continue
        if parts[0] == "formData":
            parts = parts[1:]
        if parts == ["eFormId"]:
            body["eFormId"] = value
            continue
        if parts[0] == "documentUrls":
            body.setdefault("documentUrls", []).extend(values)
            continue
        if len(parts) == 1 and parts[0] in _MEMBERS:
            body[parts[0]] = value
            continue
        if parts[0] == "data":
            parts = parts[1:]
        if not parts or len(parts) > 3:
            raise _invalid(key, f"{key} is not a member of an application file")
        target = data
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                raise _invalid(key, f"{key} is given both as an answer and as a group of answers")
            target = nested
        target[parts[-1]] = value
    form_data = body.setdefault("formData", {})
    if not isinstance(form_data, dict):
        raise _invalid("formData", "formData must be an object")
    if "eFormId" in body:
        form_data["eFormId"] = body.pop("eFormId")
    if data:
        form_data.setdefault("data", {}).update(data)
    return body


def _form_data_json(value: Any) -> Any:
    if not isinstance(value, str):
        raise _invalid("formData", "formData is given more than once")
    try:
        return json.loads(value)
    except ValueError:
        raise _invalid("formData", "formData is not a JSON object") from None


def _text(body: dict[str, Any], member: str, *, required: bool = False) -> str | None:
    value = body.get(member)
    if value is None or value == "":
        if required:
            raise BodyMalformedError(
                f"{member} is required", errors=[{"field": member, "code": "required", "detail": f"Give {member}"}]
            )
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise _invalid(member, f"{member} must be a text of at most 500 characters")
    return value.strip()


def file_submission(request: HttpRequest) -> FileSubmission:
    """Return the ``applicationFileSubmit`` of a JSON or form-encoded body; raise BodyMalformedError (400)."""
    form_encoded = media_type(request) == FORM
    body = _form_object(request) if form_encoded else json_body(request)
    form_data = body.get("formData")
    form_data = {} if form_data is None else form_data
    if not isinstance(form_data, dict):
        raise _invalid("formData", "formData must be an object")
    data = form_data.get("data")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise _invalid("formData.data", "formData.data must be an object of answers by page id")
    eform_id = form_data.get("eFormId")
    if eform_id is not None and not isinstance(eform_id, str):
        raise _invalid("formData.eFormId", "formData.eFormId must be a text")
    urls = body.get("documentUrls")
    urls = [] if urls is None else urls
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(isinstance(url, str) and 0 < len(url) <= 500 for url in urls):
        raise _invalid("documentUrls", "documentUrls must be a list of the documents' URLs")
    return FileSubmission(
        applicant_id=_text(body, "applicantId", required=True) or "",
        application_name=_text(body, "applicationName"),
        contact_email=_text(body, "contactEmail"),
        eform_id=eform_id or None,
        data=data,
        document_urls=[url.strip() for url in urls],
        form_encoded=form_encoded,
    )


def _page_answers(page: schema.Page, value: Any) -> bool:
    """Return whether ``value`` reads as the answers of ``page`` (an object whose keys are its field ids)."""
    return isinstance(value, dict) and set(value) <= {page_field.id for page_field in page.fields}


def answers_by_field(
    compiled: CompiledDefinition, data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], list[dict[str, str]]]:
    """Return the answers by field id, each field's page, and the entries of members that are not questions.

    A key of ``data`` that is a page id with an object of that page's field
    ids holds the page's answers; a key that is a field id is that answer.
    """
    pages = {page.id: page for page in compiled.definition.pages}
    page_of_field = {page_field.id: page.id for page in compiled.definition.pages for page_field in page.fields}
    answers: dict[str, Any] = {}
    unknown: list[dict[str, str]] = []
    for key, value in data.items():
        page = pages.get(key)
        if page is not None and _page_answers(page, value):
            answers.update(value)
        elif key in page_of_field:
            answers[key] = value
        elif page is not None and isinstance(value, dict):
            for field_id in value:
                if field_id not in {page_field.id for page_field in page.fields}:
                    unknown.append(_unknown_entry(f"/formData/data/{key}/{field_id}", field_id, f"the page {key}"))
        else:
            unknown.append(_unknown_entry(f"/formData/data/{key}", key, "this e-form"))
    return answers, page_of_field, unknown


def _unknown_entry(pointer: str, name: str, where: str) -> dict[str, str]:
    return {
        "field": name,
        "code": "unknown_field",
        "detail": f"{name} is not a question of {where}",
        "pointer": pointer,
    }


def _typed(page_field: schema.AnyField, value: Any) -> Any:  # noqa: PLR0911 - one branch per field type
    if isinstance(page_field, schema.CheckboxesField):
        items = value if isinstance(value, list) else [value]
        return [item for item in items if item != ""]
    if isinstance(value, list):
        return value  # several values for one answer: the JSON reader refuses it with the field's message
    if value == "":
        return None
    if isinstance(page_field, schema.YesNoField) and isinstance(value, str):
        lowered = value.strip().lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else value
    if isinstance(page_field, schema.MoneyField) and isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(page_field, schema.AddressField) and isinstance(value, dict):
        return {part: (text or None) for part, text in value.items()}
    return value


def form_answers_typed(compiled: CompiledDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """Return form-encoded ``answers`` (texts) in the answers' JSON forms, by the fields' types (module docstring)."""
    fields = {page_field.id: page_field for page in compiled.definition.pages for page_field in page.fields}
    return {
        field_id: _typed(fields[field_id], value) if field_id in fields else value
        for field_id, value in answers.items()
    }
