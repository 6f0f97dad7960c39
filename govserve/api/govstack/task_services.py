"""``POST /tasks/{taskId}/complete``: a GovStack client decides a casework task as its operator account.

The body is GovStack's ``additionalData``, ``{"data": {...}}``. Each entry
may be given bare or as ``{"value": ...}`` (the specification wants objects;
clients send both):

- ``decision``: ``approve`` (the default: completing a task approves it),
  ``reject`` or ``send_back``; GovStack's status codes ``APPROVED``,
  ``REJECTED`` and ``SENDBACK`` are read the same way;
- ``reason``: needed to reject or send back;
- ``processing``: the role's processing fields, ``{field id: JSON value}``
  (the JSON forms of API v1's answers); given, they replace the values saved
  before, as the web's processing form does; omitted, the saved ones count;
- ``flaggedFields``, ``flaggedDocuments`` (lists of ids) and ``message`` go
  with a send-back.

The decision is ``casework.services.decision_record``: the web's rules
(approval is refused while a required processing field is empty, a task
decided already is ``task_closed`` 409, the locks make the second of two
completions wait and then find the task closed: never two transitions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from govserve.accounts.models import User
from govserve.api.govstack.http import RequestInvalidError
from govserve.api.govstack.selectors import service_uuid
from govserve.api.govstack.task_selectors import STATUS_OF_DECISION, task_visible
from govserve.api.models import ApiClient
from govserve.api.v1.answers import page_form_data
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework import errors as casework_errors
from govserve.casework.models import DecisionKind
from govserve.casework.services import decision_record
from govserve.catalogue.definitions.schema import Page
from govserve.catalogue.selectors import published_version_load
from govserve.core.errors import ValidationError

LANGUAGE = "en"
_DECISIONS = {
    "approve": DecisionKind.APPROVE,
    "approved": DecisionKind.APPROVE,
    "reject": DecisionKind.REJECT,
    "rejected": DecisionKind.REJECT,
    "send_back": DecisionKind.SEND_BACK,
    "sendback": DecisionKind.SEND_BACK,
}
_KNOWN = {"decision", "reason", "processing", "flaggedFields", "flaggedDocuments", "message"}


class TaskDataInvalidError(ValidationError):
    """The processing values given do not pass the role's checks (the fields and their problems in the detail)."""

    code = "processing_fields_invalid"


def _bare(value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) == {"value"}:
        return value["value"]
    return value


def _text(data: Mapping[str, Any], name: str) -> str:
    value = _bare(data.get(name, ""))
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RequestInvalidError(f"data.{name} is a string (or {{'value': string}})")
    return value


def _ids(data: Mapping[str, Any], name: str) -> list[str]:
    value = _bare(data.get(name, []))
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RequestInvalidError(f"data.{name} is a list of ids (or {{'value': [ids]}})")
    return value


def _decision(data: Mapping[str, Any]) -> DecisionKind:
    text = _text(data, "decision").strip().lower() or "approve"
    kind = _DECISIONS.get(text)
    if kind is None:
        raise RequestInvalidError("data.decision is approve, reject or send_back (or APPROVED, REJECTED, SENDBACK)")
    return kind


def body_data(body: Any) -> dict[str, Any]:
    """Return the ``data`` object of a completion body; raise RequestInvalidError for another shape."""
    if not isinstance(body, Mapping):
        raise RequestInvalidError('The body is a JSON object: {"data": {...}}')
    data = body.get("data", {})
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise RequestInvalidError("data is a JSON object")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise RequestInvalidError(f"data has no member {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN))})")
    return dict(data)


def _processing_form(task_service: str, version: int, role_index: int, values: Any) -> dict[str, Any]:
    """Return the web form data of the role's processing fields from their JSON values (API v1's conversion)."""
    if not isinstance(values, Mapping):
        raise RequestInvalidError("data.processing is an object {field id: value}")
    compiled = published_version_load(task_service, version)
    role = compiled.definition.flow.roles[role_index]
    known = {definition_field.id for definition_field in role.fields}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RequestInvalidError(f"{', '.join(unknown)}: not a processing field of this task's role")
    fields_page = Page.model_construct(id=role.id, fields=list(role.fields))
    form, found = page_form_data(fields_page, values, compiled=compiled, language=LANGUAGE)
    if found:
        raise TaskDataInvalidError(
            "The processing values are not valid: " + "; ".join(f"{e.field_id}: {e.message}" for e in found),
            errors=found,
        )
    return form


def task_complete(
    *, client: ApiClient, operator: User, identity: str | None, task_id: str, body: Any
) -> dict[str, Any]:
    """Decide the task as ``operator`` from the completion ``body``; return GovStack's completedTaskResponse.

    Raise GovStackNotFoundError (unknown or out of scope), RequestInvalidError,
    TaskDataInvalidError, and casework's errors (TaskClosedError 409,
    ReasonRequiredError, FlagsInvalidError, NotAssigneeError ...). Audited as
    ``govstack.task.completed`` with the client as the actor, in the
    decision's transaction.
    """
    data = body_data(body)
    task = task_visible(operator, task_id)
    kind = _decision(data)
    form = None
    if "processing" in data:
        form = _processing_form(task.service_id, task.application.version_number, task.role_index, data["processing"])
    with transaction.atomic():
        try:
            result = decision_record(
                user=operator,
                task_id=task.id,
                decision=kind.value,
                reason=_text(data, "reason"),
                data=form,
                flagged_fields=_ids(data, "flaggedFields"),
                flagged_documents=_ids(data, "flaggedDocuments"),
                message=_text(data, "message"),
                language=LANGUAGE,
            )
        except casework_errors.ProcessingFieldsInvalidError as error:
            found = error.extra.get("errors", [])
            detail = "; ".join(f"{e.field_id}: {e.message}" for e in found)
            message = f"{error.message}: {detail}" if detail else error.message
            raise TaskDataInvalidError(message, errors=found) from error
        audit_record(
            actor=Actor.for_api_client(client.id),
            action="govstack.task.completed",
            subject_type="casework.task",
            subject_id=task.id,
            details={
                "client": identity,
                "decision": kind.value,
                "file": str(result.case_file.id),
                "operator": str(operator.pk),
            },
        )
    code, title = STATUS_OF_DECISION[kind]
    variables: dict[str, Any] = {
        "application": {"data": {"status": {"value": result.application_status}}},
    }
    if result.next_task is not None:
        variables["nextTask"] = {
            "data": {"task": {"taskId": str(result.next_task.id), "roleId": result.next_task.role_id}}
        }
    return {
        "taskId": str(task.id),
        "fileId": str(task.application_id),
        "serviceId": service_uuid(task.service_id),
        "status": {"code": code, "title": title},
        "variables": variables,
    }
