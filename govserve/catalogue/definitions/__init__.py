"""The service definition language: load, validate and check definition files.

Public interface (stable; other apps build on it):

* :func:`load_definition_file`, :func:`load_definition_text` -> :class:`LoadResult`
  (``.definition``, ``.catalogues``, ``.problems``, ``.ok``);
* :func:`check_paths` -> :class:`CheckReport`: what ``govserve check`` runs;
* :class:`Problem` and :class:`ProblemCode` (every code documented in
  docs/definition-check.md); :class:`DefinitionInvalidError` for callers that
  refuse a definition with errors;
* the models in :mod:`govserve.catalogue.definitions.schema`.

Nothing here touches the database.
"""

from govserve.catalogue.definitions.check import CheckReport, check_paths
from govserve.catalogue.definitions.errors import DefinitionInvalidError, Problem, ProblemCode, format_path
from govserve.catalogue.definitions.loader import LoadResult, load_definition_file, load_definition_text
from govserve.catalogue.definitions.schema import SCHEMA_VERSION, Catalogue, CatalogueFile, ServiceDefinition

__all__ = [
    "SCHEMA_VERSION",
    "Catalogue",
    "CatalogueFile",
    "CheckReport",
    "DefinitionInvalidError",
    "LoadResult",
    "Problem",
    "ProblemCode",
    "ServiceDefinition",
    "check_paths",
    "format_path",
    "load_definition_file",
    "load_definition_text",
]
