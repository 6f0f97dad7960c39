"""Service event notifications: a definition's ``notifications.<event>`` templates sent to the applicant.

::

    with transaction.atomic():
        ...  # the business change (a decision, a message from staff)
        service_notification_send(application, "decision_made", context={"decision": "approved", "reason": ""},
                                  occurrence=str(case_event.id))

:func:`service_notification_send` renders the pinned version's email and
text-message templates for ``event`` in the applicant's language (the
service's first language when the service does not offer theirs; English
for a text missing its Welsh) and queues them through the outbox
(:func:`~govserve.notifications.email.email_send`,
:func:`~govserve.notifications.sms.sms_send`) in the caller's transaction.

- **Email** goes to the applicant's address (their account's, or the one an
  anonymous applicant gave at the start: journeys' ``applicant_email``).
- **Text messages** go to the answer of the phone field the definition names
  in ``notifications.sms_to``; without it, or without an answer, none is sent.
- **Placeholders**: ``reference``, ``service_title``, ``link`` (the
  application's page), the event's own values passed in ``context``
  (``reason``, ``decision``, ``expires_on``, ``amount``, ``result_name``,
  ``verify_link``), every answer outside a repeating group by field id as the
  pages show it, and for ``((flag??text))`` each determinant or yes/no answer
  as ``yes``/``no``. ``govserve check`` refuses templates naming anything
  else; a version published before that check that still names an unknown
  placeholder sends nothing on that channel (logged), so a casework decision
  never fails because of its notification.
- **Idempotent** per (application, event, ``occurrence``, channel): the same
  call again queues nothing more.

Who calls it: hooks registered in :mod:`govserve.notifications.apps` on
journeys (submitted: text message only, the confirmation email is journeys'
own) and casework (sent back, decision made, message from staff), and the
``notifications.drafts.expiring`` schedule (:mod:`govserve.notifications.jobs`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions import schema
from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.catalogue.selectors import published_version_load
from govserve.core import clock
from govserve.journeys.fields import display_value
from govserve.journeys.models import Application
from govserve.journeys.routing import JourneyState
from govserve.journeys.selectors import compiled_for, state_load
from govserve.journeys.services import applicant_email
from govserve.notifications.email import EmailTemplate, email_send
from govserve.notifications.errors import (
    CallbackPayloadError,
    InvalidRecipientError,
    PlaceholderMissingError,
    PlaceholderValueError,
    TemplateSyntaxError,
)
from govserve.notifications.models import FINAL_DELIVERY_STATUSES, DeliveryStatus, OutboundEmail, OutboundSms
from govserve.notifications.sms import sms_send
from govserve.notifications.templating import compile_text
from govserve.privacy.errors import DecryptionError

logger = structlog.get_logger(__name__)

SERVICE_TEMPLATE_PREFIX = "notifications.service"
YES, NO = "yes", "no"
CHANNELS = ("email", "sms")
_RENDER_ERRORS = (PlaceholderMissingError, PlaceholderValueError, TemplateSyntaxError, InvalidRecipientError)


@dataclass(frozen=True)
class ServiceNotification:
    """What :func:`service_notification_send` queued: the email and the text message, each None if not sent."""

    email: OutboundEmail | None
    sms: OutboundSms | None


def service_template_name(*, service_id: str, version: int, event: str) -> str:
    """Return the name under which the email kernel finds the email of ``event`` in a service version."""
    return f"{SERVICE_TEMPLATE_PREFIX}:{service_id}:{version}:{event}"


def _event_templates(compiled: CompiledDefinition, event: str) -> schema.EventTemplates | None:
    found = getattr(compiled.definition.notifications, event, None)
    return found if isinstance(found, schema.EventTemplates) else None


def service_email_template(name: str, language: str) -> EmailTemplate | None:
    """Return the definition's email ``name`` (``notifications.service:<id>:<version>:<event>``), or None.

    The lookup registered with the email kernel. One language for the whole
    message: Welsh only when both the subject and the body have it.
    """
    prefix, _, rest = name.partition(":")
    service_id, _, rest = rest.partition(":")
    version_text, _, event = rest.partition(":")
    if prefix != SERVICE_TEMPLATE_PREFIX or not version_text.isdigit() or not service_id or not event:
        return None
    try:
        compiled = published_version_load(service_id, int(version_text))
    except (ServiceNotFoundError, VersionNotFoundError):
        return None
    templates = _event_templates(compiled, event)
    if templates is None or templates.email is None:
        return None
    email = templates.email
    chosen = "cy" if language == "cy" and email.subject.cy is not None and email.body.cy is not None else "en"
    return EmailTemplate.from_text(
        name=name,
        language=chosen,
        subject=email.subject.get(chosen).strip(),
        body=email.body.get(chosen),
        origin="service",
    )


def notification_language(application: Application, compiled: CompiledDefinition) -> str:
    """Return the language to write to the applicant in: theirs if the service offers it, else its first."""
    languages = list(compiled.definition.languages)
    return application.language if application.language in languages else languages[0]


def service_event_notifies(application: Application, event: str) -> bool:
    """Return whether ``application``'s pinned version has any template for ``event`` (cheap: cached definition)."""
    try:
        compiled = compiled_for(application)
    except (ServiceNotFoundError, VersionNotFoundError):
        return False
    templates = _event_templates(compiled, event)
    return templates is not None and (templates.email is not None or templates.sms is not None)


def service_notification_send(
    application: Application,
    event: schema.NotificationEvent,
    *,
    context: Mapping[str, str] | None = None,
    occurrence: str = "once",
    channels: Collection[str] = CHANNELS,
) -> ServiceNotification:
    """Queue the definition's ``event`` notifications to ``application``'s applicant (module docstring).

    Call inside ``transaction.atomic()``: the messages commit with the change
    that causes them. ``context`` holds the event's own placeholder values;
    ``occurrence`` tells apart repeated events of one application (a case
    event id; ``once`` for events that happen once). Idempotent on
    (application, event, occurrence, channel). A channel the definition has
    no template for, or with no recipient, sends nothing. Audited by the
    kernels (``notifications.email.queued``, ``notifications.sms.queued``).
    """
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        msg = f"unknown channels {sorted(unknown)}; use email and/or sms"
        raise ValueError(msg)
    try:
        compiled = compiled_for(application)
    except (ServiceNotFoundError, VersionNotFoundError):
        logger.warning("notifications.service.version_missing", application_id=str(application.id))
        return ServiceNotification(email=None, sms=None)
    templates = _event_templates(compiled, event)
    if templates is None:
        return ServiceNotification(email=None, sms=None)
    language = notification_language(application, compiled)
    wants_email = "email" in channels and templates.email is not None
    wants_sms = "sms" in channels and templates.sms is not None and compiled.definition.notifications.sms_to is not None
    if not wants_email and not wants_sms:
        return ServiceNotification(email=None, sms=None)
    try:
        state = state_load(application)
    except DecryptionError as error:
        # The applicant's data was erased (crypto-shredded): there is nobody left to write to.
        logger.info("notifications.service.answers_erased", application_id=str(application.id), code=error.code)
        return ServiceNotification(email=None, sms=None)
    values = _values(application, compiled, state, language, context or {})
    key = f"notifications.{event}:{application.id}:{occurrence}"
    email = (
        _email_queue(application, compiled=compiled, event=event, language=language, values=values, key=key)
        if wants_email
        else None
    )
    sms = (
        _sms_queue(
            application,
            compiled=compiled,
            templates=templates,
            event=event,
            state=state,
            language=language,
            values=values,
            key=key,
        )
        if wants_sms
        else None
    )
    return ServiceNotification(email=email, sms=sms)


def _email_queue(
    application: Application,
    *,
    compiled: CompiledDefinition,
    event: str,
    language: str,
    values: Mapping[str, str],
    key: str,
) -> OutboundEmail | None:
    recipient = applicant_email(application)
    if recipient is None:
        return None
    name = service_template_name(service_id=compiled.service_id, version=compiled.version, event=event)
    try:
        # A savepoint: a template that cannot be rendered must not poison the caller's transaction.
        with transaction.atomic():
            return email_send(
                to=recipient,
                template=name,
                context=values,
                language=language,
                idempotency_key=f"{key}:email",
                owner=application.crypto_owner,
                purpose=event,
            )
    except _RENDER_ERRORS as error:
        logger.warning(
            "notifications.service.not_rendered", channel="email", event=event, code=error.code, service=name
        )
        return None


def _sms_queue(
    application: Application,
    *,
    compiled: CompiledDefinition,
    templates: schema.EventTemplates,
    event: str,
    state: JourneyState,
    language: str,
    values: Mapping[str, str],
    key: str,
) -> OutboundSms | None:
    sms_to = compiled.definition.notifications.sms_to
    number = state.effective_answers().get(sms_to) if sms_to else None
    if not isinstance(number, str) or templates.sms is None:
        return None
    name = service_template_name(service_id=compiled.service_id, version=compiled.version, event=event)
    text_language = language if language == "cy" and templates.sms.body.cy is not None else "en"
    try:
        with transaction.atomic():
            text = compile_text(templates.sms.body.get(text_language)).render(values)
            return sms_send(
                to=number,
                text=text,
                template=f"{name}:sms",
                language=text_language,
                idempotency_key=f"{key}:sms",
                owner=application.crypto_owner,
                purpose=event,
            )
    except _RENDER_ERRORS as error:
        logger.warning("notifications.service.not_rendered", channel="sms", event=event, code=error.code, service=name)
        return None


def _values(
    application: Application,
    compiled: CompiledDefinition,
    state: JourneyState,
    language: str,
    context: Mapping[str, str],
) -> dict[str, str]:
    """Return every value a template of this service may name: answers, flags, the platform's, the event's."""
    definition = compiled.definition
    answers = state.effective_answers()
    values: dict[str, str] = {}
    for page in definition.pages:
        for field in page.fields:
            if isinstance(field, schema.GroupField):
                continue
            values[field.id] = _answer_text(field, answers.get(field.id), compiled, language)
            if isinstance(field, schema.YesNoField):
                values[field.id] = YES if answers.get(field.id) is True else NO
    for name, result in state.final_evaluator().determinants.items():
        values[name] = YES if result is True else NO
    values.update(
        {
            "reference": application.reference,
            "service_title": definition.title.get(language),
            "link": _absolute(reverse("journeys:application_detail", args=[application.id])),
        }
    )
    values.update({name: str(value) for name, value in context.items()})
    return values


def _answer_text(field: schema.AnyField, value: Any, compiled: CompiledDefinition, language: str) -> str:
    if value is None:
        return ""
    if isinstance(field, schema.FileField):
        return str(value.get("name", "")) if isinstance(value, Mapping) else ""
    text = display_value(
        field,
        value,
        language=language,
        catalogues=compiled.catalogues,
        currency=compiled.definition.currency,
        phone_region=compiled.definition.phone_region,
    )
    # A value of several lines (an address) on one line: subjects and text messages are one line.
    return ", ".join(line.strip() for line in text.splitlines() if line.strip())


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


# --- Delivery callbacks (GOV.UK Notify) -------------------------------------------------------------

_CALLBACK_ACTOR = Actor.system("notify-callback")
_CALLBACK_STATUSES = {
    "sending": DeliveryStatus.SENDING,
    "delivered": DeliveryStatus.DELIVERED,
    "permanent-failure": DeliveryStatus.PERMANENT_FAILURE,
    "temporary-failure": DeliveryStatus.TEMPORARY_FAILURE,
    "technical-failure": DeliveryStatus.TECHNICAL_FAILURE,
}


@dataclass(frozen=True)
class CallbackOutcome:
    """What a delivery callback did: the message it named (None: unknown) and whether its status changed."""

    message_id: uuid.UUID | None
    channel: str
    changed: bool


def delivery_callback_record(*, payload: Mapping[str, Any]) -> CallbackOutcome:
    """Record a GOV.UK Notify delivery receipt (``id``, ``reference``, ``status``, ``notification_type``).

    The message is found by Notify's notification id (the provider reference
    stored when it was accepted), else by ``reference`` (every copy of a
    message carries the same one, so a receipt for a copy sent by a worker
    that died before recording it still lands). Idempotent: the same receipt
    again changes nothing; ``delivered`` is never overwritten, and a final
    status is not replaced by ``sending``. A receipt for no known message is
    accepted and ignored (Notify would retry a refusal for hours).
    Raise CallbackPayloadError for a payload without a known status or type.
    Audited as ``notifications.delivery.updated`` when the status changes.
    """
    status = _CALLBACK_STATUSES.get(str(payload.get("status", "")))
    channel = str(payload.get("notification_type", ""))
    if status is None or channel not in {"email", "sms"}:
        msg = "A delivery receipt needs a status (sending, delivered, ...) and a notification_type (email or sms)"
        raise CallbackPayloadError(msg)
    notify_id = str(payload.get("id", ""))[:255]
    reference = str(payload.get("reference", "") or "")[:64]
    model: type[OutboundEmail] | type[OutboundSms] = OutboundEmail if channel == "email" else OutboundSms
    with transaction.atomic():
        rows = model.objects.select_for_update()
        message = rows.filter(provider_reference=notify_id).first() if notify_id else None
        if message is None and reference:
            message = rows.filter(reference=reference).order_by("created_at").first()
        if message is None:
            logger.info("notifications.callback.unknown", channel=channel)
            return CallbackOutcome(message_id=None, channel=channel, changed=False)
        current = message.delivery_status
        stale = status == DeliveryStatus.SENDING and current in FINAL_DELIVERY_STATUSES
        if current in {status, DeliveryStatus.DELIVERED} or stale:
            return CallbackOutcome(message_id=message.id, channel=channel, changed=False)
        message.delivery_status = status
        message.delivery_status_at = clock.now()
        message.save(update_fields=["delivery_status", "delivery_status_at", "updated_at"])
        audit_record(
            actor=_CALLBACK_ACTOR,
            action="notifications.delivery.updated",
            subject_type=f"outbound_{channel}",
            subject_id=message.id,
            details={"from": current, "to": status.value},
        )
    return CallbackOutcome(message_id=message.id, channel=channel, changed=True)


# --- Retention -----------------------------------------------------------------------------------


DEFAULT_CONTENT_RETENTION_DAYS = 7


def content_retention() -> dt.timedelta:
    """Return ``NOTIFICATION_CONTENT_RETENTION_DAYS`` (default 7) as a period; at least one day."""
    days = int(getattr(settings, "NOTIFICATION_CONTENT_RETENTION_DAYS", DEFAULT_CONTENT_RETENTION_DAYS))
    return dt.timedelta(days=max(days, 1))


def message_content_remove(*, older_than: dt.timedelta | None = None, batch: int = 500) -> tuple[int, int]:
    """Empty the sealed content of messages created more than ``older_than`` ago; return (emails, texts).

    ``older_than`` defaults to :func:`content_retention`. The recipient,
    subject and body go (set to empty bytes, which no key opens); the record
    stays: status, delivery status, provider reference, times, template and
    language. A message still queued or retrying then fails for good
    (``content_removed``) when its job runs. Idempotent; ``batch`` rows per
    transaction. Audited once per run as ``notifications.content.removed``.
    """
    cutoff = clock.now() - (older_than or content_retention())
    removed = {"email": 0, "sms": 0}
    for channel, model in (("email", OutboundEmail), ("sms", OutboundSms)):
        due = model.objects.filter(created_at__lt=cutoff, content_removed_at__isnull=True)
        while True:
            with transaction.atomic():
                ids = list(due.order_by("created_at").values_list("id", flat=True)[:batch])
                if not ids:
                    break
                fields: dict[str, Any] = {
                    "recipient_sealed": b"",
                    "body_sealed": b"",
                    "content_removed_at": clock.now(),
                }
                if model is OutboundEmail:
                    fields["subject_sealed"] = b""
                removed[channel] += model.objects.filter(id__in=ids).update(**fields)
    if removed["email"] or removed["sms"]:
        audit_record(
            actor=Actor.system("notifications"),
            action="notifications.content.removed",
            subject_type="notifications",
            subject_id="retention",
            details={"emails": removed["email"], "sms": removed["sms"], "cutoff": cutoff.isoformat()},
        )
    logger.info("notifications.content_removed", emails=removed["email"], sms=removed["sms"])
    return removed["email"], removed["sms"]
