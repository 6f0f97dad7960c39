"""Names people read on the casework pages: service titles, role names, fee names, filter options.

They come from the published definitions (public, cached per process);
which services and roles a person works with comes from the roles they hold.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from govserve.accounts.models import User
from govserve.accounts.policies import account_usable, roles_of
from govserve.accounts.selectors import staff_roles_for_user
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.errors import ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError
from govserve.catalogue.models import ServiceStatus, ServiceVersion, VersionState
from govserve.catalogue.selectors import published_version_load
from govserve.journeys.selectors import services_live

TEAM_LEADER = "team-leader"
_MISSING = (ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError)


def _compiled(service_id: str, version: int | None = None) -> CompiledDefinition | None:
    try:
        return published_version_load(service_id, version)
    except _MISSING:
        return None


def service_title(service_id: str, language: str, version: int | None = None) -> str:
    """Return the title of a service (its latest published version, or ``version``); the id when unknown."""
    compiled = _compiled(service_id, version)
    return compiled.definition.title.get(language) if compiled is not None else service_id


class Titles:
    """Service titles for one page: each service's title looked up once, however many rows name it.

    ``known``: titles already read in this request (:attr:`FilterOptions.live_titles`).
    """

    def __init__(self, language: str, known: Mapping[str, str] | None = None) -> None:
        self.language = language
        self._known: dict[str, str] = dict(known or {})

    def __call__(self, service_id: str) -> str:
        """Return the title of ``service_id`` (the latest published version's)."""
        if service_id not in self._known:
            self._known[service_id] = service_title(service_id, self.language)
        return self._known[service_id]


def role_name(service_id: str, role_id: str, language: str) -> str:
    """Return the name of a flow role of a service; the id when unknown."""
    compiled = _compiled(service_id)
    if compiled is not None:
        for role in compiled.definition.flow.roles:
            if role.id == role_id:
                return role.name.get(language)
    return role_id


def fee_name(service_id: str, version: int, fee_id: str, language: str) -> str:
    """Return the name of a fee of a service version; the id when unknown."""
    compiled = _compiled(service_id, version)
    if compiled is not None:
        for registration in compiled.definition.registrations:
            for fee in registration.fees:
                if fee.id == fee_id:
                    return fee.name.get(language)
    return fee_id


@dataclass(frozen=True)
class FilterOptions:
    """What a person can filter their queues by: (id, name) of services and of roles, by name.

    ``live_titles``: the title of every live service (its latest published version), for :class:`Titles`.
    """

    services: list[tuple[str, str]]
    roles: list[tuple[str, str]]
    live_titles: Mapping[str, str] = field(default_factory=dict)


_OPTIONS_CACHE_SIZE = 512
_options_cache: dict[tuple[object, ...], FilterOptions] = {}
_options_lock = threading.Lock()


def _live_versions() -> tuple[tuple[str, int, str], ...]:
    """Return (service id, number, content hash) of the latest published version of every live service (one query)."""
    latest: dict[str, tuple[str, int, str]] = {}
    rows = (
        ServiceVersion.objects.filter(state=VersionState.PUBLISHED, service__status=ServiceStatus.LIVE)
        .order_by("service_id", "number")
        .values_list("service_id", "number", "content_hash")
    )
    for service_id, number, content_hash in rows:
        latest[service_id] = (service_id, number, content_hash)
    return tuple(latest.values())


def filter_options(*, user: User, language: str) -> FilterOptions:
    """Return the live services with a flow role ``user`` holds or leads, and those roles (human ones).

    The options depend only on the roles held, the language and the live
    services' latest published versions: they are kept per process under
    those (one query says which versions are live; a new version, a retired
    service or a change of roles is another key), instead of loading every
    live service's definition on every queue page.
    """
    held = roles_of(user) if account_usable(user) else frozenset()
    key = (held, language, _live_versions())
    found = _options_cache.get(key)
    if found is not None:
        return found
    roles = set(held)
    leads = {code for code, role in held if role == TEAM_LEADER}
    services: list[tuple[str, str]] = []
    role_names: dict[str, str] = {}
    live_titles: dict[str, str] = {}
    for card in services_live(language=language):
        compiled = _compiled(card.service_id)
        if compiled is None:
            continue
        live_titles[card.service_id] = card.title
        mine = [
            role
            for role in compiled.definition.flow.roles
            if (role.institution, role.id) in roles or role.institution in leads
        ]
        if mine:
            services.append((card.service_id, card.title))
        for role in mine:
            if role.kind == "human":
                role_names.setdefault(role.id, role.name.get(language))
    options = FilterOptions(
        services=sorted(services, key=lambda pair: pair[1].casefold()),
        roles=sorted(role_names.items(), key=lambda pair: pair[1].casefold()),
        live_titles=live_titles,
    )
    with _options_lock:
        if len(_options_cache) >= _OPTIONS_CACHE_SIZE:
            _options_cache.clear()
        _options_cache[key] = options
    return options


def assisted_service_options(*, user: User, language: str) -> list[tuple[str, str]]:
    """Return (service id, title) of the live services ``user`` may start on a citizen's behalf, by title.

    Those of an institution the person holds a role in (the service's own, or one of its flow's), as
    :func:`govserve.casework.services.assisted_application_start` allows.
    """
    institutions = {role.institution_code for role in staff_roles_for_user(user)}
    options = []
    for card in services_live(language=language):
        compiled = _compiled(card.service_id)
        if compiled is None:
            continue
        definition = compiled.definition
        if definition.institution in institutions or any(
            role.institution in institutions for role in definition.flow.roles
        ):
            options.append((card.service_id, card.title))
    return sorted(options, key=lambda pair: pair[1].casefold())
