"""How the matrix calls a route as an actor, reads the answer, and checks that a refusal changed and leaked nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Max, Model
from django.test import Client
from django.urls import reverse

from tests.security.matrix import Route, Rule
from tests.security.world import (
    GOVSTACK_IDENTITY,
    GOVSTACK_OTHER_IDENTITY,
    MISSING,
    World,
    citizen_client,
    staff_client,
)

SIGN_IN_PATHS = ("/staff/sign-in", "/sign-in", "/staff/admin/login")
GOVSTACK_HEADER = "Information-Mediator-Client"

# What a refusal must not change: every model of these apps (sessions, audit, rate limits and token use excepted).
WATCHED_APPS = ("accounts", "journeys", "casework", "casework_results", "documents", "payments", "notifications")
UNWATCHED_MODELS = frozenset({"accounts.citizenlink"})


_IDENTITIES = {"govstack:owner": GOVSTACK_IDENTITY, "govstack:other": GOVSTACK_OTHER_IDENTITY}


def client_for(world: World, actor: str) -> tuple[Client, dict[str, str]]:
    """Return a client and the headers ``actor`` calls with."""
    citizens = {"citizen_a": world.citizen_a, "citizen_b": world.citizen_b}
    if actor in citizens:
        return citizen_client(citizens[actor]), {}
    if actor.startswith("staff:"):
        return staff_client(world.staff[actor.removeprefix("staff:")]), {}
    if actor.startswith("api:"):
        return Client(), {"Authorization": f"Bearer {world.tokens[actor]}"}
    if actor in _IDENTITIES:
        return Client(), {GOVSTACK_HEADER: _IDENTITIES[actor]}
    if actor != "anonymous":
        msg = f"unknown actor {actor}"
        raise LookupError(msg)
    return Client(), {}


def path_of(name: str, route: Route, world: World, *, missing: bool = False) -> str:
    """Return the route's path filled from the world (its owned resource swapped for a made-up id if ``missing``)."""
    kwargs = dict(route.kwargs(world))
    if missing and route.owned_kwarg is not None:
        kwargs[route.owned_kwarg] = MISSING
    return reverse(name, kwargs=kwargs or None)


def call(client: Client, actor_headers: Mapping[str, str], route: Route, path: str) -> Any:
    """Send the route's request."""
    method = route.method.lower()
    headers = {**route.headers, **actor_headers}
    if route.method == "GET":
        response = client.get(path, headers=headers)
    elif route.json:
        response = getattr(client, method)(
            path, data=json.dumps(route.data or {}), content_type="application/json", headers=headers
        )
    elif route.method == "POST":
        response = client.post(path, data=dict(route.data or {}), headers=headers)
    else:
        response = getattr(client, method)(path, data="", headers=headers)
    return response


@dataclass(frozen=True)
class Verdict:
    """What an answer means for access."""

    refused: bool
    how: str


def verdict(response: Any, rule: Rule | None = None) -> Verdict:
    """Return whether ``response`` refused the caller: 401, 403, 404, or a redirect to a sign-in page.

    Under a ``public`` rule a 404 is an answer (a made-up code), not a refusal; under a GovStack rule a 400
    (no identity header) is one.
    """
    status = response.status_code
    refusals = {401, 403, 404}
    if rule is not None and rule.kind == "public":
        refusals = {401, 403}
    if rule is not None and rule.name == "govstack" and status == 400 and b"client_header_missing" in response.content:
        return Verdict(refused=True, how="400 client_header_missing")
    if status in refusals:
        return Verdict(refused=True, how=str(status))
    if status in {301, 302, 303, 307}:
        location = response["Location"]
        if location.startswith(SIGN_IN_PATHS):
            return Verdict(refused=True, how=f"{status} to sign-in")
        return Verdict(refused=False, how=f"{status} to {location}")
    return Verdict(refused=False, how=str(status))


_MAIN = re.compile(r"<main\b[^>]*>(.*?)</main>", re.DOTALL)
_VOLATILE = (
    re.compile(r'nonce="[^"]*"'),
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'),
    re.compile(r'"(request_id|instance|trace_id)"\s*:\s*"[^"]*"'),
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    re.compile(r"[0-9a-f]{32}"),
)


def shape(response: Any, *, asked: str = "") -> tuple[int, str, str]:
    """Return the answer with every id, nonce and token blanked: what a caller could compare between two ids.

    ``asked`` (the id or slug the caller put in the path) is blanked too: echoing it back tells them nothing.
    """
    text = response.content.decode(errors="replace")
    main = _MAIN.search(text)
    if main is not None:  # a page: its content, not the header that names who is signed in
        text = main.group(1)
    location = response.get("Location", "")
    if asked:
        text, location = text.replace(asked, "~"), location.replace(asked, "~")
    for pattern in _VOLATILE:
        text = pattern.sub("~", text)
        location = pattern.sub("~", location)
    return response.status_code, location, text


def fingerprint() -> dict[str, tuple[int, Any]]:
    """Return each watched model's row count and latest change time (what a refused write must leave alone)."""
    seen: dict[str, tuple[int, Any]] = {}
    for app_label in WATCHED_APPS:
        try:
            config = apps.get_app_config(app_label)
        except LookupError:
            continue
        for model in config.get_models():
            label = f"{app_label}.{model._meta.model_name}"
            if label in UNWATCHED_MODELS:
                continue
            seen[label] = _state(model)
    return seen


def _state(model: type[Model]) -> tuple[int, Any]:
    names = {f.name for f in model._meta.concrete_fields}
    moved = next((name for name in ("updated_at", "version", "modified_at") if name in names), None)
    queryset = model._default_manager.all()
    if moved is None:
        return queryset.count(), None
    aggregate = queryset.aggregate(latest=Max(moved))
    return queryset.count(), aggregate["latest"]
