"""Fixtures of the API tests: a private file store, the street-light service published, clients with tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from govserve.api.models import SCOPES, ApiClient
from govserve.api.services import api_client_create, api_token_issue
from govserve.audit.actors import Actor
from govserve.catalogue.selectors import compiled_cache_clear
from govserve.journeys.tests.support import STREET_LIGHT, examples_publish

OPERATOR = Actor.system("cli")


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    """Point the file store at a fresh directory and use the built-in test scanner."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    settings.GOVSERVE_SCANNER = "test"
    return root


@pytest.fixture(autouse=True)
def _fresh_compiled_cache() -> None:
    # Version numbers restart in every test database: a cached v1 of another test must not be served.
    compiled_cache_clear()


@pytest.fixture
def street_light(db: None) -> str:
    """Publish the example catalogues and the anonymous street-light service; return its id."""
    examples_publish(STREET_LIGHT)
    return STREET_LIGHT


@dataclass
class Caller:
    """An HTTP client speaking JSON to the API with one bearer token."""

    token: str | None
    client: ApiClient | None

    def call(self, method: str, path: str, body: Any = None, *, raw: str | None = None, **headers: str) -> Any:
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        if self.token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"content_type": "application/json"} if data is not None else {}
        if data is not None:
            kwargs["data"] = data
        return getattr(Client(), method.lower())(path, **kwargs, **extra)


MakeCaller = Callable[..., Caller]


@pytest.fixture
def make_caller(db: None) -> MakeCaller:
    """Return a factory of callers: a new client (``name``) with a token of ``scopes`` (all by default)."""
    counter = iter(range(1000))

    def make(*scopes: str, name: str | None = None, rate_limit_per_minute: int = 600) -> Caller:
        client = api_client_create(
            name=name or f"partner-{next(counter)}", actor=OPERATOR, rate_limit_per_minute=rate_limit_per_minute
        )
        issued = api_token_issue(client=client, scopes=scopes or SCOPES, actor=OPERATOR)
        return Caller(token=issued.text, client=client)

    return make


@pytest.fixture
def caller(make_caller: MakeCaller) -> Caller:
    """A client with every scope."""
    return make_caller()


def body(response: Any) -> Any:
    """Return the JSON body of ``response``."""
    return json.loads(response.content)
