"""The applicant's emails written by the service team: a definition's ``notifications.<event>.email``.

A service definition may carry its own email for an event (docs/service-definitions.md,
"Notifications"): a subject and a body in English and Welsh, GOV.UK Notify style
(``((placeholder))``, ``((flag??optional text))``). The platform's email kernel
(:mod:`govserve.notifications.email`) finds templates by name through lookups; this
module registers one (:func:`register`, from the app's ``ready``) that answers names
of the form ``journeys.service:<service id>:<version>:<event>`` from the pinned
version's definition, so an application is always written to with the text of the
version it was made on.

:func:`submission_email` chooses the template and the placeholder values for the
confirmation of a sent application: the definition's ``submitted`` email when it
has one, else the platform's ``submission_confirmation``. The values are:

- ``reference``, ``service_title`` and ``link`` (the application's page);
- every answer outside a repeating group, by field id, as the pages show it
  (``27 March 1990``, ``£75``, option labels), empty when not answered; an
  answer of several lines (an address) is one line in the subject;
- for ``((flag??text))``: a determinant, or a yes/no answer, is ``yes`` when true
  and ``no`` otherwise (undecided or not answered).

``govserve check`` refuses a template that names anything else, so every name has
a value. A definition published before that check, naming an unknown placeholder,
gets the platform's confirmation instead (logged): a sent application must never
fail because of its email.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions import schema
from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.catalogue.selectors import published_version_load
from govserve.journeys.fields import display_value
from govserve.journeys.routing import JourneyState
from govserve.notifications.email import EmailTemplate, PlatformTemplate, email_template_get

logger = structlog.get_logger(__name__)

SERVICE_TEMPLATE_PREFIX = "journeys.service"
YES, NO = "yes", "no"


def service_template_name(*, service_id: str, version: int, event: schema.NotificationEvent) -> str:
    """Return the name under which the email of ``event`` in a service's ``version`` is found."""
    return f"{SERVICE_TEMPLATE_PREFIX}:{service_id}:{version}:{event}"


def _definition_email(compiled: CompiledDefinition, event: str) -> schema.EmailTemplate | None:
    templates = getattr(compiled.definition.notifications, event, None)
    if not isinstance(templates, schema.EventTemplates):
        return None
    return templates.email


def service_templates(name: str, language: str) -> EmailTemplate | None:
    """Return the definition's email named ``name`` in ``language`` (English without Welsh), or None.

    The lookup registered with the email kernel: None for names that are not
    ``journeys.service:...`` or name no email (the next lookup, or the
    platform's templates, answer them).
    """
    prefix, _, rest = name.partition(":")
    service_id, _, rest = rest.partition(":")
    version_text, _, event = rest.partition(":")
    if prefix != SERVICE_TEMPLATE_PREFIX or not version_text.isdigit() or not service_id or not event:
        return None
    compiled = _at_hand.get()
    number = int(version_text)
    if compiled is None or compiled.preview or (compiled.service_id, compiled.version) != (service_id, number):
        try:
            compiled = published_version_load(service_id, number)
        except (ServiceNotFoundError, VersionNotFoundError):
            return None
    email = _definition_email(compiled, event)
    if email is None:
        return None
    # One language for the whole message: Welsh only when both the subject and the body have it.
    chosen = "cy" if language == "cy" and email.subject.cy is not None and email.body.cy is not None else "en"
    return EmailTemplate.from_text(
        name=name,
        language=chosen,
        subject=email.subject.get(chosen).strip(),
        body=email.body.get(chosen),
        origin="service",
    )


_at_hand: contextvars.ContextVar[CompiledDefinition | None] = contextvars.ContextVar(
    "journeys_email_definition_at_hand", default=None
)
"""The published version a caller has just loaded, whose emails :func:`service_templates` need not load again."""


@contextmanager
def _definition_at_hand(compiled: CompiledDefinition) -> Iterator[None]:
    """Let :func:`service_templates` take ``compiled`` (a published version just loaded) instead of reading it again."""
    token = _at_hand.set(compiled)
    try:
        yield
    finally:
        _at_hand.reset(token)


def register() -> None:
    """Make service definitions' emails available to the email kernel (idempotent; the app's ``ready``)."""
    from govserve.notifications.email import email_template_lookup_register  # noqa: PLC0415 - registry ready

    email_template_lookup_register(service_templates)


@dataclass(frozen=True)
class ChosenEmail:
    """The template to send, the values of its placeholders, and whether its text shows the link it was given."""

    template: str
    context: Mapping[str, str]
    shows_link: bool = True
    loaded: EmailTemplate | None = None


def submission_email(*, state: JourneyState, reference: str, link: str, language: str) -> ChosenEmail:
    """Return the confirmation of a sent application: the definition's ``submitted`` email, or the platform's.

    ``state`` is the application's journey state when it was sent (its
    effective answers fill the placeholders); ``link`` the absolute URL of the
    application's page; ``language`` the applicant's.
    """
    compiled = state.compiled
    title = compiled.definition.title.get(language)
    platform = ChosenEmail(
        template=PlatformTemplate.SUBMISSION_CONFIRMATION,
        context={"service_name": title, "reference": reference, "status_url": link},
    )
    if compiled.preview or _definition_email(compiled, "submitted") is None:
        # A staff preview runs on a draft version, which the lookup (published versions) cannot name.
        return platform
    name = service_template_name(service_id=compiled.service_id, version=compiled.version, event="submitted")
    with _definition_at_hand(compiled):  # the lookups in their order, the version not read again
        template = email_template_get(name=name, language=language)
    context = _answer_values(state, template, language)
    context.update({"reference": reference, "service_title": title, "link": link})
    missing = sorted(template.names - context.keys())
    if missing:
        logger.warning(
            "journeys.email.unknown_placeholders",
            service_id=compiled.service_id,
            version=compiled.version,
            names=missing,
        )
        return platform
    return ChosenEmail(template=name, context=context, shows_link="link" in template.names, loaded=template)


def _answer_values(state: JourneyState, template: EmailTemplate, language: str) -> dict[str, str]:
    """Return each answer outside a group as people read it, and each flag the template uses as yes/no."""
    definition = state.definition
    answers = state.effective_answers()
    in_subject = template.subject.names
    values: dict[str, str] = {}
    for page in definition.pages:
        for field in page.fields:
            if isinstance(field, schema.GroupField):
                continue
            text = _answer_text(field, answers.get(field.id), state, language)
            values[field.id] = " ".join(text.split()) if field.id in in_subject else text
    flags = template.subject.flags | template.body.flags
    determinants = state.final_evaluator().determinants
    for name in flags:
        if name in determinants:
            values[name] = YES if determinants[name] is True else NO
        elif name in values:
            values[name] = YES if answers.get(name) is True else NO
    return values


def _answer_text(field: schema.AnyField, value: Any, state: JourneyState, language: str) -> str:
    if value is None:
        return ""
    if isinstance(field, schema.FileField):
        return str(value.get("name", "")) if isinstance(value, Mapping) else ""
    text = display_value(
        field,
        value,
        language=language,
        catalogues=state.compiled.catalogues,
        currency=state.definition.currency,
        phone_region=state.definition.phone_region,
    )
    return text.replace("\n", ", ") if isinstance(field, schema.AddressField) else text
