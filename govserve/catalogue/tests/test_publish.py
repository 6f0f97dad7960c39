"""Publishing: drafts, numbering, identical content refused, references checked, catalogues, audit."""

from __future__ import annotations

import pytest

from govserve.accounts.models import User
from govserve.audit.models import AuditEntry
from govserve.catalogue.definitions.errors import DefinitionInvalidError
from govserve.catalogue.errors import (
    DefinitionKindError,
    DefinitionReferenceError,
    DraftNotFoundError,
    ServiceNotFoundError,
    VersionUnchangedError,
)
from govserve.catalogue.models import CatalogueVersion, PinnedCatalogue, Service, ServiceVersion
from govserve.catalogue.services import (
    catalogue_publish,
    definition_publish,
    version_draft_save,
    version_publish,
)
from govserve.catalogue.tests.support_versions import (
    PITCH_SIZE_FIELD,
    SERVICE_ID,
    goods_catalogue_text,
    institution_create,
    service_text,
    source,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def council() -> None:
    institution_create()
    catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="Goods list")


def test_publish_creates_version_one_with_who_and_why(council: None) -> None:
    # given a staff member
    user = User.objects.create(username="analyst")

    # when they publish a definition
    outcome = definition_publish(source=source(service_text()), actor=user, reason="First release")

    # then version 1 is published, recording who, why, and what it pinned
    version = outcome.service_version
    assert version is not None
    version.refresh_from_db()
    assert (version.service_id, version.number, version.state) == (SERVICE_ID, 1, "published")
    assert version.published_by == user
    assert version.publish_reason == "First release"
    assert version.published_at is not None
    assert version.source_name == "market-stall.yaml"
    assert version.source_text == service_text()
    assert version.parsed["id"] == SERVICE_ID
    assert [pin.catalogue_version.catalogue_id for pin in version.pins.all()] == ["goods"]
    service = Service.objects.get(pk=SERVICE_ID)
    assert (service.status, service.title, service.owning_institution.code) == (
        "live",
        "Apply for a market stall",
        "city-council",
    )
    entry = AuditEntry.objects.get(action="catalogue.version.published")
    assert (entry.actor_kind, entry.actor_id, entry.subject_type, entry.subject_id) == (
        "user",
        str(user.pk),
        "catalogue.service",
        SERVICE_ID,
    )
    assert entry.details == {
        "version_id": str(version.id),
        "number": 1,
        "content_hash": version.content_hash,
        "catalogues": {"goods": 1},
    }


def test_publishing_again_creates_the_next_number(council: None) -> None:
    # given version 1
    definition_publish(source=source(service_text()), actor=None, reason="v1")

    # when a changed definition is published twice more
    second = definition_publish(source=source(service_text(fee_amount=6000)), actor=None, reason="Fee rise")
    third = definition_publish(source=source(service_text(fee_amount=7000)), actor=None, reason="Another fee rise")

    # then versions are numbered 1, 2, 3 and all stay published (applications pin them)
    assert second.service_version is not None
    assert third.service_version is not None
    assert (second.service_version.number, third.service_version.number) == (2, 3)
    assert list(ServiceVersion.objects.filter(service_id=SERVICE_ID).values_list("number", "state")) == [
        (1, "published"),
        (2, "published"),
        (3, "published"),
    ]
    assert AuditEntry.objects.filter(action="catalogue.version.published").count() == 3


def test_publishing_identical_content_is_refused_and_changes_nothing(council: None) -> None:
    # given version 1
    definition_publish(source=source(service_text()), actor=None, reason="v1")
    versions_before = list(ServiceVersion.objects.values_list("id", "number", "state", "content_hash"))
    audit_before = AuditEntry.objects.count()

    # when exactly the same content is published again
    with pytest.raises(VersionUnchangedError) as refused:
        definition_publish(source=source(service_text()), actor=None, reason="again")

    # then it is refused with a clear message, and no draft or version or audit entry is left
    assert refused.value.code == "version_unchanged"
    assert refused.value.message.startswith(f"Service '{SERVICE_ID}' version 1 already has exactly this content")
    assert list(ServiceVersion.objects.values_list("id", "number", "state", "content_hash")) == versions_before
    assert AuditEntry.objects.count() == audit_before


def test_a_comment_is_a_change_because_the_text_as_written_is_published(council: None) -> None:
    definition_publish(source=source(service_text()), actor=None, reason="v1")

    outcome = definition_publish(source=source(service_text(comment="  # reviewed")), actor=None, reason="v2")

    assert outcome.service_version is not None
    assert outcome.service_version.number == 2


def test_an_invalid_definition_is_refused_with_every_problem_and_nothing_saved(council: None) -> None:
    # given a definition with an unknown key and a CEL reference to an unknown field
    text = (
        service_text()
        .replace("sign_in: required", "sign_in: required\nsing_in: typo")
        .replace("age(date_of_birth)", "age(date_of_brith)")
    )

    # when it is published
    with pytest.raises(DefinitionInvalidError) as refused:
        definition_publish(source=source(text), actor=None, reason="broken")

    # then both problems are reported with their locations, and nothing is stored
    codes = [(problem.code, problem.line) for problem in refused.value.problems]
    assert ("schema.unknown_key", 7) in codes
    assert not Service.objects.exists()
    assert not ServiceVersion.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="catalogue.version").exists()


def test_unknown_institutions_are_refused_at_their_locations() -> None:
    # given no institution in the database (check passes: it needs no database)
    text = service_text(institution="nowhere-council")

    # when published
    with pytest.raises(DefinitionReferenceError) as refused:
        definition_publish(source=source(text), actor=None, reason="v1")

    # then each reference is reported where it is written, and nothing is saved
    assert refused.value.code == "definition_reference_missing"
    assert [(p.code, p.line, p.column, p.path) for p in refused.value.problems] == [
        ("publish.unknown_institution", 5, 14, "institution"),
        ("publish.unknown_institution", 37, 18, "registrations[0].institution"),
        ("publish.unknown_institution", 46, 20, "flow.roles[0].institution"),
        ("publish.unknown_catalogue", 33, 23, "pages[1].fields[0].options_from"),
    ]
    assert refused.value.problems[0].format() == (
        "market-stall.yaml:5:14: error publish.unknown_institution institution: "
        "Institution `nowhere-council` does not exist in this installation "
        "(Create it (staff admin) or correct the id)"
    )
    assert not Service.objects.exists()


def test_a_deactivated_institution_is_refused() -> None:
    institution = institution_create()
    institution.is_active = False
    institution.save()
    catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="Goods")

    with pytest.raises(DefinitionReferenceError) as refused:
        definition_publish(source=source(service_text()), actor=None, reason="v1")

    assert {problem.code for problem in refused.value.problems} == {"publish.inactive_institution"}
    assert not ServiceVersion.objects.exists()


def test_an_unpublished_catalogue_is_refused() -> None:
    institution_create()

    with pytest.raises(DefinitionReferenceError) as refused:
        definition_publish(source=source(service_text()), actor=None, reason="v1")

    assert [problem.message for problem in refused.value.problems] == [
        "Catalogue `goods` is not published in this installation"
    ]
    assert not ServiceVersion.objects.exists()


def test_a_version_pins_the_catalogue_versions_it_was_published_with(council: None) -> None:
    # given version 1 published with goods v1
    first = definition_publish(source=source(service_text()), actor=None, reason="v1").service_version
    assert first is not None

    # when the catalogue changes and the service publishes again
    catalogue_publish(
        source=source(goods_catalogue_text(extra_option="flowers"), "goods.yaml"), actor=None, reason="More goods"
    )
    second = definition_publish(source=source(service_text()), actor=None, reason="New goods").service_version
    assert second is not None

    # then v1 still pins goods v1 and v2 pins goods v2; the same text gives a new hash
    assert list(PinnedCatalogue.objects.filter(service_version=first).values_list("catalogue_version__number")) == [
        (1,)
    ]
    assert list(PinnedCatalogue.objects.filter(service_version=second).values_list("catalogue_version__number")) == [
        (2,)
    ]
    assert first.content_hash != second.content_hash
    assert first.source_text == second.source_text


def test_catalogue_publish_skips_unchanged_catalogues_and_refuses_when_nothing_changed(council: None) -> None:
    with pytest.raises(VersionUnchangedError):
        catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="again")

    assert list(CatalogueVersion.objects.values_list("catalogue_id", "number")) == [("goods", 1)]


def test_a_catalogue_change_publishes_its_next_version_with_an_audit_entry(council: None) -> None:
    outcome = catalogue_publish(
        source=source(goods_catalogue_text(extra_option="flowers"), "goods.yaml"), actor=None, reason="More"
    )

    assert [(v.catalogue_id, v.number) for v in outcome.catalogue_versions] == [("goods", 2)]
    assert outcome.catalogue_versions[0].parsed["options"][-1] == {
        "value": "flowers",
        "label": {"en": "Flowers", "cy": None},
        "hint": None,
        "exclusive": False,
    }
    assert AuditEntry.objects.filter(action="catalogue.catalogue.published", subject_id="goods").count() == 2


def test_a_catalogue_file_is_not_accepted_as_a_service_draft_nor_a_service_as_a_catalogue(council: None) -> None:
    with pytest.raises(DefinitionKindError) as refused:
        version_draft_save(source=source(goods_catalogue_text(), "goods.yaml"), actor=None)
    assert refused.value.code == "definition_wrong_kind"
    assert refused.value.message == (
        "goods.yaml is a catalogue file, not a service definition: publish it with `govserve publish`."
    )

    with pytest.raises(DefinitionKindError, match=r"market-stall\.yaml is a service definition, not a catalogue file"):
        catalogue_publish(source=source(service_text()), actor=None, reason="wrong file")
    assert not ServiceVersion.objects.exists()


def test_a_draft_is_saved_then_published_by_service_id(council: None) -> None:
    # given a saved draft
    draft = version_draft_save(source=source(service_text()), actor=None)
    assert (draft.number, draft.state, draft.published_at) == (1, "draft", None)
    assert Service.objects.get(pk=SERVICE_ID).status == "draft"

    # when it is saved again with a change, then published
    draft_again = version_draft_save(source=source(service_text(extra_field=PITCH_SIZE_FIELD)), actor=None)
    published = version_publish(service_id=SERVICE_ID, actor=None, reason="Ready")

    # then one row went from draft to published version 1, with the latest text
    assert draft_again.pk == draft.pk == published.pk
    assert (published.number, published.state) == (1, "published")
    assert "pitch_size" in published.source_text
    assert ServiceVersion.objects.count() == 1
    assert AuditEntry.objects.filter(action="catalogue.draft.saved").count() == 2


def test_publish_without_a_draft_is_refused(council: None) -> None:
    definition_publish(source=source(service_text()), actor=None, reason="v1")

    with pytest.raises(DraftNotFoundError):
        version_publish(service_id=SERVICE_ID, actor=None, reason="nothing")
    with pytest.raises(ServiceNotFoundError):
        version_publish(service_id="no-such-service", actor=None, reason="nothing")


def test_command_line_publishing_is_audited_as_the_system(council: None) -> None:
    definition_publish(source=source(service_text()), actor=None, reason="v1")

    entry = AuditEntry.objects.get(action="catalogue.version.published")
    assert (entry.actor_kind, entry.actor_id) == ("system", "cli")
    assert ServiceVersion.objects.get().published_by is None
