"""Fixtures of the web layer's tests."""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.core import clock


class MovableClock:
    """Replace ``clock.now`` with a time the test sets and moves."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture
def movable_clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    # 10 seconds into a minute (and an hour, and a day): windows are easy to reason about.
    moving = MovableClock(dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.UTC))
    monkeypatch.setattr(clock, "now", moving.now)
    return moving
