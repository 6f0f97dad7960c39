"""The registry of audit event types: dotted names, each declared once.

Apps declare their events in ``<app>/audit_events.py`` (imported by the app's
``AppConfig.ready``) with :func:`register_event`; recording an undeclared name
is a programming error, so a typo cannot produce an event nobody looks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$")


@dataclass(frozen=True)
class EventType:
    """A kind of audited event (``casework.decision.recorded``)."""

    name: str
    description: str
    reads_personal_data: bool = False


EVENT_TYPES: dict[str, EventType] = {}


def register_event(name: str, *, description: str, reads_personal_data: bool = False) -> EventType:
    """Declare an event type; idempotent for an identical declaration, raise on a conflicting one."""
    if not _NAME.match(name):
        msg = f"audit event names are dotted lower-case words, at least three parts: {name!r}"
        raise ValueError(msg)
    event = EventType(name=name, description=description, reads_personal_data=reads_personal_data)
    existing = EVENT_TYPES.get(name)
    if existing is not None and existing != event:
        msg = f"audit event {name!r} is already registered differently"
        raise ValueError(msg)
    EVENT_TYPES[name] = event
    return event


def event_type(name: str) -> EventType:
    """Return the registered event type ``name``; raise LookupError if it was never registered."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        msg = f"audit event {name!r} is not registered: declare it in the app's audit_events.py"
        raise LookupError(msg) from None
