"""Where apps join casework's transitions: results on final approval, notifications on applicant-visible events.

Both run inside the transition's transaction (outbox semantics): a hook that
enqueues a job commits or rolls back with the decision; a hook that raises
rolls the decision back (the operator sees the error and can decide again).

- **Results** (``govserve.casework.results``): register
  ``results_issue(application, *, actor)`` with
  :func:`file_approved_hook_register` in its ``AppConfig.ready``. It runs
  once per final approval, after the application's status is ``approved``.
  Until it is registered, approving issues no result (nothing is faked).
- **Notifications** (issue 6): register a function with
  :func:`case_event_hook_register`; it is called with every
  applicant-visible :class:`~govserve.casework.models.CaseEvent` (sent
  back, decided, message from staff, correction...) and enqueues the email
  jobs there. Casework sends nothing itself. It may also register
  :func:`deliveries_provider_register`: the staff file view lists what was
  sent to the applicant (``FileView.deliveries``).
- **Payments**: register :func:`payments_provider_register` with
  ``provider(application, *, user, language)``; the staff file view lists
  the file's payments (``FileView.payments``). Each record has
  ``when_text``, ``amount_text``, ``state_text``, ``provider_reference``,
  ``refunded_text`` and ``refund_url`` (blank unless ``user`` may refund it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from govserve.accounts.models import User
    from govserve.audit.actors import Actor
    from govserve.casework.models import CaseEvent
    from govserve.journeys.models import Application


class ApprovedHook(Protocol):
    """``hook(application, *, actor)``: called on final approval inside the transaction."""

    def __call__(self, application: Application, /, *, actor: Actor) -> None:
        """Issue what the approval issues (results)."""


class PaymentsProvider(Protocol):
    """``provider(application, *, user, language)``: the file's payments as ``user`` may see them."""

    def __call__(self, application: Application, /, *, user: User, language: str) -> list[Any]:
        """Return one record per payment (module docstring)."""


CaseEventHook = Callable[["CaseEvent"], None]
DeliveriesProvider = Callable[["Application"], list[Any]]
_approved: list[ApprovedHook] = []
_events: list[CaseEventHook] = []
_deliveries: list[DeliveriesProvider] = []
_payments: list[PaymentsProvider] = []


def file_approved_hook_register(hook: ApprovedHook) -> ApprovedHook:
    """Run ``hook(application, actor=...)`` inside every final approval's transaction; return it."""
    if hook not in _approved:
        _approved.append(hook)
    return hook


def case_event_hook_register(hook: CaseEventHook) -> CaseEventHook:
    """Run ``hook(event)`` for every applicant-visible case event, inside its transaction; return it."""
    if hook not in _events:
        _events.append(hook)
    return hook


def hook_unregister(hook: object) -> None:
    """Remove ``hook`` from every list (tests)."""
    for hooks in (_approved, _events, _deliveries, _payments):
        if hook in hooks:
            hooks.remove(hook)  # type: ignore[arg-type]


def approved_hooks_run(application: Application, *, actor: Actor) -> None:
    """Run the registered final-approval hooks (inside the caller's transaction)."""
    for hook in list(_approved):
        hook(application, actor=actor)


def case_event_hooks_run(event: CaseEvent) -> None:
    """Run the registered case-event hooks (inside the caller's transaction)."""
    for hook in list(_events):
        hook(event)


def deliveries_provider_register(provider: DeliveriesProvider) -> DeliveriesProvider:
    """Let ``provider(application)`` list the notifications sent about it (notifications); return it."""
    if provider not in _deliveries:
        _deliveries.append(provider)
    return provider


def deliveries_for(application: Application) -> list[Any]:
    """Return the delivery records every provider lists for ``application`` (ids and statuses, no content)."""
    return [record for provider in list(_deliveries) for record in provider(application)]


def payments_provider_register(provider: PaymentsProvider) -> PaymentsProvider:
    """Let ``provider(application, user=..., language=...)`` list the file's payments (payments); return it."""
    if provider not in _payments:
        _payments.append(provider)
    return provider


def payments_for(application: Application, *, user: User, language: str) -> list[Any]:
    """Return the payment records every provider lists for ``application`` as ``user`` sees them."""
    return [record for provider in list(_payments) for record in provider(application, user=user, language=language)]
