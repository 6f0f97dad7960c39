"""The GOV.UK Notify provider against a local fake of the Notify API that checks the JWT and the payload."""

from __future__ import annotations

import io
import time
import uuid

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import transaction
from pytest_django.fixtures import Settings

from govserve.core.jobs import run_pending
from govserve.core.models import JobRecord, JobState
from govserve.notifications.email import PlatformTemplate, email_send, reference_for
from govserve.notifications.models import DeliveryStatus, EmailStatus, OutboundEmail, OutboundSms
from govserve.notifications.providers import email_provider_from_url, notify_config, sms_provider
from govserve.notifications.providers.base import (
    OutgoingEmail,
    OutgoingSms,
    PermanentProviderError,
    ProviderStatus,
    TemporaryProviderError,
)
from govserve.notifications.providers.notify import NotifyConfig, NotifyEmailProvider, NotifySmsProvider
from govserve.notifications.sms import sms_send
from govserve.notifications.testing import FakeNotify, fake_notify, free_port
from govserve.notifications.tests.conftest import MovableClock

pytestmark = pytest.mark.django_db

OWNER = "citizen:1f0a3a0b-7d1f-4c11-9d41-8f0e2a515c77"
CONTEXT = {
    "service_name": "Westmoor City Council",
    "sign_in_url": "https://westmoor.example/s/abc",
    "expiry_minutes": "15",
}


def _email() -> OutgoingEmail:
    return OutgoingEmail(
        reference=str(uuid.uuid4()),
        message_id=f"<{reference_for('k:1')}@govserve.example>",
        sender="govserve <noreply@govserve.example>",
        recipient="ada@example.org",
        subject="Sign in to Westmoor",
        body="Use this link: https://westmoor.example/s/abc\n",
    )


def _sms() -> OutgoingSms:
    return OutgoingSms(
        reference=str(uuid.uuid4()), notify_reference=reference_for("k:2"), recipient="+447700900123", body="Hello"
    )


def _config(fake: FakeNotify, **changes: str) -> NotifyConfig:
    values = {
        "api_key": fake.api_key,
        "base_url": fake.base_url,
        "email_template_id": fake.email_template_id,
        "sms_template_id": fake.sms_template_id,
    }
    values.update(changes)
    return NotifyConfig(timeout=5, **values)


def test_an_email_goes_to_notify_with_a_valid_jwt_the_generic_template_and_the_reference(notify: FakeNotify) -> None:
    result = NotifyEmailProvider(config=_config(notify)).send(_email())

    [request] = notify.received
    assert notify.refused == []
    assert request.kind == "email"
    assert request.payload == {
        "email_address": "ada@example.org",
        "template_id": notify.email_template_id,
        "personalisation": {
            "subject": "Sign in to Westmoor",
            "body": "Use this link: https://westmoor.example/s/abc\n",
        },
        "reference": reference_for("k:1"),
    }
    assert (result.provider, result.reference, result.status) == (
        "notify",
        request.notification_id,
        ProviderStatus.ACCEPTED,
    )


def test_a_text_message_goes_to_notify_with_the_phone_number_and_reference(notify: FakeNotify) -> None:
    result = NotifySmsProvider(config=_config(notify)).send(_sms())

    [request] = notify.received
    assert request.kind == "sms"
    assert request.payload == {
        "phone_number": "+447700900123",
        "template_id": notify.sms_template_id,
        "personalisation": {"body": "Hello"},
        "reference": reference_for("k:2"),
    }
    assert result.reference == request.notification_id


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # Notify's secrets are 36 bytes
def test_the_fake_refuses_tokens_notify_would_refuse(notify: FakeNotify) -> None:
    now = int(time.time())
    good = jwt.encode({"iss": notify.service_id, "iat": now}, notify.secret, algorithm="HS256")
    wrong_secret = jwt.encode(
        {"iss": notify.service_id, "iat": now}, "another-secret-long-enough-for-hmac-sha256", algorithm="HS256"
    )
    wrong_issuer = jwt.encode({"iss": str(uuid.uuid4()), "iat": now}, notify.secret, algorithm="HS256")
    stale = jwt.encode({"iss": notify.service_id, "iat": now - 31}, notify.secret, algorithm="HS256")
    future = jwt.encode({"iss": notify.service_id, "iat": now + 31}, notify.secret, algorithm="HS256")
    no_iat = jwt.encode({"iss": notify.service_id}, notify.secret, algorithm="HS256")
    other_algorithm = jwt.encode({"iss": notify.service_id, "iat": now}, notify.secret, algorithm="HS512")

    assert notify.check_token(f"Bearer {good}") is None
    assert notify.check_token(f"Bearer {wrong_secret}") == "Invalid token: InvalidSignatureError"
    assert notify.check_token(f"Bearer {wrong_issuer}") == "Invalid token: service not found"
    assert notify.check_token(f"Bearer {stale}") == "Error: Your system clock must be accurate to within 30 seconds"
    assert notify.check_token(f"Bearer {future}") == "Error: Your system clock must be accurate to within 30 seconds"
    assert notify.check_token(f"Bearer {no_iat}") == "Error: Your system clock must be accurate to within 30 seconds"
    assert notify.check_token(f"Bearer {other_algorithm}") == "Invalid token: InvalidAlgorithmError"
    assert notify.check_token(good) == "Unauthorized: authentication token must be provided"


def test_a_wrong_api_key_is_refused_with_403_and_is_a_temporary_failure(notify: FakeNotify) -> None:
    wrong_key = f"govserve_test-{notify.service_id}-{uuid.uuid4()}"

    with pytest.raises(TemporaryProviderError) as raised:
        NotifyEmailProvider(config=_config(notify, api_key=wrong_key)).send(_email())

    assert raised.value.code == "notify_403"
    assert notify.received == []
    assert notify.refused == [(403, "Invalid token: InvalidSignatureError")]


def test_an_unknown_template_is_a_permanent_failure(notify: FakeNotify) -> None:
    with pytest.raises(PermanentProviderError) as raised:
        NotifySmsProvider(config=_config(notify, sms_template_id=str(uuid.uuid4()))).send(_sms())

    assert raised.value.code == "notify_400"
    assert notify.refused == [(400, "Template not found")]


@pytest.mark.parametrize(("status", "code"), [(500, "notify_500"), (429, "notify_429"), (503, "notify_503")])
def test_server_errors_and_rate_limits_are_temporary(notify: FakeNotify, status: int, code: str) -> None:
    notify.status_override = status

    with pytest.raises(TemporaryProviderError) as raised:
        NotifyEmailProvider(config=_config(notify)).send(_email())

    assert raised.value.code == code
    assert "ada@example.org" not in str(raised.value)


def test_notify_unreachable_is_temporary() -> None:
    config = NotifyConfig(
        api_key=f"k-{uuid.uuid4()}-{uuid.uuid4()}", base_url=f"http://127.0.0.1:{free_port()}", timeout=2
    )

    with pytest.raises(TemporaryProviderError) as raised:
        NotifySmsProvider(config=config).send(_sms())

    assert raised.value.code == "notify_unreachable"


def test_notify_is_configured_from_settings_and_a_malformed_key_is_refused(settings: Settings) -> None:
    settings.NOTIFY_API_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="NOTIFY_API_KEY"):
        email_provider_from_url("notify://")

    key = f"live-{uuid.uuid4()}-{uuid.uuid4()}"
    settings.NOTIFY_API_KEY = key
    settings.NOTIFY_BASE_URL = "https://notify.example"
    settings.NOTIFY_EMAIL_TEMPLATE_ID = "e"
    settings.NOTIFY_SMS_TEMPLATE_ID = "s"
    assert notify_config("notify://?timeout=3") == NotifyConfig(
        api_key=key, base_url="https://notify.example", email_template_id="e", sms_template_id="s", timeout=3.0
    )
    settings.SMS_URL = "carrier-pigeon://"
    with pytest.raises(ImproperlyConfigured, match="SMS_URL"):
        sms_provider()


def test_platform_email_and_text_messages_are_delivered_through_notify_by_the_outbox(notify: FakeNotify) -> None:
    with transaction.atomic():
        email = email_send(
            to="ada@example.org",
            template=PlatformTemplate.SIGN_IN_LINK,
            context=CONTEXT,
            idempotency_key="sign-in-link:notify-1",
            owner=OWNER,
            purpose="sign_in",
        )
        sms = sms_send(
            to="+447700900123",
            text="Your code is 123456",
            template="test",
            language="en",
            idempotency_key="sms:notify-1",
            owner=OWNER,
            purpose="test",
        )

    run_pending()

    email.refresh_from_db()
    sms.refresh_from_db()
    by_kind = {request.kind: request for request in notify.received}
    assert set(by_kind) == {"email", "sms"}
    assert by_kind["email"].payload["reference"] == email.reference == reference_for("sign-in-link:notify-1")
    assert by_kind["email"].payload["personalisation"]["subject"] == "Sign in to Westmoor City Council"
    assert by_kind["sms"].payload["reference"] == sms.reference == reference_for("sms:notify-1")
    assert by_kind["sms"].payload["personalisation"] == {"body": "Your code is 123456"}
    assert (email.status, email.provider, email.provider_reference) == (
        EmailStatus.SENT,
        "notify",
        by_kind["email"].notification_id,
    )
    assert (email.delivery_status, sms.delivery_status) == (DeliveryStatus.SENDING, DeliveryStatus.SENDING)
    assert sms.provider_reference == by_kind["sms"].notification_id


def test_notify_down_is_retried_then_dead_and_the_operator_retry_delivers_once_it_is_back(
    settings: Settings, movable_clock: MovableClock
) -> None:
    port = free_port()
    with fake_notify(port=port) as first:
        settings.SMS_URL = "notify://?timeout=2"
        settings.NOTIFY_API_KEY = first.api_key
        settings.NOTIFY_SMS_TEMPLATE_ID = first.sms_template_id
        settings.NOTIFY_BASE_URL = first.base_url
    # Notify is down from here on.
    with transaction.atomic():
        sms = sms_send(
            to="+447700900123",
            text="Your application was received",
            template="test",
            language="en",
            idempotency_key="sms:down-1",
            owner=OWNER,
            purpose="test",
        )
    job = JobRecord.objects.get(idempotency_key=f"notifications.sms:{sms.id}")

    for _ in range(job.max_attempts):
        run_pending()
        movable_clock.advance(hours=2)

    job.refresh_from_db()
    sms.refresh_from_db()
    assert job.state == JobState.DEAD
    assert job.attempts == job.max_attempts
    assert (sms.status, sms.last_error_code, sms.delivery_status) == (
        EmailStatus.FAILED_PERMANENT,
        "notify_unreachable",
        DeliveryStatus.TECHNICAL_FAILURE,
    )

    with fake_notify(port=port) as back:
        back.service_id, back.secret = first.service_id, first.secret  # the same Notify service, restarted
        back.sms_template_id = first.sms_template_id
        output = io.StringIO()
        call_command("jobs", "retry", str(job.id), stdout=output)  # `govserve jobs retry <id>`
        run_pending()

        sms.refresh_from_db()
        job.refresh_from_db()
        assert [request.payload["reference"] for request in back.received] == [sms.reference]
        assert (sms.status, sms.delivery_status, job.state) == (
            EmailStatus.SENT,
            DeliveryStatus.SENDING,
            JobState.SUCCEEDED,
        )
    assert OutboundSms.objects.count() == 1
    assert OutboundEmail.objects.count() == 0


@pytest.mark.parametrize(
    ("setting", "value"), [("SMS_URL", "carrier-pigeon://"), ("SMS_URL", "notify://"), ("EMAIL_URL", "notify://")]
)
def test_govserve_check_refuses_an_unusable_sms_url_or_notify_without_a_key(
    settings: Settings, setting: str, value: str
) -> None:
    from govserve.web.checks import check_security_configuration  # noqa: PLC0415 - the check under test

    settings.NOTIFY_API_KEY = ""
    setattr(settings, setting, value)

    messages = check_security_configuration()

    assert [str(message.id) for message in messages] == ["govserve.web.E010"]
