"""Warming the web server master's caches before it forks (govserve.web.prefork, config/gunicorn.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import OperationalError, connections
from django.template import engines

from config import gunicorn as hooks
from govserve.catalogue.selectors import compiled_cache_clear, published_version_load
from govserve.journeys.tests.support import STREET_TRADING, examples_publish
from govserve.web import prefork


@pytest.fixture
def _unfreeze() -> Iterator[None]:
    # warm() freezes the collector's view of every object made so far: give the test process its collector back.
    yield
    gc.unfreeze()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_unfreeze")
def test_warm_builds_the_caches_and_leaves_no_connection_or_thread(
    django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples_publish(STREET_TRADING)
    compiled_cache_clear()
    threads = threading.active_count()

    warmed = prefork.warm()

    assert warmed.definitions == 1
    assert warmed.languages == 2
    assert warmed.templates >= 100  # the apps' pages and GOV.UK Frontend's macros
    # No connection is left for a forked worker to share, and no thread was started.
    # (Django never closes the test run's in-memory SQLite database: its tables would go with it.)
    assert all(connection.connection is None or _in_memory(connection) for connection in connections.all())
    assert threading.active_count() == threads
    # The published version is compiled already: a load is the one query of a warm load.
    with django_assert_num_queries(1):
        published_version_load(STREET_TRADING)
    # The templates are compiled already: rendering the layout needs no loader.
    env = engines["jinja2"].env  # type: ignore[attr-defined]

    def no_loading(*_: Any) -> None:
        raise AssertionError("a warmed template was loaded again")

    monkeypatch.setattr(env.loader, "get_source", no_loading)
    assert env.get_template("web/base.html") is not None
    assert env.get_template("govuk_frontend_jinja/components/button/macro.html") is not None


def _in_memory(connection: Any) -> bool:
    return bool(connection.vendor == "sqlite" and connection.is_in_memory_db())


def _server(*, preload: bool, app_uri: str) -> SimpleNamespace:
    return SimpleNamespace(
        cfg=SimpleNamespace(preload_app=preload),
        app=SimpleNamespace(app_uri=app_uri),
        log=SimpleNamespace(info=lambda *_: None),
    )


@pytest.mark.parametrize(
    ("preload", "app_uri", "warms"),
    [
        (True, "config.wsgi:application", True),
        (True, "config.wsgi_govstack:application", True),
        (False, "config.wsgi:application", False),  # each worker loads the application itself: nothing to share
        (True, "baseline_page:application", False),  # another application served with the same flags
    ],
    ids=["govserve", "govstack", "no-preload", "other-application"],
)
def test_the_hook_warms_govserve_preloaded_only(
    monkeypatch: pytest.MonkeyPatch, *, preload: bool, app_uri: str, warms: bool
) -> None:
    calls: list[str] = []

    def warm() -> prefork.Warmed:
        calls.append("warm")
        return prefork.Warmed(templates=1, definitions=1, languages=2, seconds=0)

    monkeypatch.setattr(prefork, "warm", warm)

    hooks.when_ready(_server(preload=preload, app_uri=app_uri))

    assert calls == (["warm"] if warms else [])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_unfreeze")
def test_without_its_database_the_server_still_starts_and_only_the_definitions_are_not_warmed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable() -> dict[str, str]:
        raise OperationalError("connection refused")

    monkeypatch.setattr(prefork, "latest_published_hashes", unavailable)

    warmed = prefork.warm()

    assert warmed.definitions == 0
    assert warmed.templates >= 100
    assert all(connection.connection is None or _in_memory(connection) for connection in connections.all())
