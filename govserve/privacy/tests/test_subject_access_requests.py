"""The officer's subject access request: recorded on the page, prepared by a job, downloaded, removed in time.

Staff sign in through the real pages; the job runs in-process through the
worker's own loop (``run_pending``), as ``govserve worker`` runs it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from govserve.accounts.models import RoleAssignment, User
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.casework.tests.test_views import person, signed_in, text_of
from govserve.core import clock
from govserve.core.jobs import registered_schedules, run_pending
from govserve.core.models import JobAttempt, JobRecord, JobState
from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401 - fixtures reused
from govserve.journeys.tests.support import Browser, examples_publish
from govserve.privacy.access_report import DATA_PROTECTION_OFFICER_ROLE
from govserve.privacy.jobs import subject_access_prepare, subject_access_remove_expired
from govserve.privacy.models import DataKey, SubjectAccessRequest, SubjectAccessState
from govserve.privacy.subject_access import subject_access_export
from govserve.privacy.subject_access_requests import subject_access_bundle, subject_access_request_for_officer
from govserve.privacy.tests.subject_support import OTHER_MOTHER, SUBJECT_EMAIL, SUBJECT_MOTHER, People, people_create

COUNCIL_DPO = ("city-council", DATA_PROTECTION_OFFICER_ROLE)
REGISTRY_DPO = ("civil-registry", DATA_PROTECTION_OFFICER_ROLE)
FORM = "/staff/privacy/subject-access"


@pytest.fixture
def people(db: None) -> People:
    examples_publish()
    return people_create()


class _Capture(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__!r}")


@contextmanager
def _logs() -> Iterator[list[str]]:
    """Capture every log record (message, arguments, structlog's event dict) at DEBUG, as text."""
    root = logging.getLogger()
    lines: list[str] = []
    handler = _Capture(lines)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _count(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def _ask(client: Browser, email: str = SUBJECT_EMAIL, language: str = "en") -> SubjectAccessRequest:
    client.get(FORM)
    response = client.post(FORM, {"email": email, "language": language})
    assert response.status_code == 303, response.content.decode()[:2000]
    request_id = uuid.UUID(response["Location"].removeprefix(f"{FORM}/"))
    assert response["Location"] == f"{FORM}/{request_id}"
    return SubjectAccessRequest.objects.get(id=request_id)


def _job_id(asked: SubjectAccessRequest) -> uuid.UUID:
    assert asked.job_id is not None, "the request was recorded without its job"
    return asked.job_id


def _prepared(user: User) -> tuple[Browser, SubjectAccessRequest]:
    client = signed_in(user)
    asked = _ask(client)
    assert run_pending(raise_errors=True) >= 1
    asked.refresh_from_db()
    assert asked.state == SubjectAccessState.READY
    return client, asked


def test_the_officer_asks_and_the_page_says_it_is_being_prepared_without_the_address_in_the_job(
    people: People,
) -> None:
    officer = person(COUNCIL_DPO, name="dora")
    client = signed_in(officer)
    exported = _count("privacy.subject_access.exported")

    asked = _ask(client)
    page = client.get(f"{FORM}/{asked.id}")

    assert page.status_code == 200
    text = text_of(page)
    assert "Your subject access export is being prepared" in text
    assert f"Email address {SUBJECT_EMAIL}" in text
    assert "Organisations city-council" in text
    assert f'<a class="govuk-link" id="refresh-link" href="{FORM}/{asked.id}">' in page.content.decode()
    assert "<script" not in page.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    assert "no-store" in page["Cache-Control"]
    job = JobRecord.objects.get(id=_job_id(asked))
    assert (job.name, job.kwargs, job.state) == (
        "privacy.subject_access.prepare",
        {"request_id": str(asked.id)},
        JobState.QUEUED,
    )
    assert job.idempotency_key == f"privacy.subject_access.prepare:{asked.id}"
    task_row = DBTaskResult.objects.get(id=str(job.task_result_id))
    assert SUBJECT_EMAIL not in json.dumps(task_row.args_kwargs)
    assert SUBJECT_EMAIL.encode() not in bytes(asked.email_sealed)
    assert (asked.requested_by_id, asked.institutions, asked.language) == (officer.id, ["city-council"], "en")
    entry = AuditEntry.objects.filter(action="privacy.subject_access.requested").get()
    assert (entry.actor_kind, entry.subject_type, entry.subject_id) == (
        "user",
        "privacy.subject_access_request",
        str(asked.id),
    )
    assert entry.details == {"scope": ["city-council"], "language": "en"}
    assert _count("privacy.subject_access.exported") == exported  # nothing exported in the request


def test_the_form_lists_the_officers_own_requests_only(people: People) -> None:
    dora = signed_in(person(COUNCIL_DPO, name="dora"))
    dai = signed_in(person(COUNCIL_DPO, name="dai"))
    asked = _ask(dora)

    own = dora.get(FORM)
    other = dai.get(FORM)

    assert own.status_code == 200
    assert f'href="{FORM}/{asked.id}"' in own.content.decode()
    text = text_of(own)
    assert "Your requests Asked on Email address Status" in text
    assert f"{SUBJECT_EMAIL} Being prepared" in text
    assert other.status_code == 200
    assert "Your requests" not in text_of(other)
    assert SUBJECT_EMAIL not in other.content.decode()


def test_the_job_prepares_the_same_export_and_the_officer_downloads_it(
    people: People,
    media_root: Path,  # noqa: F811 - the fixture imported above
) -> None:
    officer = person(COUNCIL_DPO, name="dora")

    with _logs() as logged:
        client, asked = _prepared(officer)
    page = client.get(f"{FORM}/{asked.id}")
    downloads = _count("privacy.subject_access.downloaded")
    response = client.get(f"{FORM}/{asked.id}/download")

    assert page.status_code == 200
    text = text_of(page)
    assert "Your subject access export is ready" in text
    assert "Applications 2" in text
    assert f'href="{FORM}/{asked.id}/download"' in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert set(response["Cache-Control"].split(", ")) == {
        "no-store",
        "private",
        "max-age=0",
        "no-cache",
        "must-revalidate",
    }
    assert response["Content-Disposition"].startswith('attachment; filename="subject-access-')
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        data = json.loads(bundle.read("export.json"))
        assert bundle.read("export.pdf").startswith(b"%PDF-")
        names = set(bundle.namelist())
    direct = subject_access_export(
        email=SUBJECT_EMAIL, actor=Actor.system("test"), institutions=frozenset({"city-council"}), with_pdf=False
    )
    assert {key: value for key, value in data.items() if key != "generated_at"} == {
        key: value for key, value in direct.data.items() if key != "generated_at"
    }
    assert names == {"export.json", "export.pdf", *direct.files}
    assert {application["reference"] for application in data["applications"]} == {
        people.trading.reference,
        people.light.reference,
    }
    assert SUBJECT_MOTHER not in json.dumps(data)  # the birth registration belongs to another institution
    assert OTHER_MOTHER not in json.dumps(data)
    # stored sealed under the request's own key, never in clear
    stored = (media_root / asked.storage_name).read_bytes()
    assert not stored.startswith(b"PK")
    assert SUBJECT_EMAIL.encode() not in stored
    assert asked.size_bytes == len(response.content)
    exported = AuditEntry.objects.filter(action="privacy.subject_access.exported", actor_kind="user").get()
    assert exported.actor_id == str(officer.id)
    assert (exported.subject_type, exported.subject_id) == ("accounts.citizen", str(people.subject.id))
    downloaded = AuditEntry.objects.filter(action="privacy.subject_access.downloaded").get()
    assert _count("privacy.subject_access.downloaded") == downloads + 1
    assert (downloaded.actor_kind, downloaded.actor_id) == ("user", str(officer.id))
    assert (downloaded.subject_type, downloaded.subject_id) == ("accounts.citizen", str(people.subject.id))
    assert downloaded.details == {
        "request": str(asked.id),
        "size_bytes": len(response.content),
        "scope": ["city-council"],
    }
    assert logged, "nothing was logged"
    assert SUBJECT_EMAIL not in "\n".join(logged)
    assert SUBJECT_EMAIL not in json.dumps(JobRecord.objects.get(id=_job_id(asked)).kwargs)


def test_a_repeated_delivery_of_the_job_changes_nothing(people: People) -> None:
    _, asked = _prepared(person(COUNCIL_DPO, name="dora"))
    exported = _count("privacy.subject_access.exported")

    subject_access_prepare(request_id=str(asked.id))

    again = SubjectAccessRequest.objects.get(id=asked.id)
    assert (again.storage_name, again.ready_at) == (asked.storage_name, asked.ready_at)
    assert _count("privacy.subject_access.exported") == exported


def test_the_download_asks_an_officer_who_signed_in_a_while_ago_to_confirm_it_is_them(
    people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, asked = _prepared(person(COUNCIL_DPO, name="della"))
    later = clock.now() + dt.timedelta(minutes=6)
    monkeypatch.setattr("govserve.core.clock.now", lambda: later)
    downloads = _count("privacy.subject_access.downloaded")

    page = client.get(f"{FORM}/{asked.id}")
    response = client.get(f"{FORM}/{asked.id}/download")

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/confirm-it-is-you?next=")
    assert _count("privacy.subject_access.downloaded") == downloads


@pytest.mark.parametrize("who", ["other-officer", "not-an-officer", "lost-the-role"])
def test_anyone_but_the_officer_who_asked_gets_not_found(people: People, who: str) -> None:
    officer = person(COUNCIL_DPO, REGISTRY_DPO, name="dora")
    _, asked = _prepared(officer)
    if who == "other-officer":
        client = signed_in(person(COUNCIL_DPO, name="dai"))
    elif who == "not-an-officer":
        client = signed_in(person(("city-council", "licensing-officer"), name="lena"))
    else:
        client = signed_in(officer)
        RoleAssignment.objects.filter(user=officer, institution__code="civil-registry").delete()
    downloads = _count("privacy.subject_access.downloaded")

    page = client.get(f"{FORM}/{asked.id}")
    download = client.get(f"{FORM}/{asked.id}/download")
    missing = client.get(f"{FORM}/{uuid.uuid4()}")

    assert (page.status_code, download.status_code, missing.status_code) == (404, 404, 404)
    assert SUBJECT_EMAIL not in page.content.decode()
    assert text_of(page) == text_of(missing)
    assert _count("privacy.subject_access.downloaded") == downloads


def test_an_officer_who_loses_the_role_before_the_job_runs_gets_no_export(people: People) -> None:
    officer = person(COUNCIL_DPO, name="dora")
    asked = _ask(signed_in(officer))
    RoleAssignment.objects.filter(user=officer).delete()
    exported = _count("privacy.subject_access.exported")

    run_pending(raise_errors=True)

    removed = SubjectAccessRequest.objects.get(id=asked.id)
    assert (removed.state, removed.storage_name, bytes(removed.email_sealed)) == (SubjectAccessState.REMOVED, "", b"")
    assert _count("privacy.subject_access.exported") == exported
    assert JobRecord.objects.get(id=_job_id(asked)).state == JobState.SUCCEEDED
    assert DataKey.objects.get(owner=f"subject_access:{asked.id}").destroyed_at is not None
    entry = AuditEntry.objects.filter(action="privacy.subject_access.removed").get()
    assert entry.details == {"was": "preparing", "had_file": False}


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(people: People) -> None:
    _, asked = _prepared(person(COUNCIL_DPO, name="dora"))

    response = Browser().get(f"{FORM}/{asked.id}/download")

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in")


def test_the_export_is_removed_when_its_time_is_up_and_its_page_says_so(
    people: People,
    media_root: Path,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.GOVSERVE_SUBJECT_ACCESS_KEEP_DAYS = 2
    client, asked = _prepared(person(COUNCIL_DPO, name="dora"))
    assert asked.ready_at is not None
    assert asked.expires_at == asked.ready_at + dt.timedelta(days=2)
    stored = media_root / asked.storage_name
    assert stored.is_file()
    real_now = clock.now
    monkeypatch.setattr("govserve.core.clock.now", lambda: asked.expires_at - dt.timedelta(seconds=1))
    subject_access_remove_expired()
    assert stored.is_file(), "removed before its time"
    monkeypatch.setattr("govserve.core.clock.now", lambda: asked.expires_at)
    # past its time, before the hourly removal: already gone for the officer
    assert subject_access_request_for_officer(user=asked.requested_by, request_id=asked.id).status == "removed"
    assert subject_access_bundle(user=asked.requested_by, request_id=asked.id) is None

    subject_access_remove_expired()
    subject_access_remove_expired()  # idempotent

    monkeypatch.setattr("govserve.core.clock.now", real_now)
    removed = SubjectAccessRequest.objects.get(id=asked.id)
    assert (removed.state, removed.removed_at, bytes(removed.email_sealed)) == (
        SubjectAccessState.REMOVED,
        asked.expires_at,
        b"",
    )
    assert not stored.exists()
    key = DataKey.objects.get(owner=f"subject_access:{asked.id}")
    assert (key.destroyed_at, key.wrapped_key) == (asked.expires_at, None)
    entry = AuditEntry.objects.filter(action="privacy.subject_access.removed").get()
    assert (entry.actor_kind, entry.subject_id, entry.details) == (
        "system",
        str(asked.id),
        {"was": "ready", "had_file": True},
    )
    assert AuditEntry.objects.filter(action="privacy.data_key.destroyed", subject_id=str(asked.id)).count() == 1
    page = client.get(f"{FORM}/{asked.id}")
    download = client.get(f"{FORM}/{asked.id}/download")
    assert page.status_code == 200
    text = text_of(page)
    assert "Your subject access export has been removed" in text
    assert "exports are kept for a short time only" in text
    assert SUBJECT_EMAIL not in text
    assert (download.status_code, download["Location"]) == (303, f"{FORM}/{asked.id}")
    schedule = registered_schedules()["privacy.subject_access.remove_expired"]
    assert (schedule.every, schedule.offset) == (dt.timedelta(hours=1), dt.timedelta(minutes=20))


def test_a_bad_email_address_keeps_the_message_and_what_the_officer_typed(people: People) -> None:
    client = signed_in(person(REGISTRY_DPO, name="rita"))
    client.get(FORM)
    jobs = JobRecord.objects.count()

    response = client.post(FORM, {"email": "not an address", "language": "cy"})

    assert response.status_code == 400
    text = text_of(response)
    assert "Enter an email address in the correct format, like name@example.com" in text
    assert 'value="not an address"' in response.content.decode()
    assert SubjectAccessRequest.objects.count() == 0
    assert JobRecord.objects.count() == jobs
    assert _count("privacy.subject_access.requested") == 0


def test_a_job_that_keeps_failing_is_shown_as_failed_and_its_error_is_raised_not_masked(
    people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    client = signed_in(person(COUNCIL_DPO, name="dora"))
    asked = _ask(client)
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    # The storage is broken (its root is a file): a real failure, not a stand-in.
    settings.STORAGES = {
        **django_settings.STORAGES,
        "broken": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocker)}},
    }
    settings.GOVSERVE_DOCUMENTS_STORAGE = "broken"

    with _logs() as logged, pytest.raises(OSError, match="not-a-directory"):
        run_pending(raise_errors=True)
    waiting = client.get(f"{FORM}/{asked.id}")
    [failure] = [line for line in logged if "job.failed" in line and "privacy.subject_access.prepare" in line]
    # the worker logged the exception itself, class and traceback (job.failed, a warning: the job will retry)
    assert "'levelname': 'WARNING'" in failure
    assert "'error_class': 'builtins.NotADirectoryError'" in failure
    assert "Traceback (most recent call last)" in failure
    assert SUBJECT_EMAIL not in "\n".join(logged)
    start = clock.now()
    for minutes in (2, 4):
        monkeypatch.setattr("govserve.core.clock.now", lambda minutes=minutes: start + dt.timedelta(minutes=minutes))
        with pytest.raises(OSError, match="not-a-directory"):
            run_pending(raise_errors=True)

    monkeypatch.setattr("govserve.core.clock.now", lambda: start + dt.timedelta(minutes=5))
    failed = client.get(f"{FORM}/{asked.id}")
    job = JobRecord.objects.get(id=_job_id(asked))
    assert "being prepared" in text_of(waiting)
    assert (job.state, job.attempts) == (JobState.DEAD, 3)
    attempts = JobAttempt.objects.filter(job_id=job.id).order_by("number")
    assert [attempt.outcome for attempt in attempts] == ["failed", "failed", "failed"]
    assert {attempt.error_class for attempt in attempts} == {"builtins.NotADirectoryError"}
    assert "Traceback" in attempts[2].traceback
    assert failed.status_code == 200
    text = text_of(failed)
    assert "Your subject access export could not be prepared" in text
    assert f"give them this reference: {job.id}" in text
    assert SubjectAccessRequest.objects.get(id=asked.id).state == SubjectAccessState.PREPARING

    # once the storage is mended, the operator's retry of the dead job (as docs/privacy.md says) prepares it
    settings.GOVSERVE_DOCUMENTS_STORAGE = "default"
    call_command("jobs", "retry", str(job.id), stdout=io.StringIO())
    again = client.get(f"{FORM}/{asked.id}")
    call_command("worker", "--batch", "--no-schedules", stdout=io.StringIO())
    ready = client.get(f"{FORM}/{asked.id}")
    assert "Your subject access export is being prepared" in text_of(again)
    assert "Your subject access export is ready" in text_of(ready)
    # and the export is audited once, when it became the officer's: not once for each failed attempt
    assert _count("privacy.subject_access.exported") == 1


def test_an_export_that_could_not_be_stored_is_audited_once_when_it_is(
    people: People,
    media_root: Path,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = signed_in(person(COUNCIL_DPO, name="dora"))
    asked = _ask(client)
    # The exports' directory cannot be made (a file holds its name): the export is built, then not stored.
    blocker = media_root / "subject-access"
    blocker.write_bytes(b"")

    with pytest.raises(OSError):  # noqa: PT011 - the file system's own error, whichever its subclass
        run_pending(raise_errors=True)

    assert SubjectAccessRequest.objects.get(id=asked.id).state == SubjectAccessState.PREPARING
    assert _count("privacy.subject_access.exported") == 0
    # once the directory can be made, the job's retry stores it: one entry, for the export the officer gets
    blocker.unlink()
    later = clock.now() + dt.timedelta(minutes=2)
    monkeypatch.setattr("govserve.core.clock.now", lambda: later)
    assert run_pending(raise_errors=True) >= 1
    assert SubjectAccessRequest.objects.get(id=asked.id).state == SubjectAccessState.READY
    assert _count("privacy.subject_access.exported") == 1
