"""A draft deleted and an upload removed through the API, by the journey's own services (as the web's dashboard)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from govserve.api.models import ClientApplication
from govserve.api.tests.conftest import Caller, MakeCaller, body
from govserve.api.tests.test_applications import _answered, _jpeg, _upload, with_evidence
from govserve.audit.models import AuditEntry
from govserve.documents.models import Document
from govserve.journeys.models import Application

__all__ = ["with_evidence"]  # the fixture, used here by name


def _photo() -> Any:
    return SimpleUploadedFile("light.jpg", _jpeg(), content_type="image/jpeg")


def test_a_draft_is_deleted_once_and_a_sent_one_is_not(with_evidence: str, caller: Caller) -> None:
    application_id = _answered(caller, with_evidence)
    deleted = caller.call("DELETE", f"/api/v1/applications/{application_id}")
    assert deleted.status_code == 204
    assert not Application.objects.filter(pk=application_id).exists()
    assert not ClientApplication.objects.exists()
    assert AuditEntry.objects.filter(action="journeys.application.draft_deleted").count() == 1
    again = caller.call("DELETE", f"/api/v1/applications/{application_id}")
    assert (again.status_code, body(again)["code"]) == (404, "application_not_found")
    # a sent application cannot be deleted
    sent_id = _answered(caller, with_evidence)
    assert _upload(caller, f"/api/v1/applications/{sent_id}/documents/light-photo", file=_photo()).status_code == 200
    sent = caller.call(
        "POST", f"/api/v1/applications/{sent_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    assert sent.status_code == 200, sent.content
    refused = caller.call("DELETE", f"/api/v1/applications/{sent_id}")
    assert (refused.status_code, body(refused)["code"]) == (409, "not_deletable")
    assert Application.objects.filter(pk=sent_id).exists()


def test_an_uploaded_document_is_removed(with_evidence: str, caller: Caller) -> None:
    application_id = _answered(caller, with_evidence)
    path = f"/api/v1/applications/{application_id}/documents/light-photo"
    assert _upload(caller, path, file=_photo()).status_code == 200
    removed = caller.call("DELETE", path)
    assert removed.status_code == 200, removed.content
    assert body(removed)["documents"][0]["uploaded"] is False
    assert not Document.objects.filter(removed_at__isnull=True).exists()
    nothing = caller.call("DELETE", path)
    assert (nothing.status_code, body(nothing)["code"]) == (404, "document_not_found")


def test_another_clients_draft_is_not_found(with_evidence: str, caller: Caller, make_caller: MakeCaller) -> None:
    application_id = _answered(caller, with_evidence)
    stranger = make_caller()
    for path in (
        f"/api/v1/applications/{application_id}",
        f"/api/v1/applications/{application_id}/documents/light-photo",
    ):
        response = stranger.call("DELETE", path)
        assert (response.status_code, body(response)["code"]) == (404, "application_not_found")
    assert Application.objects.filter(pk=application_id).exists()
