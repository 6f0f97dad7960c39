"""deferred_sync: one transaction at synchronous=NORMAL on SQLite, and the connection back at FULL afterwards."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from govserve.core.commits import deferred_sync
from govserve.core.models import JobAttempt

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's synchronous setting")


def _synchronous() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        value: int = cursor.fetchone()[0]
    return value


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_the_transaction_inside_commits_at_normal_and_the_connection_is_full_again() -> None:
    # given
    assert _synchronous() == 2

    # when
    with deferred_sync(), transaction.atomic():
        inside = _synchronous()
        JobAttempt.objects.all().delete()

    # then
    assert inside == 1
    assert _synchronous() == 2


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_failed_transaction_leaves_the_connection_full() -> None:
    # when
    with pytest.raises(ZeroDivisionError), deferred_sync(), transaction.atomic():
        _ = 1 / 0

    # then
    assert _synchronous() == 2


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_inside_an_outer_transaction_it_changes_nothing() -> None:
    # when
    with transaction.atomic(), deferred_sync(), transaction.atomic():
        inside = _synchronous()

    # then
    assert inside == 2
    assert _synchronous() == 2


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_operator_set_below_full_is_left_as_it_is() -> None:
    # given
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")

    # when
    with deferred_sync(), transaction.atomic():
        inside = _synchronous()

    # then
    assert (inside, _synchronous()) == (0, 0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=FULL")


@pytest.mark.skipif(connection.vendor == "sqlite", reason="the other databases")
@pytest.mark.django_db(transaction=True)
def test_on_another_database_it_does_nothing() -> None:
    # when
    with deferred_sync(), transaction.atomic():
        count = JobAttempt.objects.count()

    # then
    assert count == 0
