"""Fixtures of notifications' tests: a movable clock, a clean data-key cache, a real SMTP server, a fake Notify."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from govserve.core import clock
from govserve.core.tests.conftest import _live_template, live_database  # noqa: F401 - fixtures reused
from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401 - fixtures reused
from govserve.journeys.tests.support import examples_publish
from govserve.notifications.testing import FakeNotify, SmtpSink, fake_notify, smtp_sink
from govserve.privacy.crypto import data_key_cache_clear


class MovableClock:
    """Replace ``clock.now`` with a time the test moves forward (retries become due)."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture
def movable_clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    moving = MovableClock(dt.datetime.now(tz=dt.UTC))
    monkeypatch.setattr(clock, "now", moving.now)
    return moving


@pytest.fixture(autouse=True)
def _clean_data_key_cache() -> Iterator[None]:
    # Test transactions roll back: a data key cached by one test must not outlive it.
    data_key_cache_clear()
    yield
    data_key_cache_clear()


@pytest.fixture
def sink(settings: object) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback, configured as EMAIL_URL."""
    with smtp_sink() as running:
        settings.EMAIL_URL = running.url  # type: ignore[attr-defined]
        yield running


@pytest.fixture
def notify(settings: Any) -> Iterator[FakeNotify]:
    """The local fake of GOV.UK Notify, configured for email and text messages."""
    with fake_notify() as running:
        settings.EMAIL_URL = "notify://?timeout=5"
        settings.SMS_URL = "notify://?timeout=5"
        settings.NOTIFY_API_KEY = running.api_key
        settings.NOTIFY_BASE_URL = running.base_url
        settings.NOTIFY_EMAIL_TEMPLATE_ID = running.email_template_id
        settings.NOTIFY_SMS_TEMPLATE_ID = running.sms_template_id
        yield running


@pytest.fixture
def examples(db: None) -> None:
    """Publish the example catalogues and the three example services (version 1 of each)."""
    examples_publish()
