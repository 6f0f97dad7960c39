import hashlib
import logging
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from govserve.audit.models import AuditEntry
from govserve.core.jobs import job_retry, run_pending
from govserve.core.models import JobRecord, JobState
from govserve.notifications import email as email_module
from govserve.notifications import outbound as outbound_module
from govserve.notifications.email import (
    FIELD_BODY,
    FIELD_RECIPIENT,
    FIELD_SUBJECT,
    PlatformTemplate,
    email_deliver,
    email_send,
    message_id_for,
)
from govserve.notifications.errors import (
    EmailIdempotencyConflictError,
    EmailRequestError,
    HeaderInjectionError,
    InvalidRecipientError,
    PlaceholderMissingError,
    TemplateNotFoundError,
)
from govserve.notifications.models import EmailStatus, OutboundEmail
from govserve.notifications.testing import SmtpSink, free_port, smtp_sink
from govserve.notifications.tests.conftest import MovableClock
from govserve.privacy.crypto import data_key_destroy, unseal_text
from govserve.privacy.testing import assert_no_plaintext

CITIZEN = "citizen:7d1f8f0e-2a51-4c11-9d41-1f0a3a0b5c77"
ADDRESS = "ada.lovelace@example.org"
SIGN_IN_URL = "https://westmoor.example/sign-in/Zk3vQ9-secret-token"
CONTEXT = {"service_name": "Westmoor City Council", "sign_in_url": SIGN_IN_URL, "expiry_minutes": "15"}

pytestmark = pytest.mark.django_db


def _send(**changes: Any) -> OutboundEmail:
    values: dict[str, Any] = {
        "to": ADDRESS,
        "template": PlatformTemplate.SIGN_IN_LINK,
        "context": CONTEXT,
        "language": "en",
        "idempotency_key": "sign-in-link:0001",
        "owner": CITIZEN,
        "purpose": "sign_in",
    }
    values.update(changes)
    with transaction.atomic():
        return email_send(**values)


def _nothing_stored() -> None:
    assert OutboundEmail.objects.count() == 0
    assert JobRecord.objects.count() == 0
    assert AuditEntry.objects.filter(action__startswith="notifications.").count() == 0


# --- email_send ------------------------------------------------------------------------


def test_email_send_stores_the_message_sealed_enqueues_its_delivery_and_audits() -> None:
    email = _send()

    email.refresh_from_db()
    assert (email.status, email.attempts, email.template, email.language, email.purpose, email.owner) == (
        EmailStatus.QUEUED,
        0,
        "sign_in_link",
        "en",
        "sign_in",
        CITIZEN,
    )
    digest = hashlib.sha256(b"sign-in-link:0001").hexdigest()[:32]
    assert email.message_id == f"<{digest}@127.0.0.1>"
    assert unseal_text(owner=CITIZEN, field=FIELD_RECIPIENT, sealed=email.recipient_sealed) == ADDRESS
    assert unseal_text(owner=CITIZEN, field=FIELD_SUBJECT, sealed=email.subject_sealed) == (
        "Sign in to Westmoor City Council"
    )
    assert SIGN_IN_URL in unseal_text(owner=CITIZEN, field=FIELD_BODY, sealed=email.body_sealed)
    job = JobRecord.objects.get()
    assert (job.name, job.idempotency_key, job.kwargs, job.state) == (
        "notifications.email.deliver",
        f"notifications.email:{email.id}",
        {"outbound_email_id": str(email.id)},
        JobState.QUEUED,
    )
    entry = AuditEntry.objects.get(action="notifications.email.queued")
    assert (entry.actor_kind, entry.subject_type, entry.subject_id, entry.details) == (
        "system",
        "outbound_email",
        str(email.id),
        {"template": "sign_in_link", "language": "en", "purpose": "sign_in"},
    )


def test_the_message_id_is_derived_from_the_idempotency_key_and_public_host(settings: Settings) -> None:
    settings.PUBLIC_BASE_URL = "https://services.westmoor.gov.example"

    assert message_id_for("k-1") == message_id_for("k-1")
    assert message_id_for("k-1") != message_id_for("k-2")
    assert message_id_for("k-1") == f"<{hashlib.sha256(b'k-1').hexdigest()[:32]}@services.westmoor.gov.example>"


@pytest.mark.django_db(transaction=True)  # committed, so a file database's pages and WAL are scanned too
def test_no_address_subject_or_body_is_in_clear_in_the_database(settings: Settings) -> None:
    settings.EMAIL_URL = "log://"
    _send()
    run_pending()

    report = assert_no_plaintext([ADDRESS, "Sign in to Westmoor City Council", SIGN_IN_URL, "Zk3vQ9-secret-token"])

    assert "notifications_outboundemail" in report.tables
    assert report.rows > 0


def test_the_same_idempotency_key_returns_the_first_message_and_enqueues_once() -> None:
    first = _send()
    second = _send(context={**CONTEXT, "sign_in_url": "https://westmoor.example/other"})

    assert second.id == first.id
    assert OutboundEmail.objects.count() == 1
    assert JobRecord.objects.count() == 1
    assert AuditEntry.objects.filter(action="notifications.email.queued").count() == 1


def test_the_same_key_again_in_one_transaction_writes_nothing_without_a_savepoint() -> None:
    # given a message sent in this transaction
    with transaction.atomic():
        first = _send()

        # when it is sent again in the same transaction
        with CaptureQueriesContext(connection) as queries:
            second = email_send(
                to=ADDRESS,
                template=PlatformTemplate.SIGN_IN_LINK,
                context=CONTEXT,
                language="en",
                idempotency_key="sign-in-link:0001",
                owner=CITIZEN,
                purpose="sign_in",
            )
        stored = OutboundEmail.objects.count()  # PostgreSQL: the transaction is still usable

    # then the first message is returned: one conditional insert that wrote nothing (after the data key's read
    # for sealing), then the read of the first message; no savepoint, no job
    assert second.id == first.id
    assert stored == 1
    assert JobRecord.objects.count() == 1
    statements = [query["sql"] for query in queries]
    assert [sql.split(" ", 1)[0] for sql in statements][-2:] == ["INSERT", "SELECT"]
    assert "ON CONFLICT" in statements[-2]
    assert not any(sql.startswith(("SAVEPOINT", "RELEASE")) for sql in statements)
    assert len([sql for sql in statements if sql.startswith("INSERT")]) == 1


def test_the_same_idempotency_key_for_another_template_is_a_conflict_and_changes_nothing() -> None:
    first = _send()

    with pytest.raises(EmailIdempotencyConflictError) as raised:
        _send(
            template=PlatformTemplate.RESUME_APPLICATION,
            context={"service_name": "x", "resume_url": "https://x", "expires_on": "1 May"},
        )

    assert raised.value.extra == {"email_id": str(first.id)}
    assert list(OutboundEmail.objects.values_list("id", "template")) == [(first.id, "sign_in_link")]
    assert JobRecord.objects.count() == 1


def test_a_rolled_back_transaction_leaves_no_email_and_no_job() -> None:
    def send_then_fail() -> None:
        with transaction.atomic():
            email_send(
                to=ADDRESS,
                template=PlatformTemplate.SIGN_IN_LINK,
                context=CONTEXT,
                idempotency_key="sign-in-link:rolled-back",
                owner=CITIZEN,
                purpose="sign_in",
            )
            msg = "business change failed"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="business change failed"):
        send_then_fail()

    _nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_email_send_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"must run inside transaction\.atomic"):
        email_send(
            to=ADDRESS,
            template=PlatformTemplate.SIGN_IN_LINK,
            context=CONTEXT,
            idempotency_key="k",
            owner=CITIZEN,
            purpose="sign_in",
        )

    _nothing_stored()


@pytest.mark.parametrize(
    "recipient",
    [
        "ada@example.org\r\nBcc: everyone@example.org",
        "ada@example.org\nBcc: everyone@example.org",
        "ada@example.org\r",
        "ada@example.org\n",
        "ada@exa\x00mple.org",
    ],
)
def test_a_recipient_with_a_line_break_is_refused_and_nothing_is_stored(recipient: str) -> None:
    with pytest.raises(HeaderInjectionError) as raised:
        _send(to=recipient)

    assert raised.value.code == "email_header_injection"
    _nothing_stored()


def test_a_placeholder_value_that_would_break_the_subject_is_refused_and_nothing_is_stored() -> None:
    with pytest.raises(HeaderInjectionError) as raised:
        _send(context={**CONTEXT, "service_name": "Westmoor\r\nBcc: everyone@example.org"})

    assert str(raised.value) == "The email subject must be one line: a placeholder value contains a line break"
    _nothing_stored()


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("not-an-email", "Enter an email address in the correct format, like name@example.com"),
        ("", "Enter an email address in the correct format, like name@example.com"),
        ("Ada <ada@example.org>", "Enter an email address in the correct format, like name@example.com"),
        ("ada@example.org, bob@example.org", "Enter an email address in the correct format, like name@example.com"),
        ("ada@localhost", "Enter an email address in the correct format, like name@example.com"),
        (
            "ädä@example.org",
            "The part of the email address before the @ must use only unaccented letters, digits and symbols",
        ),
        ("a" * 64 + "@" + ("b" * 60 + ".") * 4 + "org", "The email address must be 254 characters or fewer"),
    ],
)
def test_a_malformed_recipient_is_refused_with_a_specific_message(recipient: str, message: str) -> None:
    with pytest.raises(InvalidRecipientError) as raised:
        _send(to=recipient)

    assert str(raised.value) == message
    _nothing_stored()


def test_an_internationalised_domain_is_stored_in_ascii() -> None:
    email = _send(to="  Ada@Bücher.Example ")

    assert unseal_text(owner=CITIZEN, field=FIELD_RECIPIENT, sealed=email.recipient_sealed) == (
        "Ada@xn--bcher-kva.example"
    )


def test_a_missing_placeholder_is_an_error_and_nothing_is_stored() -> None:
    with pytest.raises(PlaceholderMissingError) as raised:
        _send(context={"service_name": "Westmoor"})

    assert raised.value.extra["missing"] == ["expiry_minutes", "sign_in_url"]
    _nothing_stored()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"template": "no_such_template"}, TemplateNotFoundError),
        ({"language": "de"}, EmailRequestError),
        ({"idempotency_key": ""}, EmailRequestError),
        ({"idempotency_key": "has space"}, EmailRequestError),
        ({"purpose": "Sign In"}, EmailRequestError),
    ],
)
def test_a_malformed_request_is_refused_and_nothing_is_stored(changes: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        _send(**changes)

    _nothing_stored()


def test_a_malformed_owner_is_refused_and_nothing_is_stored() -> None:
    with pytest.raises(ValueError, match="owner must look like"):
        _send(owner="ada@example.org")

    _nothing_stored()


# --- Delivery over real SMTP -------------------------------------------------------------


def test_an_email_is_delivered_to_a_real_smtp_server_with_its_content_and_headers(
    sink: SmtpSink, settings: Settings
) -> None:
    settings.DEFAULT_FROM_EMAIL = "Westmoor City Council <noreply@westmoor.example>"
    email = _send()

    assert run_pending() == 1

    [received] = sink.received
    assert received.mail_from == "noreply@westmoor.example"
    assert received.rcpt_tos == (ADDRESS,)
    message = received.message
    assert message["Message-ID"] == message_id_for("sign-in-link:0001") == email.message_id
    assert message["From"] == "Westmoor City Council <noreply@westmoor.example>"
    assert message["To"] == ADDRESS
    assert message["Subject"] == "Sign in to Westmoor City Council"
    assert message["Content-Language"] == "en"
    assert received.body == (
        "Use this link to sign in to Westmoor City Council:\n\n"
        f"{SIGN_IN_URL}\n\n"
        "The link works once and stops working after 15 minutes.\n\n"
        "If you did not ask to sign in, you can ignore this email. "
        "Someone may have typed your email address by mistake.\n\n"
        "Do not forward this email: anyone with the link can sign in as you.\n"
    )
    email.refresh_from_db()
    assert (email.status, email.attempts, email.provider, email.provider_reference, email.last_error_code) == (
        EmailStatus.SENT,
        1,
        "smtp",
        "2.0.0 Ok: queued as SINK1",
        "",
    )
    assert email.sent_at is not None
    assert JobRecord.objects.get().state == JobState.SUCCEEDED
    entry = AuditEntry.objects.get(action="notifications.email.sent")
    assert (entry.actor_id, entry.subject_id, entry.details) == (
        "worker",
        str(email.id),
        {"provider": "smtp", "status": "accepted", "attempt": 1},
    )


def test_the_welsh_template_is_chosen_with_language_cy(sink: SmtpSink) -> None:
    email = _send(language="cy", context={**CONTEXT, "service_name": "Cyngor Dinas Westmoor"})

    run_pending()

    [received] = sink.received
    assert received.message["Subject"] == "Mewngofnodi i Cyngor Dinas Westmoor"
    assert received.message["Content-Language"] == "cy"
    assert received.body.startswith("Defnyddiwch y ddolen hon i fewngofnodi i Cyngor Dinas Westmoor:\n\n")
    assert "Dim ond unwaith y mae'r ddolen yn gweithio" in received.body
    assert OutboundEmail.objects.get(id=email.id).language == "cy"


def test_a_send_retried_after_the_worker_died_carries_the_same_message_id(
    sink: SmtpSink, movable_clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a worker that dies after the server accepted the message, before recording it
    real_record = outbound_module._attempt_succeeded
    crashes = [RuntimeError("worker killed after the provider accepted")]

    def record_or_crash(*args: Any, **kwargs: Any) -> None:
        if crashes:
            raise crashes.pop()
        real_record(*args, **kwargs)

    monkeypatch.setattr(outbound_module, "_attempt_succeeded", record_or_crash)
    email = _send()
    run_pending()
    email.refresh_from_db()
    assert (email.status, len(sink.received)) == (EmailStatus.SENDING, 1)

    # when the job is retried
    movable_clock.advance(hours=1)
    run_pending()

    # then the message went twice, both copies recognisably the same message
    assert [r.message["Message-ID"] for r in sink.received] == [email.message_id, email.message_id]
    assert sink.received[0].body == sink.received[1].body
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)


def test_a_server_that_is_down_is_retried_and_the_email_arrives_when_it_is_back(
    settings: Settings, movable_clock: MovableClock
) -> None:
    port = free_port()
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}?timeout=2"
    email = _send()

    run_pending()

    email.refresh_from_db()
    job = JobRecord.objects.get()
    assert (email.status, email.attempts, email.last_error_code, email.provider) == (
        EmailStatus.FAILED_TEMPORARY,
        1,
        "connection_refused",
        "smtp",
    )
    assert job.state == JobState.RETRYING
    assert (
        job.last_error
        == "govserve.notifications.providers.base.TemporaryProviderError: connection_refused (ConnectionRefusedError)"
    )

    with smtp_sink(port=port) as sink:
        movable_clock.advance(hours=1)
        run_pending()

    [received] = sink.received
    assert received.message["Message-ID"] == email.message_id
    email.refresh_from_db()
    job.refresh_from_db()
    assert (email.status, email.attempts, email.last_error_code, job.state) == (
        EmailStatus.SENT,
        2,
        "",
        JobState.SUCCEEDED,
    )


def test_a_permanent_refusal_ends_delivery_at_once_without_the_address_in_the_job(sink: SmtpSink) -> None:
    sink.refuse_recipient(ADDRESS, f"550 5.1.1 <{ADDRESS}>: Recipient address rejected: User unknown")
    email = _send()

    run_pending()

    email.refresh_from_db()
    job = JobRecord.objects.get()
    assert (email.status, email.last_error_code, email.attempts) == (EmailStatus.FAILED_PERMANENT, "smtp_550", 1)
    assert email.failed_at is not None
    assert job.state == JobState.DEAD
    assert job.attempts == 1
    assert job.last_error == f"govserve.core.jobs.PermanentJobError: email {email.id}: refused by smtp (smtp_550)"
    attempt = job.attempt_set.get()
    assert ADDRESS not in attempt.traceback
    assert "User unknown" not in attempt.traceback
    entry = AuditEntry.objects.get(action="notifications.email.failed")
    assert entry.details == {"code": "smtp_550", "provider": "smtp", "attempt": 1}
    assert sink.received == []


def test_when_retries_run_out_the_failure_is_final_until_an_operator_retries(
    settings: Settings, movable_clock: MovableClock
) -> None:
    port = free_port()
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}?timeout=2"
    email = _send()

    for _ in range(email_module.MAX_ATTEMPTS):
        assert run_pending() == 1
        movable_clock.advance(hours=3)

    email.refresh_from_db()
    job = JobRecord.objects.get()
    assert (email.status, email.attempts, email.last_error_code) == (
        EmailStatus.FAILED_PERMANENT,
        10,
        "connection_refused",
    )
    assert job.state == JobState.DEAD
    assert AuditEntry.objects.filter(action="notifications.email.failed").count() == 1

    with smtp_sink(port=port) as sink:
        job_retry(job_id=str(job.id))
        run_pending()

    assert [r.message["Message-ID"] for r in sink.received] == [email.message_id]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 11)


def test_content_erased_before_delivery_ends_the_job_permanently(sink: SmtpSink) -> None:
    email = _send()
    data_key_destroy(owner=CITIZEN)

    run_pending()

    email.refresh_from_db()
    assert (email.status, email.last_error_code) == (EmailStatus.FAILED_PERMANENT, "data_key_destroyed")
    assert JobRecord.objects.get().state == JobState.DEAD
    assert sink.received == []


def test_a_message_already_sent_is_not_sent_again(sink: SmtpSink) -> None:
    email = _send()
    run_pending()

    email_deliver(outbound_email_id=str(email.id))

    assert len(sink.received) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)


def test_a_job_for_a_message_that_no_longer_exists_does_nothing(sink: SmtpSink) -> None:
    email_deliver(outbound_email_id=str(uuid.uuid4()))

    assert sink.received == []


def test_the_log_provider_marks_the_message_sent_and_logs_only_ids(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EMAIL_URL = "log://"
    email = _send()

    with caplog.at_level(logging.DEBUG):
        run_pending()

    email.refresh_from_db()
    assert (email.status, email.provider, email.provider_reference) == (
        EmailStatus.SENT,
        "log",
        f"log:{email.id}",
    )
    logged = "\n".join(f"{record.msg} {record.args}" for record in caplog.records)
    assert str(email.id) in logged
    for value in (ADDRESS, "Sign in to Westmoor", SIGN_IN_URL):
        assert value not in logged
