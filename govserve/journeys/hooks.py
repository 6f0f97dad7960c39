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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govserve.journeys.models import Application

ApplicationHook = Callable[["Application"], None]
_submitted: list[ApplicationHook] = []
_withdrawn: list[ApplicationHook] = []


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


def hook_unregister(hook: ApplicationHook) -> None:
    """Remove ``hook`` from every list (tests)."""
    for hooks in (_submitted, _withdrawn):
        if hook in hooks:
            hooks.remove(hook)


def submitted_hooks_run(application: Application) -> None:
    """Run the registered submission hooks (inside the caller's transaction)."""
    for hook in list(_submitted):
        hook(application)


def withdrawn_hooks_run(application: Application) -> None:
    """Run the registered withdrawal hooks (inside the caller's transaction)."""
    for hook in list(_withdrawn):
        hook(application)
