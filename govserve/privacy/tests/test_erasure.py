"""Erasure and legal holds: the rules that refuse, the same machinery as retention, results' public page."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from govserve.accounts.models import Citizen, PlatformRole
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.audit.sealer import seal_pending
from govserve.audit.verify import verify_chain
from govserve.casework.results import services as results
from govserve.casework.results.models import IssuedResult
from govserve.casework.results.tests.support import OFFICER, approved_trading, trading_application
from govserve.casework.tests.support import staff
from govserve.core import clock
from govserve.documents.models import Document
from govserve.journeys import services as journey_services
from govserve.journeys.models import Answer, Application, ApplicationEvent, ApplicationStatus
from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401
from govserve.journeys.tests.support import TRADING_FORMS, applicant, citizen_new, examples_publish
from govserve.payments.models import Payment
from govserve.privacy import erasure
from govserve.privacy.access_report import DATA_PROTECTION_OFFICER_ROLE
from govserve.privacy.models import DataKey, LegalHold, RetentionRecord
from govserve.privacy.retention import retention_run
from govserve.privacy.testing import plaintext_scan
from govserve.privacy.tests.retention_support import row_counts, stored_files

pytestmark = pytest.mark.django_db

CLI = Actor.system("test")
FULL_NAME = "Philippa Wrenfield-Okonkwo"


@pytest.fixture(autouse=True)
def _examples(media_root: Path, settings: Any) -> None:  # noqa: F811
    settings.PUBLIC_BASE_URL = "https://services.example.gov.uk"
    examples_publish()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _issued(application: Application) -> IssuedResult:
    return results.results_issue(application, actor=OFFICER)[0]


def _expire(row: IssuedResult) -> None:
    IssuedResult.objects.filter(pk=row.pk).update(valid_until=row.issued_on - dt.timedelta(days=1))


def test_a_file_whose_licence_is_still_valid_is_refused_and_nothing_changes(media_root: Path) -> None:  # noqa: F811
    application = approved_trading(full_name=FULL_NAME)
    _issued(application)
    rows, files = row_counts(), stored_files(media_root)

    with pytest.raises(erasure.ErasureRefusedError) as refused:
        erasure.erase_by_reference(reference=application.reference, actor=CLI)

    assert [(ref, code) for ref, code, _ in refused.value.refusals] == [(application.reference, "result_valid")]
    assert "still valid" in refused.value.message
    after = row_counts()
    assert after.pop("audit_auditentry") == rows.pop("audit_auditentry") + 1  # the refusal, audited
    assert after == rows
    assert stored_files(media_root) == files
    entry = AuditEntry.objects.get(action="privacy.erasure.refused")
    assert entry.details == {"files": {application.reference: "result_valid"}}


def test_erasing_a_file_removes_its_data_and_the_public_page_says_no_record_is_held(media_root: Path) -> None:  # noqa: F811
    application = approved_trading(full_name=FULL_NAME)
    row = _issued(application)
    from govserve.core.jobs import run_pending  # noqa: PLC0415

    run_pending(raise_errors=True)  # renders the PDF into the file store
    row.refresh_from_db()
    assert row.pdf_storage_name
    _expire(row)
    header = b"\x01" + DataKey.objects.get(owner=application.crypto_owner).id.bytes
    assert not plaintext_scan([header], directories=[media_root]).clean

    result = erasure.erase_by_reference(reference=application.reference.lower(), actor=CLI)

    assert result.erased == [application.reference]
    assert not IssuedResult.objects.filter(application=application).exists()
    assert not Answer.objects.filter(application=application).exists()
    assert not Document.objects.filter(owner=application.crypto_owner).exists()
    assert plaintext_scan([header, FULL_NAME], directories=[media_root]).clean
    record = RetentionRecord.objects.get(application_id=application.pk)
    assert (record.action, record.reason) == ("anonymise", "erasure")
    page = Client().get(f"/verify/{row.code}")
    assert page.status_code == 404
    assert "we no longer hold a record of the result" in _text(page.content.decode())
    body = Client().get(f"/verify/{row.code}", HTTP_ACCEPT="application/json").json()
    assert body == {"genuine": False, "outcome": "no_record"}
    seal_pending()
    assert verify_chain().intact
    # Erasing again changes nothing.
    again = erasure.erase_by_reference(reference=application.reference, actor=CLI)
    assert (again.erased, again.already_done) == ([], [application.reference])


def test_retention_finds_a_file_closed_by_its_history_and_removes_its_result() -> None:
    application = approved_trading(full_name=FULL_NAME)
    row = _issued(application)
    _expire(row)
    ApplicationEvent.objects.create(
        application=application,
        kind="status_changed",
        from_status="in_progress",
        to_status="approved",
        occurred_at=clock.now() - dt.timedelta(days=7 * 366),
        actor_kind="user",
    )

    report = retention_run()

    assert report.services["street-trading-licence"].results == 1
    assert not IssuedResult.objects.filter(application=application).exists()
    assert Client().get(f"/verify/{row.code}").status_code == 404


def test_an_open_file_is_refused_with_its_reason() -> None:
    application = trading_application(full_name=FULL_NAME)
    assert application.status == ApplicationStatus.AWAITING_PAYMENT

    with pytest.raises(erasure.ErasureRefusedError) as refused:
        erasure.erase_by_reference(reference=application.reference, actor=CLI)

    assert [code for _, code, _ in refused.value.refusals] == ["file_open"]
    assert Answer.objects.filter(application=application).exists()
    assert not RetentionRecord.objects.exists()


def test_a_legal_hold_refuses_erasure_and_stops_retention_until_released() -> None:
    application = approved_trading(full_name=FULL_NAME)
    ApplicationEvent.objects.create(
        application=application,
        kind="status_changed",
        from_status="in_progress",
        to_status="approved",
        occurred_at=clock.now() - dt.timedelta(days=7 * 366),
        actor_kind="user",
    )
    out = StringIO()
    call_command("privacy", "hold", application.reference, "--reason", "litigation", stdout=out)
    assert "Placed legal hold" in out.getvalue()
    with pytest.raises(erasure.LegalHoldError):
        erasure.legal_hold_place(reference=application.reference, reason_code="litigation", actor=CLI)
    with pytest.raises(erasure.LegalHoldError):
        erasure.legal_hold_place(reference=application.reference, reason_code="because", actor=CLI)

    with pytest.raises(CommandError, match="legal hold"):
        call_command("privacy", "erase", "--reference", application.reference)
    assert retention_run().files == 0
    dry = StringIO()
    call_command("privacy", "retention", "--dry-run", stdout=dry)
    assert "0 files would go" in dry.getvalue()
    assert "1 held" in dry.getvalue()

    call_command("privacy", "release", application.reference, stdout=StringIO())
    assert LegalHold.objects.get().released_at is not None
    assert retention_run().files == 1
    assert AuditEntry.objects.filter(action__startswith="privacy.legal_hold.").count() == 2


def test_erasing_an_account_erases_its_closed_files_then_the_account() -> None:
    citizen = citizen_new("philippa.wrenfield@example.org")
    person = applicant(citizen)
    first = approved_trading(who=person, full_name=FULL_NAME)
    second = approved_trading(who=person, full_name=FULL_NAME)
    _expire(_issued(first))
    other = approved_trading(full_name="Someone Else Entirely")

    out = StringIO()
    call_command("privacy", "erase", "--account", str(citizen.pk), stdout=out)

    assert "Erased 2 files" in out.getvalue()
    assert "the account was removed" in out.getvalue()
    assert not Citizen.objects.filter(pk=citizen.pk).exists()
    assert DataKey.objects.get(owner=f"citizen:{citizen.pk}").destroyed_at is not None
    assert set(RetentionRecord.objects.values_list("application_id", flat=True)) == {first.pk, second.pk}
    assert Answer.objects.filter(application=other).exists()
    assert plaintext_scan(["philippa.wrenfield@example.org", FULL_NAME]).clean
    assert AuditEntry.objects.filter(action="privacy.citizen.erased", subject_id=str(citizen.pk)).exists()


def test_an_account_with_an_open_file_is_refused_as_a_whole() -> None:
    citizen = citizen_new("philippa.wrenfield@example.org")
    person = applicant(citizen)
    closed = approved_trading(who=person, full_name=FULL_NAME)
    trading_application(who=person, full_name=FULL_NAME)

    with pytest.raises(erasure.ErasureRefusedError) as refused:
        erasure.erase_by_account(citizen_id=citizen.pk, actor=CLI)

    assert [code for _, code, _ in refused.value.refusals] == ["file_open"]
    assert Citizen.objects.filter(pk=citizen.pk).exists()
    assert Answer.objects.filter(application=closed).exists()
    assert not RetentionRecord.objects.exists()


def test_only_a_data_protection_officer_of_the_owning_institution_may_erase_from_the_staff_side() -> None:
    application = approved_trading(full_name=FULL_NAME)
    officer = staff(("city-council", "licensing-officer"))
    administrator = staff(("city-council", PlatformRole.ADMINISTRATOR))
    elsewhere = staff(("civil-registry", DATA_PROTECTION_OFFICER_ROLE))
    dpo = staff(("city-council", DATA_PROTECTION_OFFICER_ROLE))

    for user in (officer, administrator, elsewhere):
        with pytest.raises(erasure.ErasureNotPermittedError):
            erasure.erase_by_reference(reference=application.reference, actor=CLI, user=user)
    assert not RetentionRecord.objects.exists()

    erasure.erase_by_reference(reference=application.reference, actor=Actor.for_user(dpo), user=dpo)
    assert RetentionRecord.objects.filter(application_id=application.pk).exists()


def test_unknown_subjects_are_clear_errors() -> None:
    with pytest.raises(CommandError, match="no application with this reference"):
        call_command("privacy", "erase", "--reference", "NOPE1234")
    with pytest.raises(CommandError, match="no citizen account"):
        call_command("privacy", "erase", "--account", "not-a-uuid")


def _payment(application: Application, state: str) -> Payment:
    return Payment.objects.create(
        application=application,
        paid_when="before_submission",
        reference=application.reference,
        amount_minor=4500,
        currency="GBP",
        provider="sandbox",
        provider_id=f"pay-{state}-{application.pk.hex[:8]}",
        state=state,
        idempotency_key=f"pay:{application.pk}:{state}",
        return_token=f"{state}-{application.pk.hex}",
        next_url="https://pay.example/secure/abc",
        card_brand="Visa",
        last_digits="4242",
        failure_message="Card declined for Philippa",
    )


def test_an_unfinished_payment_refuses_and_a_finished_one_loses_its_card_details_not_its_amount() -> None:
    application = approved_trading(full_name=FULL_NAME)
    unfinished = _payment(application, "started")

    with pytest.raises(erasure.ErasureRefusedError) as refused:
        erasure.erase_by_reference(reference=application.reference, actor=CLI)
    assert [code for _, code, _ in refused.value.refusals] == ["payment_in_progress"]

    Payment.objects.filter(pk=unfinished.pk).update(state="failed")
    paid = _payment(application, "success")
    erasure.erase_by_reference(reference=application.reference, actor=CLI)

    for payment in Payment.objects.filter(pk__in=[unfinished.pk, paid.pk]):
        assert (payment.card_brand, payment.last_digits, payment.failure_message, payment.next_url) == ("", "", "", "")
        assert (payment.amount_minor, payment.currency) == (4500, "GBP")
    assert Payment.objects.get(pk=paid.pk).state == "success"


def test_a_draft_can_be_erased() -> None:
    citizen = citizen_new("philippa.wrenfield@example.org")
    person = applicant(citizen)
    draft = journey_services.application_start(service_id="street-trading-licence", applicant=person, language="en")
    application = draft.application
    for page_id, form in (("age", TRADING_FORMS["age"]), ("your-name", {"full_name": [FULL_NAME]})):
        journey_services.page_answers_save(
            application_id=application.id, applicant=person, page_id=page_id, data=form, language="en"
        )
    assert Answer.objects.filter(application=application).exists()

    result = erasure.erase_by_account(citizen_id=citizen.pk, actor=CLI)

    assert result.erased == [application.reference]
    assert result.account_removed
    assert not Answer.objects.filter(application=application).exists()
    record = RetentionRecord.objects.get(application_id=application.pk)
    assert (record.reason, record.closed_at) == ("erasure", None)
