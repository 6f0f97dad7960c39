"""Issue 8's proof that nothing leaks: every example journey, casework, notifications and payments run, then a raw scan.

:func:`everything_run` does what the product does with personal data, end to
end, through the same services and pages people use:

* a street trading licence: a signed-in citizen answers every page (an
  assistant added, a photo, the insurance certificate whose text and file
  name carry personal values), pays £300 through the payment pages and the
  sandbox's card form, reads their application page, writes to the team;
  a licensing officer signs in through the staff pages (password and
  authenticator code), opens the file, writes a note and a message, and
  approves with the processing field; the licensing manager approves; the
  licence is rendered and emailed;
* a newborn registration: submitted with the mother's NHS number, address
  and email, sent back by the registrar with a message, the documents flagged;
* a street light report: anonymous, the reporter's name and email, a
  satisfaction comment; the triage bot passes it on; the engineer rejects it
  with a reason that names the reporter;
* the worker runs every queued job (emails to a real SMTP server on
  loopback, the licence PDF, the bot) and the logs are captured at DEBUG;
* the council's data protection officer asks for everything held about the
  trader on the staff page; the worker prepares the zip (stored sealed in
  the upload directory) and the officer downloads it.

Then :func:`govserve.privacy.testing.plaintext_scan` reads every table raw
(task arguments, outbox, notification records, payments, audit included), the
SQLite file and its WAL byte by byte where the database is a file, and the
whole upload directory; the captured log records are searched too. None of
:data:`PERSONAL_VALUES` may appear. The same run also proves the values went
through: the staff file view and the applicant's page show them, and the
emails that reached the SMTP server carry them (so the scan had something to
miss).

SQLite runs it in a subprocess on a database file in WAL mode (the test
database of an ordinary run is in memory: no file to scan); PostgreSQL runs
it in-process in a ``transaction=True`` test (its files are not reachable,
its tables are).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings

from govserve.audit.actors import Actor
from govserve.casework import services as casework
from govserve.casework.models import Task
from govserve.casework.tests.support import open_task
from govserve.casework.tests.test_views import person, signed_in
from govserve.catalogue.selectors import compiled_cache_clear
from govserve.core.jobs import run_pending
from govserve.core.models import JobRecord
from govserve.documents.tests.samples import pdf_document
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN,
    NEWBORN_FORMS,
    STREET_LIGHT,
    STREET_TRADING,
    Browser,
    applicant,
    citizen_new,
    examples_publish,
    sign_in,
)
from govserve.journeys.tests.test_services import assistant_form, fill_newborn, fill_trading, save, start, submit
from govserve.notifications.testing import smtp_sink
from govserve.payments.models import Payment
from govserve.payments.tests.support import sandbox_path
from govserve.privacy.testing import ScanReport, plaintext_scan

# Every value a person gave that the definitions classify personal, and what staff wrote about them. Each is
# long enough not to occur by chance in ciphertext (privacy.testing.MIN_VALUE_BYTES).
PERSONAL_VALUES = [
    # the street trading applicant (examples/services/street-trading-licence.yaml), account and answers
    "leak.trader@example.org",
    "Ada Lovelace",
    "ada.lovelace@example.org",
    "07700 900123",
    "7700900123",
    "12 Analytical Row",
    "1990-03-27",
    "Grace Hopper",
    "1980-12-09",
    "ada-lovelace-insurance.pdf",
    "Policy holder Ada Lovelace-King",
    # the newborn registration
    "leak.parent@example.org",
    "Augusta Ada",
    "Anne Isabella Milbanke",
    "943 476 5919",
    "9434765919",
    "13 Piccadilly Terrace",
    "anne.milbanke@example.org",
    "1992-05-17",
    # the street light reporter
    "Charles Babbage",
    "charles.babbage@example.org",
    "Please fix the light near my house",
    # what the applicant and staff wrote (messages, notes, decision reasons)
    "My partner Bertie Wooster-Glossop helps",
    "Bertie Wooster-Glossop",
    "Spoke to Mrs Dahlia Travers by phone",
    "Dear Ada, please confirm your pitch",
    "Please upload the certificate for Anne Isabella",
    "Reported by Charles Babbage: a private light",
    # the card, typed on the sandbox's page
    "4444 3333 2222 1111",
    "4444333322221111",
]

OFFICER = ("city-council", "licensing-officer")
DATA_PROTECTION_OFFICER = ("city-council", "data-protection-officer")
MANAGER = ("city-council", "licensing-manager")
REGISTRAR = ("civil-registry", "registrar")
ENGINEER = ("city-council", "street-lighting-engineer")


class _Capture(logging.Handler):
    """Keeps every record's whole state (message, arguments, structlog's event dict, extras) as text."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string is still searched, as written
            message = str(record.msg)
        self.lines.append(f"{record.name} {record.levelname} {message} {record.__dict__!r}")


@contextmanager
def _logs_captured() -> Iterator[_Capture]:
    root = logging.getLogger()
    capture = _Capture()
    level = root.level
    # The SMTP server (aiosmtpd) stands for the recipients' mail system, outside govserve: it logs the SMTP
    # conversation (recipients at INFO, every line at DEBUG). Its records are not govserve's: kept to warnings.
    # Every other logger, govserve's and its libraries', is captured at DEBUG.
    peer = logging.getLogger("mail.log")
    peer_level = peer.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    peer.setLevel(logging.WARNING)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
        peer.setLevel(peer_level)


def _text(response: Any) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.DOTALL)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def _trading(shown: dict[str, bool]) -> Application:
    citizen = citizen_new("leak.trader@example.org")
    who = applicant(citizen)
    application = start(STREET_TRADING, who)
    fill_trading(application, who)
    journeys.group_item_save(
        application_id=application.id,
        applicant=who,
        page_id="assistants",
        group_id="assistants",
        item_id=None,
        data=assistant_form("Grace Hopper", dt.date(1980, 12, 9)),
        language="en",
    )
    save(application, who, "assistants", {})
    certificate = pdf_document("Policy holder Ada Lovelace-King of 12 Analytical Row")
    journeys.requirement_upload(
        application_id=application.id,
        applicant=who,
        document_id="public-liability-insurance",
        upload=SimpleUploadedFile("ada-lovelace-insurance.pdf", certificate, content_type="application/pdf"),
    )
    sent = submit(application, who, key="leak-trading").application
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT, sent.status

    client = Browser()
    sign_in(client, citizen)
    pay = f"/payments/apply/{sent.id}/pay"
    assert client.get(pay).status_code == 200
    client.post(pay, {"when": "before_submission"})
    payment = Payment.objects.get(application=sent, state="created")
    assert client.get(sandbox_path(payment)).status_code == 200
    paid = client.post(sandbox_path(payment), {"card-number": "4444 3333 2222 1111", "action": "pay"})
    back = client.get(paid["Location"].removeprefix("http://testserver"))
    assert client.get(back["Location"]).status_code == 200
    payment.refresh_from_db()
    assert payment.state == "success", payment.state
    page = client.get(f"/applications/{sent.id}/")
    assert page.status_code == 200
    shown["applicant_page_shows_the_answers"] = "Ada Lovelace" in _text(page)
    run_pending()

    casework.message_send_applicant(
        application=sent, actor=Actor.system("applicant"), body="My partner Bertie Wooster-Glossop helps"
    )
    officer = person(OFFICER, name="leak-officer")
    staff_client = signed_in(officer)
    task = open_task(sent)
    file_page = staff_client.get(f"/staff/files/{task.case_file_id}/")
    assert file_page.status_code == 200, file_page.status_code
    shown["file_view_shows_the_answers"] = "Ada Lovelace" in _text(file_page)
    casework.note_add(user=officer, file_id=task.case_file_id, body="Spoke to Mrs Dahlia Travers by phone")
    casework.message_send_staff(user=officer, file_id=task.case_file_id, body="Dear Ada, please confirm your pitch")
    casework.task_claim(user=officer, task_id=task.id)
    casework.decision_record(user=officer, task_id=task.id, decision="approve", data={"pitch_inspected": ["yes"]})
    manager = person(MANAGER, name="leak-manager")
    casework.decision_record(user=manager, task_id=open_task(sent).id, decision="approve", data={})
    return sent


def _newborn() -> Application:
    who = applicant(citizen_new("leak.parent@example.org"))
    application = start(NEWBORN, who)
    # the example's own NHS number is the definition's hint text ("like 485 777 3456"): use another valid one
    mother = {**NEWBORN_FORMS["mother"], "mother_nhs_number": ["943 476 5919"]}
    with patch.dict(NEWBORN_FORMS, {"mother": mother}):
        fill_newborn(application, who)
    for document_id in ("mother-identity-document", "birth-notification"):
        journeys.requirement_upload(
            application_id=application.id,
            applicant=who,
            document_id=document_id,
            upload=SimpleUploadedFile("scan.pdf", pdf_document("Scanned document"), content_type="application/pdf"),
        )
    sent = submit(application, who, key="leak-newborn").application
    registrar = person(REGISTRAR, name="leak-registrar")
    task = open_task(sent)
    casework.task_claim(user=registrar, task_id=task.id)
    casework.decision_record(
        user=registrar,
        task_id=task.id,
        decision="send_back",
        reason="The birth notification is unreadable",
        flagged_documents=["birth-notification"],
        message="Please upload the certificate for Anne Isabella",
    )
    return sent


def _street_light() -> Application:
    started = journeys.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles.babbage@example.org"
    )
    who = applicant(None, started.application.id)
    for page_id in LIGHT_PATH:
        save(started.application, who, page_id, LIGHT_FORMS[page_id])
    sent = submit(started.application, who, key="leak-light").application
    journeys.satisfaction_record(
        service_id=STREET_LIGHT,
        version=1,
        page_id="confirmation",
        rating=4,
        comment="Please fix the light near my house",
        application=sent,
        language="en",
    )
    run_pending()  # the triage bot passes the report to the engineers
    engineer = person(ENGINEER, name="leak-engineer")
    task = open_task(sent)
    casework.task_claim(user=engineer, task_id=task.id)
    casework.decision_record(
        user=engineer, task_id=task.id, decision="reject", reason="Reported by Charles Babbage: a private light"
    )
    return sent


def _subject_access(shown: dict[str, bool]) -> None:
    """The council's data protection officer asks for the trader's data; the job prepares it; they download it."""
    client = signed_in(person(DATA_PROTECTION_OFFICER, name="leak-dpo"))
    client.get("/staff/privacy/subject-access")
    asked = client.post("/staff/privacy/subject-access", {"email": "leak.trader@example.org", "language": "en"})
    assert asked.status_code == 303, asked.status_code
    run_pending()
    download = client.get(f"{asked['Location']}/download")
    assert download.status_code == 200, download.status_code
    with zipfile.ZipFile(io.BytesIO(download.content)) as bundle:
        shown["subject_access_export_holds_the_answers"] = "Ada Lovelace" in bundle.read("export.json").decode()


def _report(report: ScanReport) -> dict[str, Any]:
    return {
        "findings": [[PERSONAL_VALUES[f.value_index], f.encoding, f.where] for f in report.findings],
        "tables": sorted(report.tables),
        "rows": report.rows,
        "files": [str(Path(name)) for name in report.files],
        "file_bytes": report.file_bytes,
    }


def everything_run(media_root: Path) -> dict[str, Any]:
    """Run the example journeys, casework, payments and notifications end to end, then scan; return the result."""
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media_root)}},
    }
    shown: dict[str, bool] = {}
    with (
        smtp_sink() as sink,
        override_settings(
            EMAIL_URL=sink.url,
            PAYMENT_URL="sandbox://",
            PUBLIC_BASE_URL="http://testserver",
            STORAGES=storages,
            GOVSERVE_SCANNER="test",
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        ),
        _logs_captured() as logs,
    ):
        compiled_cache_clear()
        examples_publish()
        applications = [_trading(shown), _newborn(), _street_light()]
        for _ in range(5):  # results rendered, then their emails; stop when nothing is left
            if run_pending() == 0:
                break
        _subject_access(shown)  # the prepared zip is stored sealed in the upload directory scanned below
        emails = [item.message.as_string() for item in sink.received]
    statuses = {str(item.reference): Application.objects.get(pk=item.pk).status for item in applications}
    scan = plaintext_scan(PERSONAL_VALUES, directories=[media_root])
    log_text = "\n".join(logs.lines)
    email_text = "\n".join(emails)
    media_files = [path for path in media_root.rglob("*") if path.is_file()]
    return {
        "scan": _report(scan),
        "log_records": len(logs.lines),
        "values_in_logs": [value for value in PERSONAL_VALUES if value in log_text],
        "emails": len(emails),
        "values_in_emails": [value for value in PERSONAL_VALUES if value in email_text],
        "shown": shown,
        "statuses": statuses,
        "media_files": len(media_files),
        "media_bytes": sum(path.stat().st_size for path in media_files),
        "jobs": JobRecord.objects.count(),
        "tasks": Task.objects.count(),
    }


def main(directory: str) -> dict[str, Any]:
    """Subprocess entry on a fresh SQLite file: migrate everything, then :func:`everything_run`."""
    from django.core.management import call_command  # noqa: PLC0415

    call_command("migrate", verbosity=0, stdout=io.StringIO())
    media = Path(directory) / "media"
    media.mkdir()
    return everything_run(media)
