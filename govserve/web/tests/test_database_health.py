"""A kept PostgreSQL connection is checked without a round trip when quiet, with Django's SELECT 1 otherwise."""

from __future__ import annotations

import select
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core.signals import request_started
from django.db import close_old_connections, connection, connections

from govserve.web import database_health

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the check is PostgreSQL's"),
]


@pytest.fixture
def kept_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Yield the calls of Django's round-trip check on a kept connection with health checks on."""
    wrapper: Any = connections["default"]  # health_check_* are Django's, not in its type stubs
    wrapper.ensure_connection()
    checks: list[str] = []
    round_trip = type(wrapper).is_usable

    def counted(self: Any) -> bool:
        checks.append("SELECT 1")
        return bool(round_trip(self))

    monkeypatch.setattr(type(wrapper), "is_usable", counted)
    # Health checks on and the connection kept between requests, whatever the test settings say (a
    # connection opened again in the test reads them from the settings, so they are set there too).
    monkeypatch.setitem(wrapper.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(wrapper.settings_dict, "CONN_MAX_AGE", None)
    wrapper.health_check_enabled = True
    wrapper.close_at = None
    # As in a server: Django's close_old_connections first (connected when django.db was imported), then
    # ours. Django's test client connects close_old_connections again after each of its requests, which
    # puts it after ours for the rest of the run; there its reset of the check wins (Django's round trip).
    request_started.disconnect(dispatch_uid="govserve-quiet-connections")
    request_started.disconnect(close_old_connections)
    request_started.connect(close_old_connections)
    database_health.connect()
    yield checks
    wrapper.close()  # the next test opens it with the settings it had


def _one() -> Any:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def test_a_quiet_connection_is_not_checked_again(kept_connection: list[str]) -> None:
    # Given a kept connection that finished its last request
    assert _one() == 1

    # When the next request starts and runs a statement
    request_started.send(sender=None)
    answer = _one()

    # Then the connection was taken as checked without Django's SELECT 1
    assert answer == 1
    assert connections["default"].health_check_done is True  # type: ignore[attr-defined]
    assert kept_connection == []


def test_a_connection_the_server_ended_is_checked_and_replaced(kept_connection: list[str]) -> None:
    # Given a kept connection the server has ended between two requests (a restart, an idle timeout)
    assert _one() == 1
    raw = connection.connection
    parameters = {**connection.get_connection_params(), "autocommit": True}
    parameters.pop("cursor_factory", None)
    with psycopg.connect(**parameters) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [raw.info.backend_pid])
    select.select([raw.pgconn.socket], [], [], 5)  # the server's message reaches the socket

    # When the next request starts and runs a statement
    request_started.send(sender=None)
    answer = _one()

    # Then Django's check ran, found it unusable, and the statement went to a new connection
    assert kept_connection == ["SELECT 1"]
    assert answer == 1
    assert connection.connection is not raw


def test_a_connection_with_an_error_keeps_djangos_check(kept_connection: list[str]) -> None:
    # Given a kept connection whose last request met a database error
    assert _one() == 1
    connection.errors_occurred = True

    # When the next request starts
    request_started.send(sender=None)

    # Then Django checked it with its round trip, as before
    assert kept_connection == ["SELECT 1"]
    assert connections["default"].health_check_done is True  # type: ignore[attr-defined]
