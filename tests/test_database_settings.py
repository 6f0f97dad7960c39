"""Database connections: kept between requests, with every SQLite PRAGMA on each connection opened.

config/settings/base.py keeps connections for ``DATABASE_CONN_MAX_AGE`` seconds
(gunicorn's sync workers), checks a kept connection before reusing it, and the
ASGI entry point closes them after each request instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.backends.sqlite3.base import DatabaseWrapper

ROOT = Path(__file__).resolve().parent.parent

_SETTINGS_OF = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = sys.argv[1]
if sys.argv[1] == "asgi":
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    import config.asgi  # noqa: F401 - the entry point sets its defaults, then Django starts
from django.conf import settings
database = settings.DATABASES["default"]
print(json.dumps({key: database.get(key) for key in ("ENGINE", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS")}))
"""


def _database_settings(module: str, tmp_path: Path, **environment: str) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "DJANGO_"))}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'settings.sqlite3'}",
            "GOVSERVE_VAR_DIR": str(tmp_path),
            "SECRET_KEY": "a-settings-test-secret-that-is-long-enough-for-django-0123456789",
            **environment,
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", _SETTINGS_OF, module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def test_sqlite_connections_are_kept_with_health_checks_and_the_pragmas(tmp_path: Path) -> None:
    database = _database_settings("config.settings.production", tmp_path)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "PRAGMA synchronous=FULL" in database["OPTIONS"]["init_command"]


def test_postgresql_connections_are_kept_too(tmp_path: Path) -> None:
    database = _database_settings(
        "config.settings.production", tmp_path, DATABASE_URL="postgres://govserve@127.0.0.1:5432/none"
    )

    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (60, True)
    assert "init_command" not in (database["OPTIONS"] or {})


def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_statements(tmp_path: Path) -> None:
    url = "postgres://govserve@127.0.0.1:5432/none"
    database = _database_settings("config.settings.production", tmp_path, DATABASE_URL=url)

    assert database["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    # the threshold is the operator's, and a pooler that cannot keep prepared statements turns both off
    tuned = _database_settings("config.settings.production", tmp_path, DATABASE_URL=url, DATABASE_PREPARE_THRESHOLD="2")
    assert tuned["OPTIONS"]["prepare_threshold"] == 2
    pooled = _database_settings(
        "config.settings.production", tmp_path, DATABASE_URL=url, DATABASE_SERVER_SIDE_BINDING="false"
    )
    assert not pooled["OPTIONS"]


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="PostgreSQL's prepared statements",
)
@pytest.mark.django_db
def test_a_statement_run_five_times_on_a_postgresql_connection_is_prepared_on_the_server() -> None:
    from django.db import connection  # noqa: PLC0415

    from govserve.accounts.models import User  # noqa: PLC0415

    for attempt in range(6):
        assert not User.objects.filter(email=f"nobody-{attempt}@example.invalid").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert any('FROM "accounts_user"' in statement and "$1" in statement for statement in prepared), prepared


def test_the_environment_can_close_connections_after_each_request(tmp_path: Path) -> None:
    database = _database_settings(
        "config.settings.production", tmp_path, DATABASE_CONN_MAX_AGE="0", DATABASE_CONN_HEALTH_CHECKS="false"
    )

    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (0, False)


def test_the_asgi_entry_point_closes_connections_after_each_request(tmp_path: Path) -> None:
    assert _database_settings("asgi", tmp_path)["CONN_MAX_AGE"] == 0
    # unless the operator said otherwise
    assert _database_settings("asgi", tmp_path, DATABASE_CONN_MAX_AGE="30")["CONN_MAX_AGE"] == 30


def _pragmas(wrapper: DatabaseWrapper) -> dict[str, Any]:
    with wrapper.cursor() as cursor:
        found = {}
        for name in ("journal_mode", "synchronous", "secure_delete", "busy_timeout"):
            cursor.execute(f"PRAGMA {name}")
            found[name] = cursor.fetchone()[0]
    return found


EXPECTED_PRAGMAS = {"journal_mode": "wal", "synchronous": 2, "secure_delete": 1, "busy_timeout": 30000}


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="the SQLite settings"
)
def test_a_kept_sqlite_connection_serves_the_next_request_and_a_new_one_gets_every_pragma(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    # A connection of the configured database, on a file (the tests' own database is in memory).
    wrapper = DatabaseWrapper({**settings.DATABASES["default"], "NAME": str(tmp_path / "kept.sqlite3")}, "kept")
    assert wrapper.settings_dict["CONN_MAX_AGE"] == 60
    with django_db_blocker.unblock():
        _walk_two_requests(wrapper)


def _walk_two_requests(wrapper: DatabaseWrapper) -> None:
    # close_if_unusable_or_obsolete is what Django's request_started and request_finished
    # signals call on each connection (close_old_connections) around every WSGI request.
    try:
        wrapper.close_if_unusable_or_obsolete()
        first = _pragmas(wrapper)
        opened = wrapper.connection
        wrapper.close_if_unusable_or_obsolete()

        # the next request uses the same connection, still with every PRAGMA
        wrapper.close_if_unusable_or_obsolete()
        assert _pragmas(wrapper) == first == EXPECTED_PRAGMAS
        assert wrapper.connection is opened
        assert wrapper.transaction_mode == "IMMEDIATE"  # type: ignore[attr-defined]

        # past its age it is closed at the end of a request, and the next one opens a new one with the PRAGMAs
        wrapper.close_at = 0
        wrapper.close_if_unusable_or_obsolete()
        assert wrapper.connection is None
        assert _pragmas(wrapper) == EXPECTED_PRAGMAS
        assert wrapper.connection is not opened
    finally:
        wrapper.close()
