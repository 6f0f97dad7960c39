"""Export and import: the round trip keeps the content hash; bad bundles are refused, changing nothing."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from govserve.audit.models import AuditEntry
from govserve.catalogue.bundle import MAX_BUNDLE_BYTES, bundle_parse, content_hash_for
from govserve.catalogue.definitions.errors import DefinitionInvalidError
from govserve.catalogue.errors import (
    BundleInvalidError,
    DefinitionReferenceError,
    VersionNotFoundError,
    VersionUnchangedError,
)
from govserve.catalogue.models import CatalogueVersion, ServiceVersion
from govserve.catalogue.selectors import definition_export
from govserve.catalogue.services import catalogue_publish, definition_import, definition_publish
from govserve.catalogue.tests.support_versions import (
    SERVICE_ID,
    goods_catalogue_text,
    institution_create,
    service_text,
    source,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def published() -> ServiceVersion:
    institution_create()
    catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="Goods")
    version = definition_publish(source=source(service_text()), actor=None, reason="First release").service_version
    assert version is not None
    return version


def _catalogue_tables_empty() -> None:
    """Empty the catalogue's tables, as on a fresh database (raw SQL: published rows refuse ORM deletes)."""
    with connection.cursor() as cursor:
        for table in (
            "catalogue_pinnedcatalogue",
            "catalogue_serviceversion",
            "catalogue_catalogueversion",
            "catalogue_catalogue",
            "catalogue_service",
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def test_export_bundles_the_definition_as_written_and_its_catalogues(published: ServiceVersion) -> None:
    bundle = definition_export(SERVICE_ID)

    document = json.loads(bundle.to_bytes())
    catalogue = CatalogueVersion.objects.get()
    assert document == {
        "format": "govserve-definition-bundle",
        "format_version": 2,
        "service": SERVICE_ID,
        "version": 1,
        "content_hash": published.content_hash,
        "published_at": ServiceVersion.objects.get().published_at.isoformat(),  # type: ignore[union-attr]
        "publish_reason": "First release",
        "definition": {"name": "market-stall.yaml", "text": service_text()},
        "catalogues": [
            {
                "id": "goods",
                "version": 1,
                "content_hash": catalogue.content_hash,
                "name": "goods.yaml",
                "text": goods_catalogue_text(),
            }
        ],
        "templates": [],
    }


def test_export_then_import_on_a_fresh_database_gives_the_same_content_hash(published: ServiceVersion) -> None:
    # given the exported bundle of version 1, and a database without the service or its catalogue
    data = definition_export(SERVICE_ID).to_bytes()
    _catalogue_tables_empty()

    # when the bundle is imported
    imported = definition_import(data=data, actor=None)

    # then the same content is published with the same hash, the catalogue with it
    assert (imported.service_id, imported.number, imported.state) == (SERVICE_ID, 1, "published")
    assert imported.content_hash == published.content_hash
    assert imported.source_text == service_text()
    assert imported.publish_reason == "Imported from bundle: First release"
    assert list(CatalogueVersion.objects.values_list("catalogue_id", "number", "source_text")) == [
        ("goods", 1, goods_catalogue_text())
    ]
    assert (
        definition_export(SERVICE_ID).to_bytes().replace(b"Imported from bundle: ", b"").split(b'"published_at"')[0]
        == data.split(b'"published_at"')[0]
    )
    entry = AuditEntry.objects.filter(action="catalogue.version.imported").get()
    assert entry.details == {
        "version_id": str(imported.id),
        "number": 1,
        "bundle_version": 1,
        "content_hash": published.content_hash,
        "templates": [],
    }


def test_importing_onto_a_database_that_moved_on_takes_the_next_number(published: ServiceVersion) -> None:
    # given version 1 exported, then version 2 published here
    data = definition_export(SERVICE_ID).to_bytes()
    definition_publish(source=source(service_text(fee_amount=9000)), actor=None, reason="v2")

    # when version 1's bundle is imported (a rollback to the earlier content)
    imported = definition_import(data=data, actor=None, reason="Roll back the fee")

    # then it becomes version 3, with version 1's content hash
    assert (imported.number, imported.content_hash, imported.publish_reason) == (
        3,
        published.content_hash,
        "Roll back the fee",
    )


def test_importing_what_is_already_the_latest_is_refused(published: ServiceVersion) -> None:
    data = definition_export(SERVICE_ID).to_bytes()
    audit_before = AuditEntry.objects.count()

    with pytest.raises(VersionUnchangedError):
        definition_import(data=data, actor=None)

    assert ServiceVersion.objects.count() == 1
    assert AuditEntry.objects.count() == audit_before


def test_an_import_needs_the_institutions_of_this_installation(published: ServiceVersion) -> None:
    data = definition_export(SERVICE_ID).to_bytes().replace(b"city-council", b"other-council")

    with pytest.raises(BundleInvalidError, match="does not match its content hash"):
        definition_import(data=data, actor=None)

    # a consistent bundle naming an institution this installation lacks is refused too
    document = json.loads(data)
    document["content_hash"] = _rehash(document)
    with pytest.raises(DefinitionReferenceError):
        definition_import(data=json.dumps(document).encode(), actor=None)
    assert ServiceVersion.objects.count() == 1


def _rehash(document: dict[str, object]) -> str:
    catalogues = document["catalogues"]
    assert isinstance(catalogues, list)
    definition = document["definition"]
    assert isinstance(definition, dict)
    return content_hash_for(
        definition_text=definition["text"],
        catalogue_hashes={catalogue["id"]: catalogue["content_hash"] for catalogue in catalogues},
    )


def test_a_bundle_edited_by_hand_is_refused_and_changes_nothing(published: ServiceVersion) -> None:
    data = definition_export(SERVICE_ID).to_bytes().replace(b"amount: 5000", b"amount: 1")
    audit_before = AuditEntry.objects.count()

    with pytest.raises(BundleInvalidError) as refused:
        definition_import(data=data, actor=None)

    assert refused.value.code == "bundle_invalid"
    assert refused.value.message == "The bundle's definition does not match its content hash: was it edited by hand?"
    assert ServiceVersion.objects.count() == 1
    assert AuditEntry.objects.count() == audit_before


def test_a_bundle_whose_catalogue_was_edited_is_refused(published: ServiceVersion) -> None:
    data = definition_export(SERVICE_ID).to_bytes().replace(b"label: Crafts", b"label: Arts")

    with pytest.raises(BundleInvalidError, match="Catalogue 'goods' in the bundle does not match its content hash"):
        definition_import(data=data, actor=None)
    assert CatalogueVersion.objects.count() == 1


def test_a_bundle_with_an_invalid_definition_is_refused_with_its_problems(published: ServiceVersion) -> None:
    document = json.loads(definition_export(SERVICE_ID).to_bytes())
    document["definition"]["text"] = document["definition"]["text"].replace("sign_in: required", "sign_in: maybe")

    with pytest.raises(DefinitionInvalidError) as refused:
        definition_import(data=json.dumps(document).encode(), actor=None)

    assert [(problem.code, problem.path) for problem in refused.value.problems] == [("schema.invalid_value", "sign_in")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "The bundle is not UTF-8 text (byte 0)."),
        (b"schema_version: 1\n", "The bundle is not JSON: Expecting value at line 1, column 1."),
        (b"[]", "The bundle must be a JSON object."),
        (
            b'{"format": "zip"}',
            "This is not a govserve definition bundle (format must be 'govserve-definition-bundle').",
        ),
        (
            b'{"format": "govserve-definition-bundle", "format_version": 3}',
            "Bundle format version 3 is not supported; this govserve reads versions 1, 2.",
        ),
        (
            b'{"format": "govserve-definition-bundle", "format_version": true}',
            "'format_version' in the bundle must be a whole number, not true or false.",
        ),
        (
            b'{"format": "govserve-definition-bundle", "format_version": 1, "definition": {}, "catalogues": []}',
            "The bundle has no 'service' in the bundle.",
        ),
        (
            b'{"format": "govserve-definition-bundle", "format_version": 1, "definition": {}, "catalogues": [1]}',
            "catalogues[0] must be a JSON object.",
        ),
    ],
)
def test_what_is_not_a_bundle_is_refused_with_a_specific_message(data: bytes, message: str) -> None:
    with pytest.raises(BundleInvalidError) as refused:
        bundle_parse(data)
    assert refused.value.message == message


def test_an_oversized_bundle_is_refused_before_parsing() -> None:
    with pytest.raises(BundleInvalidError, match="the most a bundle may be is 20,971,520 bytes"):
        bundle_parse(b" " * (MAX_BUNDLE_BYTES + 1))


def test_export_of_an_unknown_version_is_not_found(published: ServiceVersion) -> None:
    with pytest.raises(VersionNotFoundError):
        definition_export(SERVICE_ID, 2)
