"""The authorisation matrix (issue 8, "Access"): every route, every actor, allow or deny.

The routes come from the URLconf, so a route without an entry in
tests/security/matrix.py fails :func:`test_every_route_is_in_the_matrix`.
For each route and actor the test asserts the rule's answer; a refusal must
also change nothing (every watched table's count and latest change, for a
write) and leak nothing: another's resource answers exactly as a made-up id
does (status, redirect and body with ids blanked), and no reference, name or
email address of the world appears in it. The world is built once for the
module (tests/security/world.py) inside a transaction rolled back at the end.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.contrib import admin
from django.db import transaction
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from govserve.catalogue.selectors import compiled_cache_clear
from tests.security.matrix import (
    ACTORS,
    ADMIN_MODELS,
    API_ACTORS,
    GOVSTACK_ACTORS,
    ROUTES,
    WEB_ACTORS,
    WRITES_TOO,
    Route,
)
from tests.security.probe import call, client_for, fingerprint, path_of, shape, verdict
from tests.security.world import MISSING, World, world_build

ADMIN_NAMESPACE = "admin"


def _walk(resolver: URLResolver, namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from ((name, f"{entry.pattern}{pattern}") for name, pattern in _walk(entry, inner))
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or entry.pattern}", str(entry.pattern)


def project_routes() -> dict[str, str]:
    """Return every route of the URLconf: name (or pattern) to pattern."""
    return dict(_walk(get_resolver()))


def _actors_for(name: str) -> tuple[str, ...]:
    if name.startswith(("api_v1:", "govstack:")):
        return ACTORS
    return WEB_ACTORS


CASES = [(name, actor) for name in sorted(ROUTES) for actor in _actors_for(name)]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Build the world once, in a transaction this module rolls back when it ends."""
    media = tempfile.TemporaryDirectory(prefix="matrix-media-")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": media.name}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    overrides = override_settings(GOVSERVE_SCANNER="test", PAYMENT_URL="sandbox://", STORAGES=storages)
    overrides.enable()
    compiled_cache_clear()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield world_build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            overrides.disable()
            compiled_cache_clear()
            media.cleanup()


def test_every_route_is_in_the_matrix() -> None:
    routes = project_routes()
    listed = set(ROUTES)
    not_admin = {name for name in routes if not name.startswith(f"{ADMIN_NAMESPACE}:")}

    unlisted = sorted(not_admin - listed)
    gone = sorted(listed - not_admin)

    assert unlisted == [], f"routes without an access rule in tests/security/matrix.py: {unlisted}"
    assert gone == [], f"matrix entries for routes that no longer exist: {gone}"


def test_every_admin_model_is_in_the_matrix() -> None:
    registered = {f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry}

    assert registered == ADMIN_MODELS, (
        f"admin models to add to ADMIN_MODELS: {sorted(registered - ADMIN_MODELS)}; "
        f"to remove: {sorted(ADMIN_MODELS - registered)}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "actor"), CASES, ids=[f"{name}-{actor}" for name, actor in CASES])
def test_route_allows_or_refuses_the_actor(world: World, name: str, actor: str) -> None:
    route = ROUTES[name]
    client, headers = client_for(world, actor)
    path = path_of(name, route, world)
    writes = route.method != "GET"
    before = fingerprint() if writes else None

    response = call(client, headers, route, path)

    assert response.status_code < 500, response.content[:2000]
    if route.rule.kind == "same":
        _assert_answered_as_anonymous(world, name, route, actor, response)
        if writes:
            assert fingerprint() == before, f"{route.method} {path} as {actor} changed data"
        return
    seen = verdict(response, route.rule)
    expected = route.rule.allows(actor)
    assert seen.refused is not expected, (
        f"{route.method} {path} as {actor}: expected {'allowed' if expected else 'refused'} "
        f"({route.rule.name}), got {seen.how}: {response.content[:600]!r}"
    )
    if expected:
        return
    if writes:
        assert fingerprint() == before, f"a refused {route.method} {path} as {actor} changed data"
    body = response.content.decode(errors="replace")
    leaked = [secret for secret in world.secrets if secret in body]
    assert leaked == [], f"a refusal of {path} as {actor} shows {leaked}"
    if route.owned_kwarg is not None and actor not in (route.rule.sees or route.rule.allowed):
        _assert_same_as_missing(world, name, route, actor, response)


def _assert_answered_as_anonymous(world: World, name: str, route: Route, actor: str, response: Any) -> None:
    client, headers = client_for(world, "anonymous")
    anonymous = call(client, headers, route, path_of(name, route, world))
    assert shape(response) == shape(anonymous), f"{name} as {actor}: answered unlike an anonymous caller"
    body = response.content.decode(errors="replace")
    assert [secret for secret in world.secrets if secret in body] == []


def _assert_same_as_missing(world: World, name: str, route: Route, actor: str, response: Any) -> None:
    client, headers = client_for(world, actor)
    missing = call(client, headers, route, path_of(name, route, world, missing=True))
    asked = str(route.kwargs(world)[route.owned_kwarg]) if route.owned_kwarg else ""
    assert shape(response, asked=asked) == shape(missing, asked=str(MISSING)), (
        f"{name} as {actor}: another's resource answers unlike a made-up id {MISSING}"
    )


ADMIN_ACTORS = ("anonymous", "citizen_a", *(a for a in WEB_ACTORS if a.startswith("staff:")), API_ACTORS[0])
ADMIN_PAGES = ("admin:index", "admin:accounts_user_changelist", "admin:audit_auditentry_changelist")


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ADMIN_ACTORS)
@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_the_admin_is_for_administrators_only(world: World, name: str, actor: str) -> None:
    client, headers = client_for(world, actor)
    allowed = actor in {"staff:administrator", "staff:stranger"}

    response = client.get(reverse(name), headers=headers)

    assert response.status_code < 500
    assert verdict(response).refused is not allowed, (name, actor, response.status_code, response.get("Location"))


@pytest.mark.django_db
@pytest.mark.parametrize("actor", [a for a in ADMIN_ACTORS if a not in {"staff:administrator", "staff:stranger"}])
def test_every_admin_route_refuses_non_administrators(world: World, actor: str) -> None:
    client, headers = client_for(world, actor)
    opened = []
    for name, pattern in sorted(project_routes().items()):
        if not name.startswith(f"{ADMIN_NAMESPACE}:") or name in ADMIN_OPEN:
            continue
        path = "/staff/admin/" + _fill(pattern)
        response = client.get(path, headers=headers)
        assert response.status_code < 500, path
        if not verdict(response).refused:
            opened.append((path, response.status_code))
    assert opened == []


ADMIN_OPEN = frozenset({"admin:login", "admin:logout"})
"""The admin's sign-in and sign-out: they only send people to the staff sign-in page."""


def _fill(pattern: str) -> str:
    import re  # noqa: PLC0415

    text = pattern.removeprefix("staff/admin/").removeprefix("^").removesuffix("$")
    text = re.sub(r"<path:object_id>|<[^>]*>|\(\?P<[^>]+>[^)]*\)", str(MISSING), text)
    return text.replace("\\", "")


def test_the_matrix_names_only_known_actors() -> None:
    known = set(ACTORS)
    for name, route in ROUTES.items():
        assert route.rule.allowed <= known, name
    assert set(GOVSTACK_ACTORS) <= known


WRITE_CASES = [
    (name, actor)
    for name in sorted(WRITES_TOO)
    for actor in _actors_for(name)
    if not ROUTES[name].rule.allows(actor) and actor not in (ROUTES[name].rule.sees or frozenset())
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "actor"), WRITE_CASES, ids=[f"{name}-{actor}" for name, actor in WRITE_CASES])
def test_a_refused_actor_cannot_post_to_the_page_either(world: World, name: str, actor: str) -> None:
    route = replace(ROUTES[name], method="POST", data=WRITES_TOO[name], json=False)
    client, headers = client_for(world, actor)
    path = path_of(name, route, world)
    before = fingerprint()

    response = call(client, headers, route, path)

    assert response.status_code < 500, response.content[:2000]
    assert verdict(response, route.rule).refused, f"POST {path} as {actor}: {response.status_code}"
    assert fingerprint() == before, f"a refused POST {path} as {actor} changed data"
    body = response.content.decode(errors="replace")
    assert [secret for secret in world.secrets if secret in body] == []
