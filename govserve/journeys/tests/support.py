"""Test data for the journey: the example services (compiled or published), citizens and sessions."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from django.test import Client

from govserve.accounts import signin
from govserve.accounts.citizens import citizen_create
from govserve.accounts.models import Citizen, Institution
from govserve.catalogue.compiled import CompiledDefinition, compile_definition
from govserve.catalogue.definitions.loader import load_definition_file
from govserve.catalogue.services import DefinitionSource, definition_publish
from govserve.journeys.access import Applicant

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
STREET_TRADING = "street-trading-licence"
NEWBORN = "register-newborn"
STREET_LIGHT = "report-street-light"
INSTITUTIONS = {
    "city-council": "Westmoor City Council",
    "health-agency": "National Health Registration Agency",
    "civil-registry": "Civil Registration Office",
}


@functools.cache
def example_compiled(service_id: str) -> CompiledDefinition:
    """Return an example service compiled as version 1, without the database (pure routing tests)."""
    catalogues = {}
    for path in sorted((EXAMPLES / "catalogues").glob("*.yaml")):
        loaded = load_definition_file(path)
        assert loaded.ok, loaded.problems
        catalogues.update({catalogue.id: catalogue for catalogue in loaded.catalogues})
    result = load_definition_file(EXAMPLES / "services" / f"{service_id}.yaml")
    assert result.ok, result.problems
    assert result.definition is not None
    return compile_definition(
        service_id=service_id,
        version=1,
        content_hash="test",
        definition=result.definition,
        catalogues={
            key: value for key, value in catalogues.items() if key in result.definition.referenced_catalogues()
        },
        source_name=f"{service_id}.yaml",
    )


def institutions_create() -> None:
    """Create the institutions the examples name."""
    for code, name in INSTITUTIONS.items():
        Institution.objects.get_or_create(code=code, defaults={"name": name})


def examples_publish(*service_ids: str) -> None:
    """Publish the example catalogues and the named example services (all three by default)."""
    institutions_create()
    for path in sorted((EXAMPLES / "catalogues").glob("*.yaml")):
        definition_publish(source=DefinitionSource.from_path(path), actor=None, reason="test")
    for service_id in service_ids or (STREET_TRADING, NEWBORN, STREET_LIGHT):
        definition_publish(
            source=DefinitionSource.from_path(EXAMPLES / "services" / f"{service_id}.yaml"), actor=None, reason="test"
        )


def example_text(service_id: str) -> str:
    """Return the text of an example service definition."""
    return (EXAMPLES / "services" / f"{service_id}.yaml").read_text(encoding="utf-8")


def publish_text(text: str, name: str) -> None:
    """Publish a definition from ``text`` (a changed example: the next version)."""
    definition_publish(source=DefinitionSource(name=name, text=text), actor=None, reason="test")


def citizen_new(email: str = "ada@example.org") -> Citizen:
    """Create a citizen account."""
    return citizen_create(email=email)


def sign_in(client: Client, citizen: Citizen) -> None:
    """Sign ``citizen`` in on ``client``'s session, as the emailed link would."""
    session = client.session
    session[signin.CITIZEN_ID] = str(citizen.id)
    session.save()
    # stamp() needs a request-like object with a session.
    holder: Any = type("Holder", (), {"session": session})()
    signin.stamp(holder, signin.KIND_CITIZEN)
    session.save()


def applicant(citizen: Citizen | None = None, *granted: Any) -> Applicant:
    """Return the applicant identity of ``citizen`` and/or granted application ids."""
    return Applicant(citizen=citizen, granted=frozenset(granted))
