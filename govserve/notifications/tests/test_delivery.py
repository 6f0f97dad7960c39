"""Delivery status: GOV.UK Notify's delivery receipts at the callback URL, and content retention."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from govserve.audit.models import AuditEntry
from govserve.core.jobs import run_pending
from govserve.core.models import JobRecord, JobState
from govserve.notifications.email import PlatformTemplate, email_send
from govserve.notifications.models import DeliveryStatus, EmailStatus, OutboundEmail, OutboundSms
from govserve.notifications.selectors import application_deliveries, demo_mail_list
from govserve.notifications.services import message_content_remove
from govserve.notifications.sms import sms_send
from govserve.notifications.testing import FakeNotify
from govserve.notifications.tests.conftest import MovableClock

pytestmark = pytest.mark.django_db

OWNER = "application:5c77d1f8-f0e2-4a51-9d41-1f0a3a0b4c11"
TOKEN = "notify-callback-token-5b2f7c"
CONTEXT = {
    "service_name": "Westmoor City Council",
    "sign_in_url": "https://westmoor.example/s/abc",
    "expiry_minutes": "15",
}


def _email(key: str = "k:callback-1") -> OutboundEmail:
    with transaction.atomic():
        return email_send(
            to="ada@example.org",
            template=PlatformTemplate.SIGN_IN_LINK,
            context=CONTEXT,
            idempotency_key=key,
            owner=OWNER,
            purpose="sign_in",
        )


def _sms(key: str = "k:callback-2") -> OutboundSms:
    with transaction.atomic():
        return sms_send(
            to="+447700900123",
            text="Report received",
            template="test",
            language="en",
            idempotency_key=key,
            owner=OWNER,
            purpose="submitted",
        )


def _receipt(message: OutboundEmail | OutboundSms, status: str, **changes: Any) -> dict[str, Any]:
    receipt: dict[str, Any] = {
        "id": message.provider_reference,
        "reference": message.reference,
        "to": "ada@example.org",
        "status": status,
        "created_at": "2026-11-27T10:00:00.000000Z",
        "completed_at": "2026-11-27T10:00:05.000000Z",
        "sent_at": "2026-11-27T10:00:01.000000Z",
        "notification_type": "email" if isinstance(message, OutboundEmail) else "sms",
    }
    receipt.update(changes)
    return receipt


def _post(body: Any, *, token: str | None = TOKEN) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return Client(enforce_csrf_checks=True).post(
        reverse("notifications:notify_callback"),
        data=json.dumps(body) if not isinstance(body, bytes) else body,
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def callbacks(settings: Settings, notify: FakeNotify) -> FakeNotify:
    settings.NOTIFY_CALLBACK_TOKEN = TOKEN
    return notify


@pytest.mark.usefixtures("callbacks")
def test_a_delivery_receipt_records_the_status_once_and_is_audited() -> None:
    email = _email()
    run_pending()
    email.refresh_from_db()
    assert email.delivery_status == DeliveryStatus.SENDING

    first = _post(_receipt(email, "delivered"))
    again = _post(_receipt(email, "delivered"))

    email.refresh_from_db()
    assert (first.status_code, again.status_code) == (204, 204)
    assert email.delivery_status == DeliveryStatus.DELIVERED
    assert email.delivery_status_at is not None
    entries = AuditEntry.objects.filter(action="notifications.delivery.updated", subject_id=str(email.id))
    assert [entry.details for entry in entries] == [{"from": "sending", "to": "delivered"}]


@pytest.mark.usefixtures("callbacks")
def test_a_text_message_failure_is_recorded_and_delivered_is_never_overwritten() -> None:
    failed, delivered = _sms("k:a"), _sms("k:b")
    run_pending()
    failed.refresh_from_db()
    delivered.refresh_from_db()

    _post(_receipt(failed, "permanent-failure"))
    _post(_receipt(delivered, "delivered"))
    _post(_receipt(delivered, "technical-failure"))
    _post(_receipt(failed, "sending"))  # late and out of order: a final status stays

    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert failed.delivery_status == DeliveryStatus.PERMANENT_FAILURE
    assert delivered.delivery_status == DeliveryStatus.DELIVERED


@pytest.mark.usefixtures("callbacks")
def test_a_receipt_for_a_copy_sent_by_a_worker_that_died_is_matched_by_its_reference() -> None:
    sms = _sms()

    response = _post(_receipt(sms, "delivered", id="11111111-2222-3333-4444-555555555555"))

    sms.refresh_from_db()
    assert response.status_code == 204
    assert sms.delivery_status == DeliveryStatus.DELIVERED
    # The job then sends its own copy: delivery stays confirmed.
    run_pending()
    sms.refresh_from_db()
    assert (sms.status, sms.delivery_status) == (EmailStatus.SENT, DeliveryStatus.DELIVERED)


@pytest.mark.usefixtures("callbacks")
def test_a_receipt_for_an_unknown_message_is_accepted_and_changes_nothing() -> None:
    response = _post(
        {"id": "x", "reference": "nobody", "status": "delivered", "notification_type": "email", "to": "a@b.example"}
    )

    assert response.status_code == 204
    assert not AuditEntry.objects.filter(action="notifications.delivery.updated").exists()


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x", TOKEN[:-1]])
@pytest.mark.usefixtures("callbacks")
def test_a_receipt_without_the_bearer_token_is_refused_with_problem_json(token: str | None) -> None:
    email = _email()
    run_pending()

    response = _post(_receipt(email, "delivered"), token=token)

    email.refresh_from_db()
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "notification_callback_unauthorised"
    assert email.delivery_status == DeliveryStatus.SENDING


def test_with_no_token_configured_every_receipt_is_refused(settings: Settings) -> None:
    settings.NOTIFY_CALLBACK_TOKEN = ""

    response = _post({"status": "delivered", "notification_type": "email"}, token="")

    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        [1, 2],
        {"status": "lost", "notification_type": "email", "reference": "r"},
        {"status": "delivered", "notification_type": "letter", "reference": "r"},
    ],
)
@pytest.mark.usefixtures("callbacks")
def test_a_body_that_is_not_a_receipt_is_refused_with_problem_json(body: Any) -> None:
    response = _post(body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "notification_callback_invalid"


def test_only_post_is_accepted(settings: Settings) -> None:
    settings.NOTIFY_CALLBACK_TOKEN = TOKEN

    response = Client().get(reverse("notifications:notify_callback"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 405


# --- Retention -----------------------------------------------------------------------------------


def _age(message: OutboundEmail | OutboundSms, now: dt.datetime, **age: float) -> None:
    type(message).objects.filter(pk=message.pk).update(created_at=now - dt.timedelta(**age))


def test_content_older_than_the_retention_period_is_removed_and_the_record_stays(
    settings: Settings, movable_clock: MovableClock
) -> None:
    settings.NOTIFICATION_CONTENT_RETENTION_DAYS = 7
    settings.GOVSERVE_DEMO = True
    old_email, old_sms, young = _email("k:old"), _sms("k:old-sms"), _email("k:young")
    run_pending()
    now = movable_clock.current
    _age(old_email, now, days=7, minutes=1)
    _age(old_sms, now, days=8)
    _age(young, now, days=6, hours=23)

    removed = message_content_remove()

    assert removed == (1, 1)
    old_email.refresh_from_db()
    old_sms.refresh_from_db()
    young.refresh_from_db()
    assert (bytes(old_email.recipient_sealed), bytes(old_email.subject_sealed), bytes(old_email.body_sealed)) == (
        b"",
        b"",
        b"",
    )
    assert (bytes(old_sms.recipient_sealed), bytes(old_sms.body_sealed)) == (b"", b"")
    assert old_email.content_removed_at == now
    # The record stays: status, provider, reference, delivery status.
    assert (old_email.status, old_email.provider, old_email.delivery_status) == (EmailStatus.SENT, "log", "delivered")
    assert old_email.message_id
    assert old_email.reference
    assert young.content_removed_at is None
    assert bytes(young.body_sealed) != b""
    shown = {mail.id: mail for mail in demo_mail_list()}
    assert not shown[old_email.id].content_available
    assert shown[young.id].content_available
    records = {record.id: record for record in application_deliveries(crypto_owner=OWNER)}
    assert records[old_email.id].content_removed
    assert not records[young.id].content_removed
    [entry] = AuditEntry.objects.filter(action="notifications.content.removed")
    assert (entry.details["emails"], entry.details["sms"]) == (1, 1)
    # Idempotent: a second run removes nothing and writes no entry.
    assert message_content_remove() == (0, 0)
    assert AuditEntry.objects.filter(action="notifications.content.removed").count() == 1


def test_a_message_whose_content_was_removed_before_it_went_fails_for_good(
    settings: Settings, movable_clock: MovableClock
) -> None:
    settings.EMAIL_URL = "smtp://127.0.0.1:1?timeout=1"  # nothing listens: the message waits to be retried
    email = _email()
    run_pending()
    _age(email, movable_clock.current, days=8)
    message_content_remove()
    movable_clock.advance(hours=2)  # the retry is due

    run_pending()

    email.refresh_from_db()
    job = JobRecord.objects.get(idempotency_key=f"notifications.email:{email.id}")
    assert (email.status, email.last_error_code, email.delivery_status) == (
        EmailStatus.FAILED_PERMANENT,
        "content_removed",
        DeliveryStatus.TECHNICAL_FAILURE,
    )
    assert job.state == JobState.DEAD


def test_the_retention_period_is_a_setting_of_at_least_a_day(settings: Settings, movable_clock: MovableClock) -> None:
    settings.NOTIFICATION_CONTENT_RETENTION_DAYS = 30
    email = _email()
    _age(email, movable_clock.current, days=29)
    assert message_content_remove() == (0, 0)
    _age(email, movable_clock.current, days=31)
    assert message_content_remove() == (1, 0)
    settings.NOTIFICATION_CONTENT_RETENTION_DAYS = 0  # never less than a day
    young = _email("k:hours")
    _age(young, movable_clock.current, hours=23)
    assert message_content_remove() == (0, 0)
