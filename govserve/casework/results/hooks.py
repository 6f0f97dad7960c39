"""Where apps below casework join results: a hook run when a result's PDF is ready.

Notifications sits below casework and cannot be called from here; it
registers a function with :func:`result_ready_hook_register` (in its
``AppConfig.ready``) and sends the ``result_issued`` email and text message
from it. The hook runs inside the transaction that marks the PDF ready, once
per result (a second render finds it ready and runs nothing), so a message
queued there commits with the result, and the applicant can download what the
message announces. A hook that raises rolls the render back; the job retries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govserve.catalogue.definitions.schema import LocalisedText
    from govserve.journeys.models import Application


@dataclass(frozen=True)
class ResultReady:
    """A result whose PDF has just been stored: what a notification about it needs."""

    application: Application
    result_id: uuid.UUID
    number: str
    name: LocalisedText
    issued_on: dt.date
    valid_until: dt.date | None
    verify_url: str
    download_path: str

    def result_name(self, language: str) -> str:
        """Return the result's name in ``language`` (English where it has no text in it)."""
        return self.name.get(language)


ResultReadyHook = Callable[[ResultReady], None]
_ready: list[ResultReadyHook] = []


def result_ready_hook_register(hook: ResultReadyHook) -> ResultReadyHook:
    """Run ``hook(ready)`` inside the transaction that stores each result's PDF; return it."""
    if hook not in _ready:
        _ready.append(hook)
    return hook


def hook_unregister(hook: ResultReadyHook) -> None:
    """Remove ``hook`` (tests)."""
    if hook in _ready:
        _ready.remove(hook)


def result_ready_hooks_run(ready: ResultReady) -> None:
    """Run the registered hooks (inside the caller's transaction)."""
    for hook in list(_ready):
        hook(ready)
