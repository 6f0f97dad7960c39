"""At least once, recognisably the same: real workers killed with SIGKILL at three named points.

Each test queues one message on a live database (a producer subprocess, as
a web process would), starts a real ``govserve worker`` and kills it with
SIGKILL at one point of the delivery:

- ``before_connect``: the attempt is recorded as begun, nothing was sent
  (the worker kills itself there: ``GOVSERVE_TEST_KILL_AT``);
- ``after_data``: the provider has the whole message and has not answered
  yet (the SMTP server or the fake Notify holds its answer; the test kills
  the worker then);
- ``after_accept``: the provider accepted it and the job has not recorded it
  (the worker kills itself there).

A second worker recovers the lost attempt once its lease expired and
retries it. The message must arrive, and when a second copy arrives it must
be the same message: the same Message-ID (email, real aiosmtpd server) or
the same reference (text message, the fake Notify), the same content.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from govserve.core.tests.conftest import GOVSERVE, PYTHON, LiveDatabase
from govserve.notifications.email import reference_for
from govserve.notifications.testing import FakeNotify, SmtpSink, fake_notify, smtp_sink

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2
JOB_TABLE = "core_jobrecord"
POINTS = ["before_connect", "after_data", "after_accept"]


@pytest.fixture
def live_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback for worker subprocesses (no settings changed in this process)."""
    with smtp_sink() as running:
        yield running


@pytest.fixture
def live_notify() -> Iterator[FakeNotify]:
    """The fake Notify for worker subprocesses."""
    with fake_notify() as running:
        yield running


def _provider_environment(sink: SmtpSink | None, notify: FakeNotify | None) -> dict[str, str]:
    environment = {
        "GOVSERVE_JOBS_LEASE_SECONDS": str(LEASE_SECONDS),
        "GOVSERVE_JOBS_BACKOFF_BASE_SECONDS": "1",
        "GOVSERVE_JOBS_BACKOFF_CAP_SECONDS": "1",
    }
    if sink is not None:
        environment["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}?timeout=20"
    if notify is not None:
        environment.update(
            {
                "SMS_URL": "notify://?timeout=20",
                "NOTIFY_API_KEY": notify.api_key,
                "NOTIFY_BASE_URL": notify.base_url,
                "NOTIFY_SMS_TEMPLATE_ID": notify.sms_template_id,
                "NOTIFY_EMAIL_TEMPLATE_ID": notify.email_template_id,
            }
        )
    return environment


def _start(live: LiveDatabase, name: str, command: list[str], **extra: str) -> subprocess.Popen[bytes]:
    stderr = (live.directory / f"{name}.err").open("wb")
    process = subprocess.Popen(
        command, env=live.environment(**extra), cwd=live.directory, stdout=subprocess.PIPE, stderr=stderr
    )
    stderr.close()
    live.processes.append(process)
    return process


def _produce(live: LiveDatabase, channel: str, key: str) -> str:
    producer = _start(live, "producer", [PYTHON, "-m", "govserve.notifications.tests.message_producer", channel, key])
    output, _ = producer.communicate(timeout=120)
    assert producer.returncode == 0, live.stderr("producer")
    return output.decode().strip().splitlines()[-1]


def _worker(live: LiveDatabase, name: str, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [GOVSERVE, "worker", "--skip-checks", "--interval", "0.05", "--worker-id", name, "--no-schedules"]
    return _start(live, name, command, **environment)


def _wait_until(condition: Callable[[], bool], *, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    msg = f"timed out waiting for {what}"
    raise AssertionError(msg)


def _kill_at(
    live: LiveDatabase, point: str, environment: dict[str, str], *, hold: Any, received: Callable[[], int]
) -> None:
    """Run the first worker until it dies at ``point`` (SIGKILL, by itself or by the test)."""
    if point == "after_data":
        hold.hold = True
        first = _worker(live, "w1", environment)
        _wait_until(lambda: received() == 1, what="the provider to have the message")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        hold.release()
    else:
        first = _worker(live, "w1", {**environment, "GOVSERVE_TEST_KILL_AT": point})
        first.wait(timeout=120)
    assert first.returncode == -signal.SIGKILL, live.stderr("w1")


def _recover(
    live: LiveDatabase, table: str, job_key: str, message_id: str, environment: dict[str, str]
) -> tuple[Any, ...]:
    """Let a second worker retry the lost attempt; return the message's (status, attempts, job state)."""
    time.sleep(LEASE_SECONDS + 0.5)  # the first attempt's lease expires: the attempt is lost
    second = _worker(live, "w2", environment)

    def sent() -> bool:
        if second.poll() is not None:  # the worker could not start: say why at once
            msg = f"the second worker exited ({second.returncode}): {live.stderr('w2')[-2000:]}"
            raise AssertionError(msg)
        rows = live.query(f"SELECT status FROM {table} WHERE id = %s", [_db_id(live, message_id)])  # noqa: S608
        return bool(rows) and rows[0][0] == "sent"

    _wait_until(sent, timeout=90, what="the message to be sent by the second worker")
    second.send_signal(signal.SIGTERM)
    second.wait(timeout=30)
    [row] = live.query(
        f"SELECT m.status, m.attempts, j.state FROM {table} m, {JOB_TABLE} j "  # noqa: S608
        "WHERE j.idempotency_key = %s AND m.id = %s",
        [job_key, _db_id(live, message_id)],
    )
    return tuple(row)


def _db_id(live: LiveDatabase, message_id: str) -> str:
    # Django stores UUIDs as 32 hex characters on SQLite and as uuid on PostgreSQL.
    return message_id.replace("-", "") if live.vendor == "sqlite" else message_id


@pytest.mark.parametrize("point", POINTS)
def test_an_email_arrives_and_every_copy_has_the_same_message_id(
    live_database: LiveDatabase, live_sink: SmtpSink, point: str
) -> None:
    key = f"sign-in-link:at-least-once:{point}"
    environment = _provider_environment(live_sink, None)
    message_id = _produce(live_database, "email", key)

    _kill_at(live_database, point, environment, hold=live_sink, received=lambda: len(live_sink.received))
    status, attempts, job_state = _recover(
        live_database, "notifications_outboundemail", f"notifications.email:{message_id}", message_id, environment
    )

    assert (status, attempts, job_state) == ("sent", 2, "succeeded")
    copies = live_sink.received
    # Before connecting nothing went: one copy. Afterwards the server had the first copy: two.
    assert len(copies) == (1 if point == "before_connect" else 2)
    [stored_message_id] = live_database.query("SELECT message_id FROM notifications_outboundemail")[0]
    assert stored_message_id.startswith(f"<{reference_for(key)}@")
    assert {copy.message["Message-ID"] for copy in copies} == {stored_message_id}
    assert {(copy.message["Subject"], copy.body, copy.rcpt_tos) for copy in copies} == {
        (
            "Sign in to Westmoor City Council",
            copies[0].body,
            ("ada.lovelace@example.org",),
        )
    }
    assert "https://westmoor.example/sign-in/link/at-least-once" in copies[0].body


@pytest.mark.parametrize("point", POINTS)
def test_a_text_message_arrives_at_notify_and_every_copy_has_the_same_reference(
    live_database: LiveDatabase, live_notify: FakeNotify, point: str
) -> None:
    key = f"sms:at-least-once:{point}"
    environment = _provider_environment(None, live_notify)
    message_id = _produce(live_database, "sms", key)

    _kill_at(live_database, point, environment, hold=live_notify, received=lambda: len(live_notify.received))
    status, attempts, job_state = _recover(
        live_database, "notifications_outboundsms", f"notifications.sms:{message_id}", message_id, environment
    )

    assert (status, attempts, job_state) == ("sent", 2, "succeeded")
    assert live_notify.refused == []  # every request carried a valid JWT and payload
    copies = [request.payload for request in live_notify.received]
    assert len(copies) == (1 if point == "before_connect" else 2)
    assert {(copy["reference"], copy["phone_number"], copy["personalisation"]["body"]) for copy in copies} == {
        (reference_for(key), "+447700900123", "Westmoor: your report WM12-AB34 was received.")
    }
    [(provider_reference,)] = live_database.query("SELECT provider_reference FROM notifications_outboundsms")
    assert provider_reference == live_notify.received[-1].notification_id
