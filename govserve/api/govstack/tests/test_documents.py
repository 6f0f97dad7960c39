"""GovStack documents: POST /documents (multipart files, base64 text in JSON or a part), their use by files, reads."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govserve.api.govstack.documents import owner_of
from govserve.api.govstack.tests.conftest import (
    IDENTITY,
    GovStackCaller,
    body,
    govstack_client,
    schema_of,
    specification,
)
from govserve.api.govstack.tests.test_writes import ANSWERS, send, submission
from govserve.api.models import ApiClient
from govserve.audit.models import AuditEntry
from govserve.documents.models import Document
from govserve.documents.tests.samples import EICAR_FILE, HTML_PAGE, image_bytes
from govserve.journeys.models import Application

API = "registration-bb-api.json"
PNG = image_bytes("PNG")


def upload_conforms(found: Any) -> None:
    """Assert ``found`` is an ``uploadResponse`` (its schema, and no member it does not name)."""
    schema = specification(API)["paths"]["/documents"]["post"]["responses"]["200"]["content"]["*/*"]["schema"]
    assert [error.message for error in schema_of(API, schema).iter_errors(found)] == []
    assert set(found) <= set(specification(API)["components"]["schemas"]["uploadResponse"]["properties"])


def post_multipart(data: dict[str, Any], *, identity: str | None = IDENTITY) -> Any:
    headers = {"Information-Mediator-Client": identity} if identity is not None else {}
    return Client().post("/govstack/documents", data, headers=headers)


def post_json(payload: Any) -> Any:
    return send("POST", "/documents", payload)


def kept(client: ApiClient) -> list[Document]:
    return list(Document.objects.filter(owner=owner_of(client), removed_at__isnull=True))


def test_a_multipart_file_is_kept_for_the_client(registered: ApiClient) -> None:
    response = post_multipart({"file": SimpleUploadedFile("street.png", PNG, content_type="image/png")})
    assert response.status_code == 200, response.content
    found = body(response)
    upload_conforms(found)
    (document,) = kept(registered)
    assert found["url"] == f"http://testserver/govstack/documents/{document.id}"
    assert (found["code"], found["type"]) == (200, "image/png")
    assert document.scan_state == "clean"  # scanned by the upload path, as on the web
    entry = AuditEntry.objects.filter(action="documents.document.uploaded").latest("id")
    assert (entry.actor_kind, entry.actor_id) == ("api_client", str(registered.id))
    # the client reads it back at its url
    read = Client().get(found["url"], headers={"Information-Mediator-Client": IDENTITY})
    assert (read.status_code, read["Content-Type"], read.content) == (200, "image/png", PNG)


@pytest.mark.parametrize(
    "payload",
    [
        {"file": base64.b64encode(PNG).decode()},
        {"file": [base64.b64encode(PNG).decode()], "fileName": "lamp.png"},
        {"file": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        {"file": base64.urlsafe_b64encode(PNG).decode().rstrip("=")},
        {"file": "\n".join(base64.encodebytes(PNG).decode().split("\n"))},
    ],
    ids=["plain", "list-of-one", "data-uri", "url-safe-unpadded", "wrapped-lines"],
)
def test_base64_in_json_is_kept(registered: ApiClient, payload: dict[str, Any]) -> None:
    response = post_json(payload)
    assert response.status_code == 200, response.content
    upload_conforms(body(response))
    assert len(kept(registered)) == 1


def test_base64_in_a_multipart_part_is_kept(registered: ApiClient) -> None:
    response = post_multipart({"file": base64.b64encode(PNG).decode(), "fileName": "lamp.png"})
    assert response.status_code == 200, response.content
    assert body(response)["type"] == "image/png"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"file": "not base64 at all!"}, "document_base64_invalid"),
        ({"file": "QUJD$"}, "document_base64_invalid"),
        ({"file": ""}, "document_missing"),
        ({}, "document_missing"),
        ({"file": 12}, "document_missing"),
        ({"file": ["QUJD", "QUJD"]}, "request_invalid"),
        ({"file": base64.b64encode(HTML_PAGE).decode()}, "file_type"),
        ({"file": base64.b64encode(EICAR_FILE).decode()}, "file_infected"),
        ({"file": base64.b64encode(b"MZ\x90\x00" + bytes(200)).decode()}, "file_type"),
    ],
    ids=["text", "bad-character", "empty", "no-member", "number", "two", "html", "virus", "executable"],
)
def test_bad_documents_are_400_and_nothing_is_kept(registered: ApiClient, payload: dict[str, Any], code: str) -> None:
    response = post_json(payload)
    assert response.status_code == 400
    problem = body(response)
    assert (problem["code"], problem["status"]) == (code, 400)
    assert problem["message"]  # GovStack's systemError member
    assert kept(registered) == []


def test_malformed_json_is_400(registered: ApiClient) -> None:
    for payload in ("{nope", "[]", '"QUJD"'):
        response = post_json(payload)
        assert (response.status_code, body(response)["code"]) == (400, "malformed_body")


def test_an_oversize_document_is_400(registered: ApiClient, settings: Any) -> None:
    settings.GOVSERVE_UPLOAD_MAX_BYTES = 1024
    big = image_bytes("PNG", size=(400, 400))
    assert len(big) > 1024
    for response in (
        post_json({"file": base64.b64encode(big).decode()}),
        post_multipart({"file": SimpleUploadedFile("big.png", big, content_type="image/png")}),
        post_json({"file": "A" * 100_000}),  # refused before it is decoded
    ):
        assert response.status_code == 400
        assert body(response)["code"] == "file_too_large"
    assert kept(registered) == []


def test_an_empty_multipart_body_is_400(registered: ApiClient) -> None:
    response = post_multipart({"other": "x"})
    assert (response.status_code, body(response)["code"]) == (400, "document_missing")


def test_the_identity_is_required_to_upload(db: None) -> None:
    missing = post_multipart({"file": SimpleUploadedFile("a.png", PNG)}, identity=None)
    assert (missing.status_code, body(missing)["code"]) == (400, "client_header_missing")
    unknown = post_multipart({"file": SimpleUploadedFile("a.png", PNG)}, identity="eGovStack/GOV/1/stranger")
    assert (unknown.status_code, body(unknown)["code"]) == (403, "client_unknown")
    assert Document.objects.count() == 0


def _upload(identity: str = IDENTITY) -> str:
    response = post_multipart(
        {"file": SimpleUploadedFile("lamp.png", PNG, content_type="image/png")}, identity=identity
    )
    assert response.status_code == 200, response.content
    return str(body(response)["url"])


def test_a_file_question_is_answered_with_an_uploaded_document(street_light: str, registered: ApiClient) -> None:
    url = _upload()
    answers = {**ANSWERS, "photo": {"photo": url}}
    response = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert response.status_code == 200, response.content
    found = body(response)
    application = Application.objects.get(pk=found["fileId"])
    (copy,) = Document.objects.filter(owner=application.crypto_owner, removed_at__isnull=True)
    assert found["applicationData"]["documentUrls"] == [f"http://testserver/govstack/documents/{copy.id}"]
    assert found["applicationData"]["formData"]["data"]["photo"]["photo"]["id"] == str(copy.id)
    assert kept(registered) == []  # the client's copy is removed once the file holds it
    listed = body(GovStackCaller(IDENTITY).get("/applications"))
    assert listed[0]["documentUrls"] == found["applicationData"]["documentUrls"]
    read = Client().get(listed[0]["documentUrls"][0], headers={"Information-Mediator-Client": IDENTITY})
    assert (read.status_code, read.content) == (200, PNG)


def test_the_definitions_types_apply_when_a_file_uses_a_document(street_light: str, registered: ApiClient) -> None:
    pdf = post_json({"file": base64.b64encode(_pdf()).decode(), "fileName": "lamp.pdf"})
    assert pdf.status_code == 200, pdf.content  # govserve takes PDFs; the photo question takes jpg and png only
    answers = {**ANSWERS, "photo": {"photo": body(pdf)["url"]}}
    response = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert response.status_code == 400
    problem = body(response)
    assert problem["code"] == "answers_invalid"
    assert [(entry["field"], entry["code"]) for entry in problem["errors"]] == [("photo", "file_type")]
    assert problem["errors"][0]["pointer"] == "/formData/data/photo/photo"
    assert Application.objects.count() == 0
    assert len(kept(registered)) == 1  # still the client's, to use elsewhere


def _pdf() -> bytes:
    from govserve.documents.tests.samples import pdf_document  # noqa: PLC0415

    return pdf_document()


@pytest.mark.parametrize(
    "reference",
    ["http://testserver/govstack/documents/5f0c6d5e-7d3a-4c1e-9b8a-2f4e6a1c3b7d", "string", "42"],
)
def test_an_unknown_document_is_400_naming_it(street_light: str, registered: ApiClient, reference: str) -> None:
    for payload in (
        submission(documentUrls=[reference]),
        submission({**ANSWERS, "photo": {"photo": reference}}),
    ):
        response = send("POST", f"/services/{street_light}/applications", payload)
        assert response.status_code == 400
        problem = body(response)
        assert problem["code"] == "document_unknown"
        assert problem["errors"][0]["field"] in {"documentUrls[0]", "formData.data.photo.photo"}
    assert Application.objects.count() == 0


def test_another_clients_document_is_unknown(street_light: str, registered: ApiClient) -> None:
    other = "eGovStack/GOV/2/other"
    govstack_client(other)
    theirs = _upload(other)
    response = send("POST", f"/services/{street_light}/applications", submission(documentUrls=[theirs]))
    assert (response.status_code, body(response)["code"]) == (400, "document_unknown")
    read = Client().get(theirs, headers={"Information-Mediator-Client": IDENTITY})
    assert (read.status_code, body(read)["code"]) == (404, "not_found")


def test_a_document_the_answers_do_not_ask_for_is_400(street_light: str, registered: ApiClient) -> None:
    url = _upload()
    response = send("POST", f"/services/{street_light}/applications", submission(documentUrls=[url]))
    assert response.status_code == 400
    problem = body(response)
    assert (problem["code"], problem["errors"][0]["field"]) == ("document_not_needed", "documentUrls[0]")
    assert Application.objects.count() == 0
    assert len(kept(registered)) == 1


@pytest.mark.parametrize("document_id", ["5f0c6d5e-7d3a-4c1e-9b8a-2f4e6a1c3b7d", "nope", "x" * 300])
def test_reading_an_unknown_document_is_404(registered: ApiClient, document_id: str) -> None:
    response = Client().get(f"/govstack/documents/{document_id}", headers={"Information-Mediator-Client": IDENTITY})
    assert (response.status_code, body(response)["code"]) == (404, "not_found")


def test_json_is_the_content_type_of_upload_answers(registered: ApiClient) -> None:
    response = post_json({"file": base64.b64encode(PNG).decode()})
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.content)["url"].startswith("http://testserver/govstack/documents/")


def test_a_document_a_file_used_cannot_be_used_again(street_light: str, registered: ApiClient) -> None:
    url = _upload()
    answers = {**ANSWERS, "photo": {"photo": url}}
    first = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert first.status_code == 200, first.content
    again = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert (again.status_code, body(again)["code"]) == (400, "document_unknown")  # used up by the first file


def test_documents_are_named_on_the_port_they_were_sent_to(registered: ApiClient) -> None:
    from django.test import RequestFactory  # noqa: PLC0415
    from django.urls import set_urlconf  # noqa: PLC0415

    from config.wsgi_govstack import application  # noqa: PLC0415 - the production entry point itself

    request = RequestFactory().post(
        "/documents",
        json.dumps({"file": base64.b64encode(PNG).decode()}),
        content_type="application/json",
        headers={"Information-Mediator-Client": IDENTITY},
    )
    try:
        response: Any = application.get_response(request)
    finally:
        set_urlconf(None)
    assert response.status_code == 200, response.content
    (document,) = kept(registered)
    assert json.loads(response.content)["url"] == f"http://testserver/documents/{document.id}"
