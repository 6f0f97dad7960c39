"""The JSON Schema of definition files, for editors (``docs/service-definition.schema.json``).

Generated from the pydantic models, so it cannot drift from what ``check``
accepts: ``govserve definition_schema`` rewrites the file, and a test fails
when the committed file is not what the models generate. The schema covers a
file's shape (keys, types, allowed values); what needs the whole definition
(references, CEL, the page graph) only ``govserve check`` finds.

Editors pick it up with a modeline at the top of a definition file::

    # yaml-language-server: $schema=../../docs/service-definition.schema.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from govserve.catalogue.definitions.schema import SCHEMA_VERSION, CatalogueFile, ServiceDefinition

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "docs" / "service-definition.schema.json"
"""Where the schema lives in a source checkout."""

SCHEMA_ID = "https://github.com/govserve/govserve/blob/main/docs/service-definition.schema.json"


def definition_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a service definition or catalogue file."""
    references, definitions = models_json_schema(
        [(ServiceDefinition, "validation"), (CatalogueFile, "validation")],
        ref_template="#/$defs/{model}",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"govserve service definition or catalogue file (schema_version {SCHEMA_VERSION})",
        "description": (
            "A govserve service definition (one service per file) or a file of catalogues (reusable option "
            "lists). Generated from govserve/catalogue/definitions/schema.py: do not edit by hand; run "
            "`govserve definition_schema`. `govserve check` reports what a schema cannot (references, CEL, "
            "the page graph)."
        ),
        "anyOf": [
            references[(ServiceDefinition, "validation")],
            references[(CatalogueFile, "validation")],
        ],
        "$defs": definitions["$defs"],
    }


def render_json_schema() -> str:
    """Return the schema as the text of the committed file (stable key order, final newline)."""
    return json.dumps(definition_json_schema(), indent=2, ensure_ascii=False) + "\n"
