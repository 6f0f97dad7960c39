"""Reads of the catalogue: versions ready to serve, previews, exports, diffs.

:func:`published_version_load` is on the path of every citizen request: it
costs one indexed query (which version, with which content hash) and a
dictionary look-up once the version is warm. The in-process cache is keyed
by (service, version number, content hash), so a version published by
another process is seen on the next request, and a cached entry can never
serve content other than what the database holds for that number.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NoReturn

from django.db import connection

from govserve.accounts.models import PlatformRole
from govserve.accounts.policies import account_usable, roles_of
from govserve.catalogue.bundle import Bundle, BundledCatalogue, BundledTemplate
from govserve.catalogue.compiled import CompiledDefinition, compile_definition
from govserve.catalogue.definitions.schema import Catalogue as CatalogueSchema
from govserve.catalogue.definitions.schema import ServiceDefinition
from govserve.catalogue.diff import Change, definition_changes
from govserve.catalogue.errors import (
    DraftNotFoundError,
    PreviewNotAllowedError,
    ServiceNotFoundError,
    ServiceRetiredError,
    VersionNotFoundError,
)
from govserve.catalogue.models import PinnedCatalogue, Service, ServiceStatus, ServiceVersion, VersionState

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from govserve.accounts.models import User

CACHE_SIZE = 256
"""Compiled versions kept per process (least recently used are dropped first)."""

_CacheKey = tuple[str, int, str, bool]
_cache: OrderedDict[_CacheKey, CompiledDefinition] = OrderedDict()
_cache_lock = threading.Lock()

_LOADABLE_STATES = (VersionState.PUBLISHED, VersionState.RETIRED)


# Version row id -> its compiled version, for the versions applications pin (pinned_version_load).
_pinned: dict[uuid.UUID, CompiledDefinition] = {}


def compiled_cache_clear() -> None:
    """Empty this process's cache of compiled versions (tests and benchmarks use it for cold loads)."""
    with _cache_lock:
        _cache.clear()
        _pinned.clear()


def _cached(key: _CacheKey) -> CompiledDefinition | None:
    entry = _cache.get(key)
    if entry is not None:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
    return entry


def _remember(key: _CacheKey, compiled: CompiledDefinition) -> CompiledDefinition:
    with _cache_lock:
        _cache[key] = compiled
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def _compile_version(version: ServiceVersion, *, preview: bool) -> CompiledDefinition:
    """Build the compiled form of ``version`` from its stored JSON (never re-validated: it was at publish)."""
    definition = ServiceDefinition.model_validate(version.parsed)
    pins = PinnedCatalogue.objects.filter(service_version=version).select_related("catalogue_version")
    catalogues = {
        pin.catalogue_version.catalogue_id: CatalogueSchema.model_validate(pin.catalogue_version.parsed) for pin in pins
    }
    return compile_definition(
        service_id=version.service_id,
        version=version.number,
        content_hash=version.content_hash,
        definition=definition,
        catalogues=catalogues,
        source_name=version.source_name,
        preview=preview,
        templates=version.templates,
    )


def published_version_load(service_id: str, version: int | None = None) -> CompiledDefinition:
    """Return a published version of ``service_id``, compiled and cached in this process.

    ``version=None`` is the version new applications start on: the latest
    published one; raise ServiceRetiredError once the service is retired.
    A number loads that version even once retired, so applications under way
    continue on the version they pinned. Drafts are never returned (see
    :func:`draft_version_for_preview`). Raise ServiceNotFoundError or
    VersionNotFoundError. Public: service definitions hold no personal data.
    """
    return published_version_with_row(service_id, version)[0]


def published_version_with_row(service_id: str, version: int | None = None) -> tuple[CompiledDefinition, uuid.UUID]:
    """Return :func:`published_version_load`'s version and the id of its row, read in the same one query.

    For writes that point at the version row (an application pins it) without reading the row again.
    """
    row = _version_row(service_id, version)
    if row is None:
        if version is None:
            _raise_not_loadable(service_id)
        if not Service.objects.filter(pk=service_id).exists():
            raise ServiceNotFoundError(f"There is no service '{service_id}'.")
        raise VersionNotFoundError(f"Service '{service_id}' has no published version {version}.")
    number, content_hash, row_id = row
    return _published_compiled(service_id, number, content_hash), row_id


def _published_compiled(service_id: str, number: int, content_hash: str) -> CompiledDefinition:
    key = (service_id, number, content_hash, False)
    compiled = _cached(key)
    if compiled is not None:
        return compiled
    stored = ServiceVersion.objects.get(service_id=service_id, number=number)
    return _remember(key, _compile_version(stored, preview=False))


def pinned_version_load(*, service_id: str, number: int, version_id: uuid.UUID) -> CompiledDefinition:
    """Return version ``number`` of ``service_id``, whose row is ``version_id``: the version an application pins.

    As :func:`published_version_load` the first time in this process; then
    found by the row's id without reading the database again. That answer
    cannot go stale: a version loads only once published, a published
    version's content never changes and its row is never deleted (the model
    and database triggers refuse both: ImmutableRowError), and retiring it
    keeps it loadable. Row ids are never reused (random UUIDs). Raise as
    :func:`published_version_load` (a draft row is not loadable, nor kept).
    """
    found = _pinned.get(version_id)
    if found is not None and found.service_id == service_id and found.version == number:
        return found
    compiled = published_version_load(service_id, number)
    with _cache_lock:
        if len(_pinned) >= CACHE_SIZE:
            _pinned.clear()
        _pinned[version_id] = compiled
    return compiled


def _version_row(service_id: str, version: int | None) -> tuple[int, str, uuid.UUID] | None:
    """Return (number, content hash, row id) of the version to load, or None: the one query of a warm load.

    Plain SQL on the indexes ``service_version_state_idx`` (latest) and
    ``service_version_number_unique`` (pinned): the ORM's query building costs
    ten times the query itself here, and this runs on every request.
    """
    # The table name is the model's own, never input.
    quote = connection.ops.quote_name
    select = f"SELECT number, content_hash, {quote('id')} FROM {quote(ServiceVersion._meta.db_table)}"  # noqa: S608
    if version is None:
        sql = f"{select} WHERE service_id = %s AND state = %s ORDER BY number DESC LIMIT 1"
        parameters: list[str | int] = [service_id, VersionState.PUBLISHED.value]
    else:
        sql = f"{select} WHERE service_id = %s AND number = %s AND state IN (%s, %s)"
        parameters = [service_id, version, VersionState.PUBLISHED.value, VersionState.RETIRED.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        row = cursor.fetchone()
    if row is None:
        return None
    row_id = row[2] if isinstance(row[2], uuid.UUID) else uuid.UUID(str(row[2]))
    return int(row[0]), str(row[1]), row_id


def _raise_not_loadable(service_id: str) -> NoReturn:
    status = Service.objects.filter(pk=service_id).values_list("status", flat=True).first()
    if status is None:
        raise ServiceNotFoundError(f"There is no service '{service_id}'.")
    if status == ServiceStatus.RETIRED:
        raise ServiceRetiredError(f"Service '{service_id}' is retired: it takes no new applications.")
    raise VersionNotFoundError(f"Service '{service_id}' has no published version yet.")


def preview_allowed(user: User | AnonymousUser | Any, service: Service) -> bool:
    """Return whether ``user`` may preview drafts of ``service``.

    Staff only: a usable staff account (signed in, active, supplier access
    current) holding ``administrator`` in any institution (platform
    administrators), or any role in the institution that owns the service.
    """
    if not account_usable(user):
        return False
    owner = service.owning_institution.code
    return any(role == PlatformRole.ADMINISTRATOR or institution == owner for institution, role in roles_of(user))


def draft_version_for_preview(service_id: str, user: User | AnonymousUser | Any) -> CompiledDefinition:
    """Return the draft of ``service_id`` compiled for a staff preview (``preview`` is true on it).

    Raise PreviewNotAllowedError unless :func:`preview_allowed`, and
    DraftNotFoundError when there is no draft. Journeys mark what is
    submitted on a preview as a test submission, never counted in statistics.
    """
    service = Service.objects.select_related("owning_institution").filter(pk=service_id).first()
    if service is None or not preview_allowed(user, service):
        # The same answer for "no such service" and "not yours": previews do not reveal drafts.
        raise PreviewNotAllowedError(f"You cannot preview service '{service_id}'.")
    draft = ServiceVersion.objects.filter(service=service, state=VersionState.DRAFT).first()
    if draft is None:
        raise DraftNotFoundError(f"Service '{service_id}' has no draft to preview.")
    key = (service_id, draft.number, draft.content_hash, True)
    compiled = _cached(key)
    if compiled is not None:
        return compiled
    return _remember(key, _compile_version(draft, preview=True))


def service_version_get(service_id: str, version: int | None = None) -> ServiceVersion:
    """Return a published or retired version row (the latest when ``version`` is None).

    Raise ServiceNotFoundError or VersionNotFoundError.
    """
    if not Service.objects.filter(pk=service_id).exists():
        raise ServiceNotFoundError(f"There is no service '{service_id}'.")
    versions = ServiceVersion.objects.filter(service_id=service_id, state__in=_LOADABLE_STATES)
    found: ServiceVersion | None = (
        versions.order_by("-number").first() if version is None else versions.filter(number=version).first()
    )
    if found is None:
        which = "no published version" if version is None else f"no published version {version}"
        raise VersionNotFoundError(f"Service '{service_id}' has {which}.")
    return found


def definition_export(service_id: str, version: int | None = None) -> Bundle:
    """Return the bundle of a published version (the latest by default) with its catalogues and result templates.

    Write it with :meth:`Bundle.to_bytes`; :func:`govserve.catalogue.services.definition_import`
    reads it back. Raise ServiceNotFoundError or VersionNotFoundError.
    """
    row = service_version_get(service_id, version)
    pins = (
        PinnedCatalogue.objects.filter(service_version=row)
        .select_related("catalogue_version")
        .order_by("catalogue_version__catalogue_id")
    )
    assert row.published_at is not None  # noqa: S101 - a published row has a time (database constraint)
    return Bundle(
        service=row.service_id,
        version=row.number,
        content_hash=row.content_hash,
        published_at=row.published_at.isoformat(),
        publish_reason=row.publish_reason,
        definition_name=row.source_name,
        definition_text=row.source_text,
        catalogues=tuple(
            BundledCatalogue(
                id=pin.catalogue_version.catalogue_id,
                version=pin.catalogue_version.number,
                content_hash=pin.catalogue_version.content_hash,
                name=pin.catalogue_version.source_name,
                text=pin.catalogue_version.source_text,
            )
            for pin in pins
        ),
        templates=tuple(BundledTemplate(path=path, text=text) for path, text in sorted(row.templates.items())),
    )


def _catalogues_of(version: ServiceVersion) -> dict[str, CatalogueSchema]:
    pins = PinnedCatalogue.objects.filter(service_version=version).select_related("catalogue_version")
    return {
        pin.catalogue_version.catalogue_id: CatalogueSchema.model_validate(pin.catalogue_version.parsed) for pin in pins
    }


def definition_diff(service_id: str, a: int, b: int) -> list[Change]:
    """Return the changes from published version ``a`` to ``b`` of ``service_id`` (pages, fields, rules, ...).

    Render them with :func:`govserve.catalogue.diff.render_changes`. Raise
    ServiceNotFoundError or VersionNotFoundError.
    """
    old, new = service_version_get(service_id, a), service_version_get(service_id, b)
    return definition_changes(
        ServiceDefinition.model_validate(old.parsed),
        ServiceDefinition.model_validate(new.parsed),
        old_catalogues=_catalogues_of(old),
        new_catalogues=_catalogues_of(new),
        old_templates=old.templates,
        new_templates=new.templates,
    )


def latest_published_hashes() -> dict[str, str]:
    """Return the content hash of the latest published version of every live service (for the demo's skip)."""
    hashes: dict[str, str] = {}
    for service_id, content_hash in (
        ServiceVersion.objects.filter(state=VersionState.PUBLISHED).order_by("service_id", "number")
    ).values_list("service_id", "content_hash"):
        hashes[service_id] = content_hash
    return hashes
