"""A published version ready to serve: the definition, its catalogues, its CEL compiled.

:func:`compile_definition` turns a validated :class:`ServiceDefinition` into a
:class:`CompiledDefinition`, compiling every CEL expression once (conditions,
routes, validation rules, determinants, fee formulas, role rules) with a
location quoted in evaluation errors (``street-trading.yaml v3
pages[2].next[0].when``). Journeys and casework read everything from it and
never parse YAML or compile CEL on a request.

A compiled definition is immutable and shared between the threads of a process
(the in-process cache of :func:`govserve.catalogue.selectors.published_version_load`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pydantic import BaseModel

from govserve.catalogue.definitions.errors import format_path
from govserve.catalogue.definitions.schema import Catalogue, ServiceDefinition
from govserve.rules.determinants import determinant_order
from govserve.rules.engine import CompiledExpression, compile_expression

# Attributes that hold a CEL expression, wherever they appear in a definition.
EXPRESSION_ATTRIBUTES = frozenset({"when", "expression", "formula", "rule", "mandatory"})

PathElements = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class CompiledDefinition:
    """One version of a service, validated and compiled.

    ``expressions`` maps the dotted path of each expression in the definition
    (``pages[2].when``, ``registrations[0].fees[1].formula``) to its compiled
    form; ``determinants`` maps determinant ids to theirs, and
    ``determinant_order`` lists them so each follows those it uses.
    ``preview`` is true for a staff preview of a draft: what is submitted on
    it is a test submission, never counted in statistics. ``templates`` are
    the result templates stored with the version (``{path: text}``, the
    paths the results' ``template`` name).
    """

    service_id: str
    version: int
    content_hash: str
    definition: ServiceDefinition
    catalogues: Mapping[str, Catalogue]
    expressions: Mapping[str, CompiledExpression]
    determinants: Mapping[str, CompiledExpression]
    determinant_order: tuple[str, ...]
    preview: bool = False
    templates: Mapping[str, str] = MappingProxyType({})

    def expression(self, path: str) -> CompiledExpression:
        """Return the compiled expression at ``path``; raise KeyError if there is none."""
        return self.expressions[path]

    def template(self, path: str) -> str:
        """Return the text of the result template ``path`` (as a result's ``template`` names it); KeyError if none."""
        return self.templates[path]


def iter_expressions(definition: BaseModel, path: PathElements = ()) -> Iterator[tuple[PathElements, str]]:
    """Yield (path, CEL source) for every expression in ``definition``, in file order."""
    for name in type(definition).model_fields:
        value = getattr(definition, name)
        here = (*path, name)
        if name in EXPRESSION_ATTRIBUTES and isinstance(value, str):
            yield here, value
        elif isinstance(value, BaseModel):
            yield from iter_expressions(value, here)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from iter_expressions(item, (*here, index))


def compile_definition(
    *,
    service_id: str,
    version: int,
    content_hash: str,
    definition: ServiceDefinition,
    catalogues: Mapping[str, Catalogue],
    source_name: str,
    preview: bool = False,
    templates: Mapping[str, str] | None = None,
) -> CompiledDefinition:
    """Return ``definition`` with every expression compiled.

    The definition was validated when it was published, so a syntax error or
    a determinant cycle here is a bug (or a stored row changed behind the
    service layer): the rules engine's typed error propagates as it is.
    """
    prefix = f"{source_name} {'draft' if preview else f'v{version}'}"
    expressions: dict[str, CompiledExpression] = {}
    for path, source in iter_expressions(definition):
        dotted = format_path(path)
        expressions[dotted] = compile_expression(source, location=f"{prefix} {dotted}")
    determinants = {
        determinant.id: expressions[format_path(("determinants", index, "expression"))]
        for index, determinant in enumerate(definition.determinants)
    }
    return CompiledDefinition(
        service_id=service_id,
        version=version,
        content_hash=content_hash,
        definition=definition,
        catalogues=MappingProxyType(dict(catalogues)),
        expressions=MappingProxyType(expressions),
        determinants=MappingProxyType(determinants),
        determinant_order=tuple(determinant_order(determinants)),
        preview=preview,
        templates=MappingProxyType(dict(templates or {})),
    )
