"""The exported JSON Schema is current and means what the models mean; every problem code is documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from govserve.catalogue.definitions import ProblemCode
from govserve.catalogue.definitions.jsonschema import SCHEMA_FILE, definition_json_schema, render_json_schema

FIXTURES = Path(__file__).parent / "fixtures"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "definition-check.md"


def test_the_committed_schema_is_what_the_models_generate() -> None:
    # Then: if this fails, run `govserve definition_schema` and commit the file
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_json_schema()


def test_the_valid_fixture_satisfies_the_schema_and_a_typo_does_not() -> None:
    # Given
    validator = jsonschema_rs.Draft202012Validator(definition_json_schema())
    document = yaml.safe_load((FIXTURES / "valid_service.yaml").read_text(encoding="utf-8"))

    # Then
    assert list(validator.iter_errors(document)) == []
    document["pages"][0]["fields"][0]["lable"] = "typo"
    assert not validator.is_valid(document)


def test_a_catalogue_file_satisfies_the_schema() -> None:
    # Given
    validator = jsonschema_rs.Draft202012Validator(definition_json_schema())
    document = {
        "schema_version": 1,
        "catalogues": [{"id": "c", "title": "C", "options": [{"value": "a", "label": "A"}]}],
    }

    # Then
    assert validator.is_valid(document)
    assert not validator.is_valid({**document, "catalogues": []})


def test_the_schema_command_writes_and_verifies_the_file(tmp_path: Path) -> None:
    # Given
    output = tmp_path / "schema.json"

    # When
    call_command("definition_schema", output=output)

    # Then
    assert json.loads(output.read_text(encoding="utf-8")) == definition_json_schema()
    call_command("definition_schema", output=output, check=True)


def test_the_schema_command_refuses_a_stale_file(tmp_path: Path) -> None:
    # Given
    output = tmp_path / "schema.json"
    output.write_text("{}\n", encoding="utf-8")

    # When / Then
    with pytest.raises(CommandError) as raised:
        call_command("definition_schema", output=output, check=True)
    assert str(raised.value) == f"{output} is out of date: run `govserve definition_schema`"
    assert raised.value.returncode == 1
    assert output.read_text(encoding="utf-8") == "{}\n"


def test_every_problem_code_is_documented_and_nothing_else_is() -> None:
    # Given
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_0-9]+)` \|", text, flags=re.MULTILINE))

    # Then
    assert documented == {code.value for code in ProblemCode}
