"""The session engine: Django's database sessions with a plain-SQL load (govserve.web.sessions)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from govserve.web.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _saved(**data: object) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key or ""


def test_it_is_the_configured_engine() -> None:
    assert settings.SESSION_ENGINE == "govserve.web.sessions"


def test_a_saved_session_loads_as_djangos_own_store_reads_it() -> None:
    key = _saved(**{"gs.kind": "citizen", "gs.seen_at": 1764270000.25, "grants": ["a", "b"]})

    loaded = SessionStore(session_key=key).load()

    assert loaded == {"gs.kind": "citizen", "gs.seen_at": 1764270000.25, "grants": ["a", "b"]}
    assert loaded == DjangoSessionStore(session_key=key).load()


def test_an_expired_session_is_empty_and_gets_a_new_key_when_saved() -> None:
    key = _saved(**{"gs.kind": "citizen"})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    store = SessionStore(session_key=key)
    assert store.load() == {}
    assert store.session_key is None
    store["next"] = "value"
    store.save()

    assert store.session_key not in (None, key)


def test_a_session_just_before_its_expiry_still_loads() -> None:
    key = _saved(**{"gs.kind": "staff"})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + datetime.timedelta(seconds=5))

    assert SessionStore(session_key=key).load() == {"gs.kind": "staff"}


@pytest.mark.parametrize("key", [None, "", "short", "x" * 32, "' OR 1=1 --xxxxxxxx"])
def test_unknown_or_malformed_keys_load_nothing(key: str | None) -> None:
    _saved(**{"gs.kind": "citizen"})  # a session exists, but not under this key
    store = SessionStore(session_key=key)

    assert store.load() == {}
    assert store.session_key is None


def test_tampered_data_loads_as_an_empty_session() -> None:
    key = _saved(**{"gs.kind": "citizen"})
    Session.objects.filter(session_key=key).update(session_data="eyJncy5raW5kIjoic3RhZmYifQ:forged:signature")

    assert SessionStore(session_key=key).load() == {}
