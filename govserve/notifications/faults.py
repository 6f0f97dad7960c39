"""Named points where a test can kill the delivering worker (at-least-once tests only).

``GOVSERVE_TEST_KILL_AT=<point>`` in a worker's environment makes the worker
kill itself with SIGKILL (no clean-up, no ``finally``, as a power cut or the
out-of-memory killer would) when a delivery reaches that point:

- ``before_connect``: the attempt is recorded as begun, nothing was sent;
- ``after_accept``: the provider accepted the message (SMTP 250, Notify 201)
  and the job has not recorded it yet, so the retry sends it again.

The third point of docs/notifications.md, *after sending the data*, is made
from outside: the test servers (:mod:`govserve.notifications.testing`) hold
their answer once the message is in, and the test kills the worker then.
Unset (every deployment), a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = "GOVSERVE_TEST_KILL_AT"
POINTS = frozenset({"before_connect", "after_accept"})


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL if ``GOVSERVE_TEST_KILL_AT`` names ``name``; otherwise do nothing."""
    if name not in POINTS:
        msg = f"unknown fault point {name!r}"
        raise ValueError(msg)
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
