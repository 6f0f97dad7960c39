"""Subject access export: complete for the person, nothing of anyone else, PDF with the key facts, audited."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401 - fixtures reused
from govserve.journeys.tests.support import examples_publish
from govserve.privacy.errors import SubjectAccessRequestError
from govserve.privacy.subject_access import subject_access_export
from govserve.privacy.tests.subject_support import (
    OTHER_EMAIL,
    OTHER_MOTHER,
    STAFF_MESSAGE,
    SUBJECT_EMAIL,
    SUBJECT_MOTHER,
    SUBJECT_REPORTER,
    People,
    people_create,
)


@pytest.fixture
def people(db: None) -> People:
    examples_publish()
    return people_create()


def _answers(application: dict[str, Any]) -> dict[str, str]:
    return {answer["field_id"]: answer["value"] for answer in application["answers"]}


def test_export_holds_every_application_of_the_person_and_nothing_of_anyone_else(people: People) -> None:
    export = subject_access_export(email=SUBJECT_EMAIL.upper(), actor=Actor.system("test"))
    data = export.data

    assert data["format"] == "govserve.subject-access"
    assert data["schema_version"] == 1
    assert data["account"]["email"] == SUBJECT_EMAIL
    by_reference = {application["reference"]: application for application in data["applications"]}
    assert set(by_reference) == {people.newborn.reference, people.trading.reference, people.light.reference}
    newborn = by_reference[people.newborn.reference]
    assert _answers(newborn)["mother_full_name"] == SUBJECT_MOTHER
    assert newborn["service"]["id"] == "register-newborn"
    assert {document["slot"] for document in newborn["documents"]} == {
        "document:mother-identity-document",
        "document:birth-notification",
    }
    for document in newborn["documents"]:
        assert document["file"] in export.files
        assert len(document["sha256"]) == 64
    assert [message["body"] for message in newborn["case"]["messages"]] == [STAFF_MESSAGE]
    assert [event["to_status"] for event in newborn["history"]][-1] == "submitted"
    trading = by_reference[people.trading.reference]
    assert trading["status"] == "awaiting_payment"
    assert trading["fees"]
    assert all(fee["status"] == "due" for fee in trading["fees"])
    assert {(fee["kind"], fee["refund_due_minor"], fee["refunded_minor"]) for fee in trading["fees"]} == {("fee", 0, 0)}
    light = by_reference[people.light.reference]
    assert light["contact_email"] == SUBJECT_EMAIL
    assert _answers(light)["reporter_name"] == SUBJECT_REPORTER
    assert data["notifications"]["emails"], "the submission emails were sent to the person"
    assert all(email["recipient"] == SUBJECT_EMAIL for email in data["notifications"]["emails"])
    accesses = data["accesses"]
    assert [(access["action"], access["institution"]["code"], access["role"]["id"]) for access in accesses] == [
        ("viewed", "civil-registry", "registrar")
    ]
    assert accesses[0]["application_reference"] == people.newborn.reference
    text = export.json_bytes().decode()
    assert OTHER_MOTHER not in text
    assert OTHER_EMAIL not in text
    assert people.other_newborn.reference not in text
    assert "registrar-sar" not in text  # staff are named by institution and role, never by name
    assert str(people.registrar.id) not in text


def test_export_is_audited_with_counts_only(people: People) -> None:
    before = AuditEntry.objects.filter(action="privacy.subject_access.exported").count()

    subject_access_export(email=SUBJECT_EMAIL, actor=Actor.system("test"), with_pdf=False)

    entry = AuditEntry.objects.filter(action="privacy.subject_access.exported").order_by("-id").first()
    assert AuditEntry.objects.filter(action="privacy.subject_access.exported").count() == before + 1
    assert entry is not None
    assert (entry.subject_type, entry.subject_id) == ("accounts.citizen", str(people.subject.id))
    assert entry.details == {"applications": 3, "files": 4, "scope": "all"}
    assert SUBJECT_EMAIL not in json.dumps(entry.details)


def test_export_scoped_to_an_institution_leaves_out_the_others(people: People) -> None:
    export = subject_access_export(
        email=SUBJECT_EMAIL, actor=Actor.system("test"), institutions=frozenset({"city-council"}), with_pdf=False
    )

    references = {application["reference"] for application in export.data["applications"]}
    assert references == {people.trading.reference, people.light.reference}
    assert export.data["accesses"] == []
    assert SUBJECT_MOTHER not in export.json_bytes().decode()


def test_pdf_renders_with_the_key_facts(people: People) -> None:
    export = subject_access_export(email=SUBJECT_EMAIL, actor=Actor.system("test"))

    reader = PdfReader(io.BytesIO(export.pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    for fact in (SUBJECT_EMAIL, SUBJECT_MOTHER, people.newborn.reference, people.light.reference, STAFF_MESSAGE):
        assert fact in text, fact
    assert "Civil Registration Office" in text
    assert OTHER_MOTHER not in text


def test_someone_of_whom_nothing_is_held_gets_an_empty_export(people: People) -> None:
    export = subject_access_export(email="nobody.here@example.org", actor=Actor.system("test"), with_pdf=False)

    assert export.data["account"] is None
    assert export.data["applications"] == []
    assert export.data["accesses"] == []
    entry = AuditEntry.objects.filter(action="privacy.subject_access.exported").order_by("-id").first()
    assert entry is not None
    assert entry.subject_type == "privacy.data_subject"
    assert "nobody" not in entry.subject_id


@pytest.mark.parametrize("email", ["", "not an email", "a@b@c"], ids=["empty", "words", "two-ats"])
def test_not_an_email_address_is_refused(db: None, email: str) -> None:
    before = AuditEntry.objects.count()

    with pytest.raises(SubjectAccessRequestError):
        subject_access_export(email=email, actor=Actor.system("test"))

    assert AuditEntry.objects.count() == before


def test_command_writes_a_zip_with_json_pdf_and_files(people: People, tmp_path: Path) -> None:
    out = io.StringIO()

    call_command("subject_access", "--email", SUBJECT_EMAIL, "--out", str(tmp_path), stdout=out)

    [bundle] = list(tmp_path.glob("subject-access-*.zip"))
    assert "3 applications" in out.getvalue()
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        data = json.loads(archive.read("export.json"))
        assert archive.read("export.pdf").startswith(b"%PDF-")
        for application in data["applications"]:
            for document in application["documents"]:
                assert document["file"] in names
    assert len(data["applications"]) == 3
    assert oct(bundle.stat().st_mode & 0o777) == "0o600"


def test_command_refuses_a_bad_email_and_a_missing_directory(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="email address"):
        call_command("subject_access", "--email", "nope", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="not a directory"):
        call_command("subject_access", "--email", SUBJECT_EMAIL, "--out", str(tmp_path / "missing"))
