"""Where the apps below journeys join in: hooks run inside the journey's own transactions.

Journeys sits above casework, payments and notifications in the dependency
order, so it cannot call them; they register here instead (in their
``AppConfig.ready``), and run in the same transaction as the change, so the
work they add commits or rolls back with it (outbox semantics without a job
that nobody handles)::

    from govserve.journeys.hooks import application_submitted_hook_register

    @application_submitted_hook_register
    def casework_file_open(application: Application) -> None:
        ...  # create the first task of the pinned version's flow, enqueue its jobs

**Casework's integration point** (issue 5): register an
``application_submitted`` hook that opens the application file (first task
per the pinned version's flow) when the status is ``submitted``; for
``awaiting_payment`` the file opens when payments records the payment. A
hook that raises rolls the submission back: the applicant sees an error and
can send again (idempotently). ``application_withdrawn`` hooks close the
open tasks of a withdrawn application.

**Results** (``govserve.casework.results``) register a *provider* with
:func:`results_provider_register`: the application page calls
:func:`results_for` to list what was issued (name, number, status and the
download link, which points at the results app's own permission-checked view).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

    from govserve.audit.actors import Actor
    from govserve.journeys.access import Applicant
    from govserve.journeys.models import Application

ApplicationHook = Callable[["Application"], None]
_submitted: list[ApplicationHook] = []
_withdrawn: list[ApplicationHook] = []


@dataclass(frozen=True)
class ResultLink:
    """One issued result as the applicant's page lists it; ``download_url`` is empty while it is prepared."""

    name: str
    number: str
    issued_on: dt.date
    valid_until: dt.date | None
    status: str
    download_url: str
    verify_url: str


ResultsProvider = Callable[["Application", str], list[ResultLink]]
_results_providers: list[ResultsProvider] = []


def application_submitted_hook_register(hook: ApplicationHook) -> ApplicationHook:
    """Run ``hook(application)`` inside every submission's transaction, after the status is set; return it."""
    if hook not in _submitted:
        _submitted.append(hook)
    return hook


def application_withdrawn_hook_register(hook: ApplicationHook) -> ApplicationHook:
    """Run ``hook(application)`` inside every withdrawal's transaction, after the status is set; return it."""
    if hook not in _withdrawn:
        _withdrawn.append(hook)
    return hook


def results_provider_register(provider: ResultsProvider) -> ResultsProvider:
    """List ``provider(application, language)``'s results on the applicant's application page; return it."""
    if provider not in _results_providers:
        _results_providers.append(provider)
    return provider


def hook_unregister(hook: ApplicationHook) -> None:
    """Remove ``hook`` from every list (tests)."""
    for hooks in (_submitted, _withdrawn):
        if hook in hooks:
            hooks.remove(hook)


def results_for(application: Application, language: str) -> list[ResultLink]:
    """Return the results issued for ``application`` (every provider's, in registration order)."""
    return [link for provider in list(_results_providers) for link in provider(application, language)]


def submitted_hooks_run(application: Application) -> None:
    """Run the registered submission hooks (inside the caller's transaction)."""
    for hook in list(_submitted):
        hook(application)


def withdrawn_hooks_run(application: Application) -> None:
    """Run the registered withdrawal hooks (inside the caller's transaction)."""
    for hook in list(_withdrawn):
        hook(application)


# --- Casework: resubmission, what a sent-back applicant must change, the expected decision date -----------
# ``application_resubmitted`` hooks return a sent-back application's file to its role once the applicant
# sends it again (inside that transaction). The two providers let casework answer the journey's questions
# about a file without journeys importing casework.

_resubmitted: list[ApplicationHook] = []


@dataclass(frozen=True)
class SendBackRequest:
    """What casework asked the applicant to change: answer (field) ids and document requirement ids."""

    fields: tuple[str, ...]
    documents: tuple[str, ...]


SendBackProvider = Callable[["Application"], SendBackRequest | None]
ExpectedDecisionProvider = Callable[["Application"], "dt.date | None"]
_send_back_providers: list[SendBackProvider] = []
_expected_decision_providers: list[ExpectedDecisionProvider] = []


def application_resubmitted_hook_register(hook: ApplicationHook) -> ApplicationHook:
    """Run ``hook(application)`` inside every resubmission's transaction, after the status is set; return it."""
    if hook not in _resubmitted:
        _resubmitted.append(hook)
    return hook


def resubmitted_hooks_run(application: Application) -> None:
    """Run the registered resubmission hooks (inside the caller's transaction)."""
    for hook in list(_resubmitted):
        hook(application)


def send_back_provider_register(provider: SendBackProvider) -> SendBackProvider:
    """Let ``provider(application)`` say what a sent-back application's applicant must change; return it."""
    if provider not in _send_back_providers:
        _send_back_providers.append(provider)
    return provider


def send_back_request(application: Application) -> SendBackRequest | None:
    """Return what the applicant of a sent-back application must change (None: no provider knows)."""
    for provider in list(_send_back_providers):
        request = provider(application)
        if request is not None:
            return request
    return None


def expected_decision_provider_register(provider: ExpectedDecisionProvider) -> ExpectedDecisionProvider:
    """Let ``provider(application)`` give the expected decision date of a file being processed; return it."""
    if provider not in _expected_decision_providers:
        _expected_decision_providers.append(provider)
    return provider


def expected_decision_provided(application: Application) -> tuple[bool, dt.date | None]:
    """Return (whether a provider gave a date, the date) for ``application``."""
    for provider in list(_expected_decision_providers):
        found = provider(application)
        if found is not None:
            return True, found
    return False, None


def casework_hooks_unregister(hook: object) -> None:
    """Remove ``hook`` from the casework lists above (tests)."""
    for hooks in (_resubmitted, _send_back_providers, _expected_decision_providers, _case_providers, _message_senders):
        if hook in hooks:
            hooks.remove(hook)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ApplicantMessage:
    """A message of the file's thread as the applicant reads it (never the staff member's name)."""

    from_applicant: bool
    body: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class ApplicantCorrection:
    """An answer staff corrected, as the applicant reads it: original and corrected values."""

    label: str
    original: str
    corrected: str
    corrected_at: dt.datetime


@dataclass(frozen=True)
class ApplicantCase:
    """What casework shows the applicant on the application's page."""

    messages: tuple[ApplicantMessage, ...] = ()
    corrections: tuple[ApplicantCorrection, ...] = ()
    can_write: bool = False


ApplicantCaseProvider = Callable[["Application", str], ApplicantCase | None]
MessageSender = Callable[["Application", "Actor", str], None]
_case_providers: list[ApplicantCaseProvider] = []
_message_senders: list[MessageSender] = []


def applicant_case_provider_register(provider: ApplicantCaseProvider) -> ApplicantCaseProvider:
    """Let ``provider(application, language)`` give the messages and corrections the applicant sees; return it."""
    if provider not in _case_providers:
        _case_providers.append(provider)
    return provider


def applicant_case(application: Application, language: str) -> ApplicantCase:
    """Return the case information of ``application`` for its applicant (empty when no provider knows it)."""
    for provider in list(_case_providers):
        case = provider(application, language)
        if case is not None:
            return case
    return ApplicantCase()


def message_sender_register(sender: MessageSender) -> MessageSender:
    """Let ``sender(application, actor, body)`` deliver an applicant's message to the team (casework); return it."""
    if sender not in _message_senders:
        _message_senders.append(sender)
    return sender


def applicant_message_send(application: Application, actor: Actor, body: str) -> bool:
    """Send the applicant's message through the registered sender; return False when none is registered.

    The sender's typed errors (message refused, file closed) propagate to the caller.
    """
    for sender in list(_message_senders):
        sender(application, actor, body)
        return True
    return False


ApplicantResolver = Callable[["HttpRequest", "Applicant"], "Applicant | None"]
_applicant_resolvers: list[ApplicantResolver] = []


def applicant_resolver_register(resolver: ApplicantResolver) -> ApplicantResolver:
    """Let ``resolver(request, applicant)`` answer who a request is (casework: staff assisting a citizen)."""
    if resolver not in _applicant_resolvers:
        _applicant_resolvers.append(resolver)
    return resolver


def applicant_resolved(request: HttpRequest, applicant: Applicant) -> Applicant:
    """Return the first registered resolver's answer for ``request``, else ``applicant`` unchanged."""
    for resolver in list(_applicant_resolvers):
        resolved = resolver(request, applicant)
        if resolved is not None:
            return resolved
    return applicant


# --- Payments: the applicant's "Pay now" link ----------------------------------------------------------
# Payments sits below journeys; it registers a provider that says what the applicant owes now and where
# to pay it. The confirmation page and the application page show the link (the payments app's own
# permission-checked view starts the payment).


@dataclass(frozen=True)
class PaymentLink:
    """What the applicant owes now and where to pay: ``text`` ("Pay £75 now"), ``url`` (a POST form target)."""

    amount: str
    text: str
    url: str
    paid_when: str


PaymentLinkProvider = Callable[["Application", str], PaymentLink | None]
_payment_link_providers: list[PaymentLinkProvider] = []


def payment_link_provider_register(provider: PaymentLinkProvider) -> PaymentLinkProvider:
    """Let ``provider(application, language)`` give the applicant's "Pay now" link; return it."""
    if provider not in _payment_link_providers:
        _payment_link_providers.append(provider)
    return provider


def payment_link_for(application: Application, language: str) -> PaymentLink | None:
    """Return the "Pay now" link of ``application`` (None: nothing to pay online now, or no payments app)."""
    for provider in list(_payment_link_providers):
        link = provider(application, language)
        if link is not None:
            return link
    return None
