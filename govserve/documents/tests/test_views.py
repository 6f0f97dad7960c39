"""The download view: only the right viewer, only clean files, defensive headers, audited reads."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import pytest
from django.test import Client

from govserve.accounts import signin
from govserve.accounts.citizens import citizen_create
from govserve.accounts.models import Citizen, User
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.documents import errors
from govserve.documents.access import SESSION_KEY, owner_access_grant, owner_access_revoke
from govserve.documents.models import Document, ScanState
from govserve.documents.policies import OwnerAccess, can_view_document
from govserve.documents.selectors import document_open
from govserve.documents.services import document_remove, document_upload
from govserve.documents.tests import samples
from govserve.documents.tests.conftest import upload
from govserve.documents.views import DOCUMENT_CSP, content_disposition

pytestmark = pytest.mark.django_db

EVERYTHING = ["pdf", "jpg", "png", "gif", "txt", "csv", "docx"]


def _sign_in(client: Client, citizen: Citizen) -> None:
    session = client.session
    now = time.time()
    session[signin.KIND] = signin.KIND_CITIZEN
    session[signin.CITIZEN_ID] = str(citizen.id)
    for key in (signin.AUTH_AT, signin.SEEN_AT, signin.REAUTH_AT):
        session[key] = now
    session.save()


def _store(owner: str, citizen: Citizen | None, data: bytes, name: str, slot: str = "evidence") -> Document:
    return document_upload(
        owner=owner,
        slot=slot,
        uploaded_file=upload(data, name),
        allowed_types=EVERYTHING,
        max_size_bytes=10 * 1024 * 1024,
        actor=Actor.for_citizen(citizen.id) if citizen else Actor.system("web"),
        citizen=citizen,
    )


def _url(document: Document) -> str:
    return f"/documents/{document.id}"


@pytest.mark.parametrize(
    "served",
    [
        (
            samples.pdf_document(),
            "Ada passport.pdf",
            "application/pdf",
            "inline; filename=\"Ada passport.pdf\"; filename*=UTF-8''Ada%20passport.pdf",
        ),
        (
            samples.image_bytes("PNG"),
            "photo.png",
            "image/png",
            "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png",
        ),
        (
            samples.image_bytes("JPEG"),
            "photo.jpeg",
            "image/jpeg",
            "inline; filename=\"photo.jpeg\"; filename*=UTF-8''photo.jpeg",
        ),
        (
            samples.image_bytes("GIF"),
            "anim.gif",
            "image/gif",
            "attachment; filename=\"anim.gif\"; filename*=UTF-8''anim.gif",
        ),
        (
            b"Notes for the caseworker\n",
            "notes.txt",
            "text/plain",
            "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt",
        ),
        (
            samples.docx_document(),
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "attachment; filename=\"letter.docx\"; filename*=UTF-8''letter.docx",
        ),
    ],
)
def test_the_owning_citizen_gets_the_file_with_defensive_headers(
    client: Client, citizen: Citizen, owner: str, served: tuple[bytes, str, str, str]
) -> None:
    # Given
    data, name, content_type, disposition = served
    document = _store(owner, citizen, data, name)
    _sign_in(client, citizen)

    # When
    response = client.get(_url(document))

    # Then
    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == disposition
    assert response["Content-Length"] == str(len(data))
    assert (
        response["Content-Security-Policy"]
        == "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    entry = AuditEntry.objects.get(action="documents.document.viewed")
    assert (entry.actor_kind, entry.actor_id, entry.subject_id, entry.outcome) == (
        "citizen",
        str(citizen.id),
        str(document.id),
        "success",
    )
    assert entry.details == {"access": "citizen", "owner": owner, "kind": document.kind}


def test_a_non_ascii_name_is_sent_exactly_in_filename_star_with_an_ascii_fallback() -> None:
    assert content_disposition('Zo\u00eb\u2019s \u51fa\u751f "final".pdf', inline=True) == (
        'inline; filename="Zoe_s __ _final_.pdf"; '
        "filename*=UTF-8''Zo%C3%AB%E2%80%99s%20%E5%87%BA%E7%94%9F%20%22final%22.pdf"
    )
    assert content_disposition("\u51fa\u751f.pdf", inline=False) == (
        "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E5%87%BA%E7%94%9F.pdf"
    )


def test_the_download_csp_is_the_sandbox() -> None:
    assert DOCUMENT_CSP.split(";")[0] == "sandbox"


def test_another_citizen_anonymous_visitors_and_unknown_ids_get_not_found(
    client: Client, citizen: Citizen, owner: str
) -> None:
    # Given a document of one citizen
    document = _store(owner, citizen, samples.pdf_document(), "mine.pdf")
    other = citizen_create(email="someone-else@example.org")

    # When / Then: anonymous
    assert client.get(_url(document)).status_code == 404
    # another citizen
    _sign_in(client, other)
    response = client.get(_url(document))
    assert response.status_code == 404
    assert samples.SECRET_TEXT.encode() not in response.content
    # an id that does not exist (no audit entry: nothing was refused)
    assert client.get(f"/documents/{uuid.uuid4()}").status_code == 404
    denied = AuditEntry.objects.filter(action="documents.document.viewed").order_by("id")
    assert [(entry.actor_kind, entry.outcome, entry.details["access"]) for entry in denied] == [
        ("system", "denied", "anonymous"),
        ("citizen", "denied", "citizen"),
    ]
    assert denied[1].actor_id == str(other.id)


def test_a_removed_document_is_not_found_even_for_its_owner(client: Client, citizen: Citizen, owner: str) -> None:
    document = _store(owner, citizen, samples.pdf_document(), "mine.pdf")
    document_remove(owner=owner, document_id=document.id, actor=Actor.for_citizen(citizen.id))
    _sign_in(client, citizen)
    assert client.get(_url(document)).status_code == 404


def test_a_document_not_scanned_clean_is_not_served(
    client: Client, citizen: Citizen, owner: str, unreachable_scanner: str
) -> None:
    # Given a document stored pending (the scanner was unreachable)
    document = _store(owner, citizen, samples.pdf_document(), "mine.pdf")
    assert document.scan_state == ScanState.PENDING
    _sign_in(client, citizen)

    # When
    response = client.get(_url(document))

    # Then
    assert response.status_code == 409
    assert "This file is still being checked for viruses" in response.content.decode()
    assert samples.SECRET_TEXT.encode() not in response.content
    assert not AuditEntry.objects.filter(action="documents.document.viewed").exists()


def test_an_anonymous_applicant_holding_the_owner_grant_gets_the_file(client: Client, owner: str) -> None:
    # Given a document uploaded without a citizen account, and the session's grant for its owner
    document = _store(owner, None, samples.image_bytes("PNG"), "photo.png")
    session = client.session
    session[SESSION_KEY] = [f"application:{uuid.uuid4()}", owner]
    session.save()

    # When
    response = client.get(_url(document))

    # Then
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="documents.document.viewed")
    assert (entry.actor_kind, entry.actor_id, entry.details["access"]) == ("system", "web", "owner_token")


def test_a_grant_for_another_owner_opens_nothing(client: Client, owner: str) -> None:
    document = _store(owner, None, samples.image_bytes("PNG"), "photo.png")
    session = client.session
    session[SESSION_KEY] = [f"application:{uuid.uuid4()}"]
    session.save()
    assert client.get(_url(document)).status_code == 404


def test_owner_grants_are_kept_bounded_and_revocable() -> None:
    request = SimpleNamespace(session={})
    for number in range(25):
        owner_access_grant(request, owner=f"application:{number}")  # type: ignore[arg-type]
    owner_access_grant(request, owner="application:3")  # type: ignore[arg-type]
    assert request.session[SESSION_KEY][-1] == "application:3"
    assert len(request.session[SESSION_KEY]) == 20
    owner_access_revoke(request, owner="application:3")  # type: ignore[arg-type]
    assert "application:3" not in request.session[SESSION_KEY]
    with pytest.raises(ValueError, match="not an owner"):
        owner_access_grant(request, owner="../etc")  # type: ignore[arg-type]


def test_staff_are_denied_until_casework_defines_their_rule(citizen: Citizen, owner: str) -> None:
    # Given the most privileged staff account there is
    document = _store(owner, citizen, samples.pdf_document(), "mine.pdf")
    administrator = User.objects.create_user(username="admin", password="x" * 20, is_superuser=True, is_staff=True)

    # When / Then
    assert can_view_document(administrator, document) is False
    with pytest.raises(errors.DocumentNotFoundError):
        document_open(viewers=[administrator], document_id=document.id)
    entry = AuditEntry.objects.get(action="documents.document.viewed")
    assert (entry.actor_kind, entry.actor_id, entry.outcome, entry.details["access"]) == (
        "user",
        str(administrator.id),
        "denied",
        "staff",
    )


def test_the_policy_rules(citizen: Citizen, owner: str) -> None:
    document = _store(owner, citizen, samples.pdf_document(), "mine.pdf")
    assert can_view_document(citizen, document) is True
    assert can_view_document(OwnerAccess(owner=owner), document) is True
    assert can_view_document(OwnerAccess(owner=f"application:{uuid.uuid4()}"), document) is False
    assert can_view_document(None, document) is False
    citizen.is_active = False
    assert can_view_document(citizen, document) is False


def test_only_get_is_allowed(client: Client, citizen: Citizen, owner: str) -> None:
    document = _store(owner, citizen, samples.pdf_document(), "mine.pdf")
    _sign_in(client, citizen)
    assert client.post(_url(document)).status_code in {403, 405}  # CSRF or method: never the file
    assert client.delete(_url(document)).status_code == 405
