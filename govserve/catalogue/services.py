"""Writes of the catalogue: drafts, publishing, catalogues, retiring, importing.

Life of a service definition (docs/operations.md, "Service definitions lifecycle")::

    version_draft_save ──> draft ──version_publish──> published v1, v2, ... ──service_retire──> retired

* A draft is saved from the definition's text. It must pass ``govserve check``
  and name an owning institution this database has. A service has at most one
  draft; saving again replaces it (:func:`version_update`).
* :func:`version_publish` re-validates the draft, verifies what only the
  database knows (institutions exist and are active, every catalogue the
  fields use is published), pins the latest published version of each of
  those catalogues, and numbers the version (1, 2, ...). Publishing content
  identical to the latest published version is refused
  (:class:`VersionUnchangedError`). It records who published and why.
* The result templates the definition names (certificates, paths relative to
  the definition file) are read when a draft is saved and stored in the
  version with its text (:mod:`govserve.catalogue.templates`); the content
  hash covers them, so a changed template is a change to publish.
* A published version never changes again: applications pin it. Changes are
  refused here (:class:`VersionImmutableError`), by the models, and by
  database triggers.
* :func:`service_retire` closes the service to new applications; versions
  stay loadable for applications already under way.

Each function runs in one transaction and writes one audit entry per change.
``actor`` is the staff user doing it, or ``None`` for the command line and the
system (the audit entry then names the system component).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.db import transaction

from govserve.accounts.models import Institution
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.catalogue.bundle import (
    TEMPLATES_SINCE_FORMAT,
    Bundle,
    bundle_parse,
    catalogue_hash_for,
    content_hash_for,
)
from govserve.catalogue.definitions.errors import DefinitionInvalidError, Problem, format_path
from govserve.catalogue.definitions.loader import LoadResult, load_definition_text
from govserve.catalogue.definitions.schema import Catalogue as CatalogueSchema
from govserve.catalogue.definitions.schema import ServiceDefinition
from govserve.catalogue.definitions.source import MAX_BYTES, too_large
from govserve.catalogue.errors import (
    BundleInvalidError,
    DefinitionKindError,
    DefinitionReferenceError,
    DraftNotFoundError,
    ReferenceProblem,
    ResultTemplateError,
    ServiceNotFoundError,
    ServiceRetiredError,
    VersionImmutableError,
    VersionNotFoundError,
    VersionUnchangedError,
)
from govserve.catalogue.models import (
    Catalogue,
    CatalogueVersion,
    PinnedCatalogue,
    Service,
    ServiceStatus,
    ServiceVersion,
    VersionState,
)
from govserve.catalogue.templates import (
    TemplateReadError,
    template_path_problem,
    template_read,
    template_references,
    template_syntax_problem,
    template_text_problem,
)
from govserve.core import clock

if TYPE_CHECKING:
    from govserve.accounts.models import User


@dataclass(frozen=True)
class DefinitionSource:
    """The text of a definition or catalogue file, the name it is known by, and where its templates come from.

    ``name`` appears in problems and is stored with the version (the file's
    base name: no server paths in the database). The result templates a
    service definition names are taken from ``templates`` (``{relative path:
    text}``, as a bundle or an editor gives them), else read from
    ``directory`` (the folder of the file, set by :meth:`from_path`), else —
    for a text-only source — carried over from the service's current draft
    or latest version (an editor that changes only the YAML keeps them).
    """

    name: str
    text: str
    templates: Mapping[str, str] = field(default_factory=dict, hash=False)
    directory: Path | None = field(default=None, hash=False)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> DefinitionSource:
        """Read the file at ``path``; its result templates will be read relative to its folder.

        Raise DefinitionInvalidError, with the loader's problem, for a file
        over the size limit (checked before reading) or not UTF-8 text.
        """
        file_path = Path(path)
        size = file_path.stat().st_size
        if size > MAX_BYTES:
            raise DefinitionInvalidError([too_large(file_path.name, size)])
        data = file_path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # The loader names the exact position of the bad byte.
            raise DefinitionInvalidError(load_definition_text(data, filename=file_path.name).problems) from None
        return cls(name=file_path.name, text=text, directory=file_path.parent)


@dataclass(frozen=True)
class PublishOutcome:
    """What :func:`definition_publish` did with one file.

    For a service file: ``service_version`` is the new version. For a
    catalogue file: ``catalogue_versions`` are the catalogues it published and
    ``unchanged_catalogues`` those whose content was already published.
    ``warnings`` are the loader's non-blocking problems.
    """

    service_version: ServiceVersion | None = None
    catalogue_versions: list[CatalogueVersion] = field(default_factory=list)
    unchanged_catalogues: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _audit_actor(actor: User | None) -> Actor:
    # Actor.for_user takes a structural type whose ``pk`` is a plain attribute (audit cannot import accounts).
    return Actor.for_user(cast("Any", actor)) if actor is not None else Actor.system("cli")


# --- Loading and checking -------------------------------------------------------------


def _load(source: DefinitionSource) -> LoadResult:
    """Load and validate ``source``; raise DefinitionInvalidError with every problem if it has errors."""
    result = load_definition_text(source.text, filename=source.name)
    if not result.ok:
        raise DefinitionInvalidError(result.problems)
    return result


def _load_service(source: DefinitionSource) -> tuple[LoadResult, ServiceDefinition]:
    result = _load(source)
    if result.definition is None:
        raise DefinitionKindError(
            f"{source.name} is a catalogue file, not a service definition: publish it with `govserve publish`."
        )
    return result, result.definition


def _institution_references(definition: ServiceDefinition) -> list[tuple[tuple[str | int, ...], str]]:
    """Return (path, institution code) for every institution the definition names, in file order."""
    references: list[tuple[tuple[str | int, ...], str]] = [(("institution",), definition.institution)]
    references += [
        (("registrations", index, "institution"), registration.institution)
        for index, registration in enumerate(definition.registrations)
    ]
    references += [
        (("flow", "roles", index, "institution"), role.institution) for index, role in enumerate(definition.flow.roles)
    ]
    return references


def _catalogue_references(definition: ServiceDefinition) -> list[tuple[tuple[str | int, ...], str]]:
    """Return (path, catalogue id) for every ``options_from``, in file order."""
    return [
        ((*path, "options_from"), options_from)
        for path, definition_field in definition.iter_fields()
        if (options_from := getattr(definition_field, "options_from", None)) is not None
    ]


def _located(result: LoadResult, path: tuple[str | int, ...]) -> tuple[int | None, int | None]:
    mark = result.source.value(path)
    return (mark.line, mark.column) if mark is not None else (None, None)


def _verify_references(
    result: LoadResult,
    definition: ServiceDefinition,
    catalogues: Mapping[str, CatalogueVersion],
) -> None:
    """Raise DefinitionReferenceError listing every institution or catalogue this database lacks."""
    problems: list[ReferenceProblem] = []
    institution_references = _institution_references(definition)
    known = dict(
        Institution.objects.filter(code__in={code for _, code in institution_references}).values_list(
            "code", "is_active"
        )
    )
    for path, code in institution_references:
        line, column = _located(result, path)
        if code not in known:
            problems.append(
                ReferenceProblem(
                    "publish.unknown_institution",
                    f"Institution `{code}` does not exist in this installation",
                    result.filename,
                    line,
                    column,
                    format_path(path),
                    "Create it (staff admin) or correct the id",
                )
            )
        elif not known[code]:
            problems.append(
                ReferenceProblem(
                    "publish.inactive_institution",
                    f"Institution `{code}` is deactivated",
                    result.filename,
                    line,
                    column,
                    format_path(path),
                )
            )
    for path, catalogue_id in _catalogue_references(definition):
        if catalogue_id not in catalogues:
            line, column = _located(result, path)
            problems.append(
                ReferenceProblem(
                    "publish.unknown_catalogue",
                    f"Catalogue `{catalogue_id}` is not published in this installation",
                    result.filename,
                    line,
                    column,
                    format_path(path),
                    "Publish the catalogue file first: govserve publish <catalogue file>",
                )
            )
    if problems:
        count = len(problems)
        raise DefinitionReferenceError(
            f"The definition names {count} thing(s) this installation does not have; the first: {problems[0].format()}",
            problems=problems,
        )


def _latest_catalogue_versions(ids: set[str]) -> dict[str, CatalogueVersion]:
    latest: dict[str, CatalogueVersion] = {}
    for version in CatalogueVersion.objects.filter(catalogue_id__in=ids).order_by("catalogue_id", "number"):
        latest[version.catalogue_id] = version  # ascending order: the last one wins
    return latest


def _content_hash(source: DefinitionSource, pins: Mapping[str, CatalogueVersion], templates: Mapping[str, str]) -> str:
    return content_hash_for(
        definition_text=source.text,
        catalogue_hashes={catalogue_id: version.content_hash for catalogue_id, version in pins.items()},
        templates=templates,
    )


def _previous_templates(service_id: str) -> dict[str, str]:
    """Return the templates of the service's draft, else of its latest published or retired version."""
    versions = ServiceVersion.objects.filter(service_id=service_id)
    draft = versions.filter(state=VersionState.DRAFT).values_list("templates", flat=True).first()
    if draft is not None:
        return dict(draft)
    latest = versions.exclude(state=VersionState.DRAFT).order_by("-number").values_list("templates", flat=True).first()
    return dict(latest or {})


def _template_problem(result: LoadResult, path: tuple[str | int, ...], code: str, message: str) -> ReferenceProblem:
    line, column = _located(result, path)
    suggestions = {
        "publish.template_missing": "Put the template file at that path, relative to the definition file",
        "publish.template_path_invalid": "Write a relative path like templates/licence.html",
        "publish.template_syntax": "Fix the template's Jinja2 syntax (docs/results.md lists what a template can use)",
    }
    return ReferenceProblem(code, message, result.filename, line, column, format_path(path), suggestions.get(code))


def _resolve_templates(
    *,
    source: DefinitionSource,
    result: LoadResult,
    definition: ServiceDefinition,
    required: bool = True,
    carry_over: bool = True,
) -> dict[str, str]:
    """Return ``{path: text}`` of every template the definition names (see :class:`DefinitionSource`).

    Raise ResultTemplateError listing every template that cannot be used,
    each at the location of its ``template:`` key. With ``required=False``
    (a format-1 bundle) a template that was not given is left out; with
    ``carry_over=False`` (an import: exactly what the bundle holds) nothing is
    taken from earlier versions.
    """
    fallback = _previous_templates(definition.id) if source.directory is None and carry_over else {}
    problems: list[ReferenceProblem] = []
    resolved: dict[str, str] = {}
    seen: set[str] = set()
    for path, template in template_references(definition):
        if template in seen:
            continue
        seen.add(template)
        problem = template_path_problem(template)
        if problem is not None:
            problems.append(
                _template_problem(
                    result, path, "publish.template_path_invalid", f"Template path `{template}` {problem}"
                )
            )
            continue
        if template in source.templates:
            text = source.templates[template]
            problem = template_text_problem(text)
            if problem is not None:
                problems.append(
                    _template_problem(result, path, "publish.template_not_text", f"Template `{template}` {problem}")
                )
                continue
        elif source.directory is not None:
            try:
                text = template_read(source.directory, template)
            except TemplateReadError as error:
                problems.append(_template_problem(result, path, error.code, error.message))
                continue
        elif template in fallback:
            text = fallback[template]
        elif not required:
            continue
        else:
            problems.append(
                _template_problem(
                    result,
                    path,
                    "publish.template_missing",
                    f"Template `{template}` was not given with the definition's text",
                )
            )
            continue
        problem = template_syntax_problem(text)
        if problem is not None:
            problems.append(
                _template_problem(result, path, "publish.template_syntax", f"Template `{template}` {problem}")
            )
            continue
        resolved[template] = text
    if problems:
        raise ResultTemplateError(
            f"{len(problems)} result template(s) cannot be used; the first: {problems[0].format()}",
            problems=problems,
        )
    return resolved


# --- Drafts ----------------------------------------------------------------------------


def _service_for_update(service_id: str) -> Service:
    try:
        return Service.objects.select_for_update().get(pk=service_id)
    except Service.DoesNotExist:
        raise ServiceNotFoundError(f"There is no service '{service_id}'.") from None


def _next_number(service: Service) -> int:
    last = (
        ServiceVersion.objects.filter(service=service)
        .exclude(state=VersionState.DRAFT)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return (last or 0) + 1


def _write_draft(
    *,
    source: DefinitionSource,
    result: LoadResult,
    definition: ServiceDefinition,
    actor: User | None,
    catalogues: Mapping[str, CatalogueVersion] | None = None,
    from_bundle: Bundle | None = None,
) -> ServiceVersion:
    """Create or replace the draft of ``definition.id``, pinning ``catalogues`` (default: the latest). No audit.

    The templates the definition names are resolved from ``source`` and
    stored with the draft; for ``from_bundle``, only from what it carries.
    """
    referenced = {catalogue_id for _, catalogue_id in _catalogue_references(definition)}
    if catalogues is None:
        catalogues = _latest_catalogue_versions(referenced)
    _verify_references(result, definition, catalogues)
    templates = _resolve_templates(
        source=source,
        result=result,
        definition=definition,
        required=from_bundle is None or from_bundle.format_version >= TEMPLATES_SINCE_FORMAT,
        carry_over=from_bundle is None,
    )
    pins = {catalogue_id: catalogues[catalogue_id] for catalogue_id in sorted(referenced)}
    service = Service.objects.select_for_update().filter(pk=definition.id).first()
    if service is None:
        service = Service.objects.create(
            id=definition.id,
            owning_institution=Institution.objects.get(code=definition.institution),
            title=definition.title.en,
        )
    elif service.status == ServiceStatus.RETIRED:
        raise ServiceRetiredError(f"Service '{service.id}' is retired: it takes no new versions.")
    draft = ServiceVersion.objects.filter(service=service, state=VersionState.DRAFT).first()
    values: dict[str, Any] = {
        "source_name": source.name,
        "source_text": source.text,
        "content_hash": _content_hash(source, pins, templates),
        "parsed": definition.model_dump(mode="json"),
        "templates": dict(sorted(templates.items())),
        "saved_by": actor,
    }
    if draft is None:
        draft = ServiceVersion.objects.create(service=service, number=_next_number(service), **values)
    else:
        for name, value in values.items():
            setattr(draft, name, value)
        draft.save()
        PinnedCatalogue.objects.filter(service_version=draft).delete()
    PinnedCatalogue.objects.bulk_create(
        PinnedCatalogue(service_version=draft, catalogue_version=version) for version in pins.values()
    )
    return draft


def _audit_draft_saved(draft: ServiceVersion, actor: User | None) -> None:
    audit_record(
        actor=_audit_actor(actor),
        action="catalogue.draft.saved",
        subject_type="catalogue.service",
        subject_id=draft.service_id,
        details={"version_id": str(draft.id), "number": draft.number, "content_hash": draft.content_hash},
    )


@transaction.atomic
def version_draft_save(*, source: DefinitionSource, actor: User | None) -> ServiceVersion:
    """Create the draft of the service ``source`` defines, or replace its draft; return the draft.

    Refuse (nothing saved) with DefinitionInvalidError when the text does not
    pass ``govserve check``, DefinitionKindError for a catalogue file,
    DefinitionReferenceError when it names an
    institution or catalogue this database lacks, ResultTemplateError when a
    result template it names cannot be found or used (see
    :class:`DefinitionSource`), and ServiceRetiredError for a retired service.
    The service is created on its first draft. Audited (``catalogue.draft.saved``).
    """
    result, definition = _load_service(source)
    draft = _write_draft(source=source, result=result, definition=definition, actor=actor)
    _audit_draft_saved(draft, actor)
    return draft


@transaction.atomic
def version_update(*, version_id: object, source: DefinitionSource, actor: User | None) -> ServiceVersion:
    """Replace the text of the draft ``version_id``; return it.

    Refuse with VersionImmutableError (nothing changed) when the version is
    published or retired: publish a new version instead; DefinitionKindError
    when the text defines another service. Otherwise as :func:`version_draft_save`.
    """
    try:
        version = ServiceVersion.objects.select_for_update().get(pk=uuid.UUID(str(version_id)))
    except (ServiceVersion.DoesNotExist, ValueError):
        raise VersionNotFoundError(f"There is no service version '{version_id}'.") from None
    if version.state != VersionState.DRAFT:
        raise VersionImmutableError(
            f"Version {version.number} of '{version.service_id}' is {version.state} and can never change: "
            "save a draft and publish the next version instead."
        )
    result, definition = _load_service(source)
    if definition.id != version.service_id:
        raise DefinitionKindError(
            f"{source.name} defines service '{definition.id}', but this draft is of '{version.service_id}'."
        )
    draft = _write_draft(source=source, result=result, definition=definition, actor=actor)
    _audit_draft_saved(draft, actor)
    return draft


# --- Publishing -------------------------------------------------------------------------


def _publish_draft(
    *,
    draft: ServiceVersion,
    actor: User | None,
    reason: str,
    refresh: bool,
) -> ServiceVersion:
    """Publish ``draft``. With ``refresh``, re-validate and re-pin it first (it may be old)."""
    service = _service_for_update(draft.service_id)
    if service.status == ServiceStatus.RETIRED:
        raise ServiceRetiredError(f"Service '{service.id}' is retired: it takes no new versions.")
    if refresh:
        # The validator or the catalogues may have moved on since the draft was saved.
        source = DefinitionSource(name=draft.source_name, text=draft.source_text, templates=dict(draft.templates))
        result, definition = _load_service(source)
        draft = _write_draft(source=source, result=result, definition=definition, actor=draft.saved_by)
    latest = (
        ServiceVersion.objects.filter(service=service)
        .exclude(state=VersionState.DRAFT)
        .order_by("-number")
        .only("number", "content_hash")
        .first()
    )
    if latest is not None and latest.content_hash == draft.content_hash:
        raise VersionUnchangedError(
            f"Service '{service.id}' version {latest.number} already has exactly this content "
            f"(hash {draft.content_hash[:12]}): nothing to publish."
        )
    draft.state = VersionState.PUBLISHED
    draft.number = _next_number(service)
    draft.published_at = clock.now()
    draft.published_by = actor
    draft.publish_reason = reason
    draft.save()
    service.status = ServiceStatus.LIVE
    service.title = draft.parsed["title"]["en"]
    service.owning_institution = Institution.objects.get(code=draft.parsed["institution"])
    service.save(update_fields=["status", "title", "owning_institution"])
    pinned = PinnedCatalogue.objects.filter(service_version=draft).select_related("catalogue_version")
    audit_record(
        actor=_audit_actor(actor),
        action="catalogue.version.published",
        subject_type="catalogue.service",
        subject_id=service.id,
        details={
            "version_id": str(draft.id),
            "number": draft.number,
            "content_hash": draft.content_hash,
            "catalogues": {pin.catalogue_version.catalogue_id: pin.catalogue_version.number for pin in pinned},
        },
    )
    return draft


@transaction.atomic
def version_publish(*, service_id: str, actor: User | None, reason: str) -> ServiceVersion:
    """Publish the draft of ``service_id`` as its next version; return the published version.

    Re-validates the draft with the loader and validator and verifies the
    database references; pins the latest published version of each catalogue
    the fields use. Refuse, leaving the draft as it was, with
    DraftNotFoundError, DefinitionInvalidError, DefinitionReferenceError,
    ServiceRetiredError, or VersionUnchangedError when the content equals the
    latest published version. Records ``published_by`` (None from the command
    line), ``publish_reason`` and an audit entry ``catalogue.version.published``.
    """
    service = _service_for_update(service_id)
    draft = ServiceVersion.objects.filter(service=service, state=VersionState.DRAFT).first()
    if draft is None:
        raise DraftNotFoundError(f"Service '{service_id}' has no draft to publish.")
    return _publish_draft(draft=draft, actor=actor, reason=reason, refresh=True)


@transaction.atomic
def catalogue_publish(*, source: DefinitionSource, actor: User | None, reason: str) -> PublishOutcome:
    """Publish each catalogue of the catalogue file ``source`` whose content changed.

    Refuse with DefinitionInvalidError when the file does not pass
    ``govserve check``, DefinitionKindError when it is not a catalogue file, and with
    VersionUnchangedError when every catalogue in it is already published
    with this content. Services keep the catalogue versions they pinned until
    they publish again. Audited per catalogue (``catalogue.catalogue.published``).
    """
    result = _load(source)
    if result.definition is not None or not result.catalogues:
        raise DefinitionKindError(f"{source.name} is a service definition, not a catalogue file.")
    outcome = _catalogues_publish(
        source=source, catalogues=result.catalogues, actor=actor, reason=reason, warnings=result.warnings
    )
    if not outcome.catalogue_versions:
        raise VersionUnchangedError(
            f"Every catalogue in {source.name} is already published with this content: nothing to publish."
        )
    return outcome


def _catalogues_publish(
    *,
    source: DefinitionSource,
    catalogues: Sequence[CatalogueSchema],
    actor: User | None,
    reason: str,
    warnings: list[Problem],
) -> PublishOutcome:
    outcome = PublishOutcome(warnings=warnings)
    for catalogue in catalogues:
        parsed = catalogue.model_dump(mode="json")
        content_hash = catalogue_hash_for(parsed)
        Catalogue.objects.get_or_create(id=catalogue.id)
        latest = CatalogueVersion.objects.filter(catalogue_id=catalogue.id).order_by("-number").first()
        if latest is not None and latest.content_hash == content_hash:
            outcome.unchanged_catalogues.append(catalogue.id)
            continue
        version = CatalogueVersion.objects.create(
            catalogue_id=catalogue.id,
            number=(latest.number if latest is not None else 0) + 1,
            source_name=source.name,
            source_text=source.text,
            content_hash=content_hash,
            parsed=parsed,
            published_by=actor,
            publish_reason=reason,
        )
        audit_record(
            actor=_audit_actor(actor),
            action="catalogue.catalogue.published",
            subject_type="catalogue.catalogue",
            subject_id=catalogue.id,
            details={"version_id": str(version.id), "number": version.number, "content_hash": content_hash},
        )
        outcome.catalogue_versions.append(version)
    return outcome


@transaction.atomic
def definition_publish(*, source: DefinitionSource, actor: User | None, reason: str) -> PublishOutcome:
    """Publish the file ``source``: a service definition (draft saved, then published) or a catalogue file.

    One transaction: a refusal (see :func:`version_draft_save`,
    :func:`version_publish`, :func:`catalogue_publish`) leaves the database
    exactly as it was, an existing draft included.
    """
    result = _load(source)
    if result.definition is None:
        return catalogue_publish(source=source, actor=actor, reason=reason)
    draft = _write_draft(source=source, result=result, definition=result.definition, actor=actor)
    _audit_draft_saved(draft, actor)
    version = _publish_draft(draft=draft, actor=actor, reason=reason, refresh=False)
    return PublishOutcome(service_version=version, warnings=result.warnings)


# --- Retiring ---------------------------------------------------------------------------

ServiceRetiredHook = Callable[[Service], int]
_SERVICE_RETIRED_HOOKS: list[ServiceRetiredHook] = []


def service_retired_hook_register(hook: ServiceRetiredHook) -> ServiceRetiredHook:
    """Register ``hook`` to run inside :func:`service_retire`'s transaction; return it (usable as a decorator).

    This is how apps below the catalogue (journeys) act on a retirement
    without the catalogue importing them: journeys will register a hook that
    enqueues, through the outbox, one "service closed" notification per
    holder of a draft application, and returns how many it enqueued. No hook
    is registered yet, so today retiring notifies nobody.
    """
    if hook not in _SERVICE_RETIRED_HOOKS:
        _SERVICE_RETIRED_HOOKS.append(hook)
    return hook


def draft_holders_notify(service: Service) -> int:
    """Run the registered retirement hooks for ``service``; return how many notifications they enqueued.

    Called inside the retirement transaction, so enqueued jobs commit or roll
    back with it (transactional outbox). Enqueues nothing until journeys
    registers its hook (see :func:`service_retired_hook_register`).
    """
    return sum(hook(service) for hook in list(_SERVICE_RETIRED_HOOKS))


@transaction.atomic
def service_retire(*, service_id: str, actor: User | None, reason: str) -> Service:
    """Retire ``service_id``: close it to new applications; return the service.

    Published versions become ``retired`` (their content is untouched and
    they stay loadable, so applications under way continue on the version
    they pinned); the service refuses new starts and new versions. Draft
    holders are notified through :func:`draft_holders_notify`. Refuse with
    ServiceNotFoundError, or ServiceRetiredError when already retired
    (nothing changed). Audited (``catalogue.service.retired``).
    """
    service = _service_for_update(service_id)
    if service.status == ServiceStatus.RETIRED:
        raise ServiceRetiredError(f"Service '{service_id}' is already retired.")
    service.status = ServiceStatus.RETIRED
    service.retired_at = clock.now()
    service.retired_by = actor
    service.retire_reason = reason
    service.save(update_fields=["status", "retired_at", "retired_by", "retire_reason"])
    retired_versions = ServiceVersion.objects.filter(service=service, state=VersionState.PUBLISHED).update(
        state=VersionState.RETIRED
    )
    notified = draft_holders_notify(service)
    audit_record(
        actor=_audit_actor(actor),
        action="catalogue.service.retired",
        subject_type="catalogue.service",
        subject_id=service.id,
        details={"versions_retired": retired_versions, "draft_holders_notified": notified},
    )
    return service


# --- Import -----------------------------------------------------------------------------


def _bundle_catalogues(bundle: Bundle) -> dict[str, tuple[DefinitionSource, CatalogueSchema]]:
    """Load each bundled catalogue from its file text; refuse a bundle whose catalogues do not match it."""
    found: dict[str, tuple[DefinitionSource, CatalogueSchema]] = {}
    for bundled in bundle.catalogues:
        source = DefinitionSource(name=bundled.name, text=bundled.text)
        result = _load(source)
        matching = [catalogue for catalogue in result.catalogues if catalogue.id == bundled.id]
        if not matching:
            raise BundleInvalidError(f"The bundled file {bundled.name} does not contain catalogue '{bundled.id}'.")
        if catalogue_hash_for(matching[0].model_dump(mode="json")) != bundled.content_hash:
            raise BundleInvalidError(f"Catalogue '{bundled.id}' in the bundle does not match its content hash.")
        found[bundled.id] = (source, matching[0])
    return found


@transaction.atomic
def definition_import(*, data: bytes, actor: User | None, reason: str | None = None) -> ServiceVersion:
    """Publish the service version in the bundle ``data`` (see :mod:`govserve.catalogue.bundle`); return it.

    The bundle's catalogues are published first where this database's latest
    version differs; the service version then pins exactly the bundled
    catalogues and stores exactly the bundled result templates (never files
    on this machine, never an earlier version's), so its content hash equals
    the bundle's. The version takes
    the next number here (which may differ from the bundle's). Refuse,
    changing nothing, with BundleInvalidError (not a bundle, hashes do not
    match the texts, a template the definition does not name),
    DefinitionInvalidError, DefinitionReferenceError (an institution is
    missing), ResultTemplateError (a template it names is not in the
    bundle), ServiceRetiredError or VersionUnchangedError.
    ``reason`` defaults to "Imported from bundle: <the bundle's reason>".
    """
    bundle = bundle_parse(data)
    bundled = _bundle_catalogues(bundle)
    templates = {template.path: template.text for template in bundle.templates}
    source = DefinitionSource(name=bundle.definition_name, text=bundle.definition_text, templates=templates)
    result, definition = _load_service(source)
    if definition.id != bundle.service:
        raise BundleInvalidError(
            f"The bundle names service '{bundle.service}' but its definition is '{definition.id}'."
        )
    unnamed = sorted(set(templates) - {template for _, template in template_references(definition)})
    if unnamed:
        raise BundleInvalidError(f"The bundle carries templates its definition does not name: {', '.join(unnamed)}.")
    expected = content_hash_for(
        definition_text=source.text,
        catalogue_hashes={
            catalogue_id: catalogue_hash_for(catalogue.model_dump(mode="json"))
            for catalogue_id, (_, catalogue) in bundled.items()
            if catalogue_id in {catalogue_id for _, catalogue_id in _catalogue_references(definition)}
        },
        templates=templates,
    )
    if expected != bundle.content_hash:
        raise BundleInvalidError("The bundle's definition does not match its content hash: was it edited by hand?")
    import_reason = reason if reason is not None else f"Imported from bundle: {bundle.publish_reason}".strip()
    for catalogue_source, catalogue in bundled.values():
        _catalogues_publish(
            source=catalogue_source, catalogues=[catalogue], actor=actor, reason=import_reason, warnings=[]
        )
    pins = _latest_catalogue_versions(set(bundled))
    draft = _write_draft(
        source=source, result=result, definition=definition, actor=actor, catalogues=pins, from_bundle=bundle
    )
    _audit_draft_saved(draft, actor)
    version = _publish_draft(draft=draft, actor=actor, reason=import_reason, refresh=False)
    audit_record(
        actor=_audit_actor(actor),
        action="catalogue.version.imported",
        subject_type="catalogue.service",
        subject_id=version.service_id,
        details={
            "version_id": str(version.id),
            "number": version.number,
            "bundle_version": bundle.version,
            "content_hash": version.content_hash,
            "templates": sorted(templates),
        },
    )
    return version
