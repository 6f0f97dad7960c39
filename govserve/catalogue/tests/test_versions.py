"""Versions: immutability (service layer, models, database triggers), retiring, loading, preview."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from govserve.accounts.models import Institution, RoleAssignment, User
from govserve.audit.models import AuditEntry
from govserve.catalogue import selectors, services
from govserve.catalogue.errors import (
    DefinitionKindError,
    DraftNotFoundError,
    PreviewNotAllowedError,
    ServiceNotFoundError,
    ServiceRetiredError,
    VersionImmutableError,
    VersionNotFoundError,
)
from govserve.catalogue.models import (
    CatalogueVersion,
    ImmutableRowError,
    PinnedCatalogue,
    Service,
    ServiceVersion,
)
from govserve.catalogue.selectors import draft_version_for_preview, pinned_version_load, published_version_load
from govserve.catalogue.services import (
    catalogue_publish,
    definition_publish,
    service_retire,
    service_retired_hook_register,
    version_draft_save,
    version_update,
)
from govserve.catalogue.tests.support_versions import (
    PITCH_SIZE_FIELD,
    SERVICE_ID,
    goods_catalogue_text,
    institution_create,
    service_text,
    source,
)
from govserve.core import clock
from govserve.rules.engine import build_context, evaluate_bool

pytestmark = pytest.mark.django_db


@pytest.fixture
def published() -> ServiceVersion:
    institution_create()
    catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="Goods")
    version = definition_publish(source=source(service_text()), actor=None, reason="v1").service_version
    assert version is not None
    selectors.compiled_cache_clear()
    return version


def _row(version: ServiceVersion) -> dict[str, object]:
    return ServiceVersion.objects.filter(pk=version.pk).values().get()


# --- Immutability -----------------------------------------------------------------------


def test_version_update_of_a_published_version_is_refused_and_changes_nothing(published: ServiceVersion) -> None:
    # given a published version and its stored row
    before = _row(published)
    audit_before = AuditEntry.objects.count()

    # when someone tries to change its text through the service layer
    with pytest.raises(VersionImmutableError) as refused:
        version_update(version_id=published.pk, source=source(service_text(fee_amount=1)), actor=None)

    # then a typed error says why, and nothing changed
    assert refused.value.code == "version_immutable"
    assert refused.value.status == 409
    assert refused.value.message == (
        "Version 1 of 'market-stall' is published and can never change: "
        "save a draft and publish the next version instead."
    )
    assert _row(published) == before
    assert ServiceVersion.objects.count() == 1
    assert AuditEntry.objects.count() == audit_before


def test_version_update_replaces_a_draft(published: ServiceVersion) -> None:
    draft = version_draft_save(source=source(service_text(fee_amount=6000)), actor=None)

    updated = version_update(version_id=draft.pk, source=source(service_text(fee_amount=7000)), actor=None)

    assert (updated.pk, updated.number, updated.state) == (draft.pk, 2, "draft")
    assert "amount: 7000" in ServiceVersion.objects.get(pk=draft.pk).source_text


def test_version_update_refuses_another_services_text(published: ServiceVersion) -> None:
    draft = version_draft_save(source=source(service_text(fee_amount=6000)), actor=None)

    with pytest.raises(DefinitionKindError, match="defines service 'other-stall', but this draft is of 'market-stall'"):
        version_update(version_id=draft.pk, source=source(service_text(service_id="other-stall")), actor=None)
    assert "amount: 6000" in ServiceVersion.objects.get(pk=draft.pk).source_text


def test_version_update_of_an_unknown_version_is_not_found(published: ServiceVersion) -> None:
    with pytest.raises(VersionNotFoundError):
        version_update(version_id="not-a-uuid", source=source(service_text()), actor=None)


def test_saving_a_changed_published_row_through_the_model_is_refused(published: ServiceVersion) -> None:
    before = _row(published)
    published.source_text = "schema_version: 1\n"

    with pytest.raises(ImmutableRowError, match="is published and immutable; refused change to \\['source_text'\\]"):
        published.save()

    assert _row(published) == before


def test_a_bulk_update_of_a_published_row_fails_in_the_database(published: ServiceVersion) -> None:
    # given a published version; when code bypasses the models with QuerySet.update()
    before = _row(published)
    with pytest.raises(IntegrityError, match="a published version is immutable"), transaction.atomic():
        ServiceVersion.objects.filter(pk=published.pk).update(publish_reason="rewritten history")
    # then the database trigger refused it
    assert _row(published) == before


def test_the_database_refuses_moving_a_published_version_back_to_draft(published: ServiceVersion) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceVersion.objects.filter(pk=published.pk).update(state="draft")
    assert _row(published)["state"] == "published"


def test_the_database_refuses_changing_a_published_catalogue_version(published: ServiceVersion) -> None:
    catalogue = CatalogueVersion.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CatalogueVersion.objects.filter(pk=catalogue.pk).update(source_text="changed")
    assert CatalogueVersion.objects.get().source_text == goods_catalogue_text()


def test_the_database_refuses_adding_a_pin_to_a_published_version(published: ServiceVersion) -> None:
    catalogue_publish(
        source=source(goods_catalogue_text(extra_option="flowers"), "goods.yaml"), actor=None, reason="More"
    )
    newer = CatalogueVersion.objects.get(number=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        PinnedCatalogue.objects.create(service_version=published, catalogue_version=newer)
    assert PinnedCatalogue.objects.filter(service_version=published).count() == 1


def test_published_versions_cannot_be_deleted(published: ServiceVersion) -> None:
    with pytest.raises(ImmutableRowError):
        published.delete()
    with pytest.raises(ImmutableRowError):
        ServiceVersion.objects.filter(pk=published.pk).delete()
    assert ServiceVersion.objects.filter(pk=published.pk).exists()


# --- Retiring ----------------------------------------------------------------------------


def test_retire_closes_new_starts_but_pinned_versions_still_load(published: ServiceVersion) -> None:
    # given a live service whose version 1 is loaded
    user = User.objects.create(username="manager")
    assert published_version_load(SERVICE_ID).version == 1

    # when it is retired
    service = service_retire(service_id=SERVICE_ID, actor=user, reason="Replaced by a new service")

    # then new starts are refused, version 1 still loads for applications under way
    assert (service.status, service.retired_by, service.retire_reason) == (
        "retired",
        user,
        "Replaced by a new service",
    )
    with pytest.raises(ServiceRetiredError, match="is retired: it takes no new applications"):
        published_version_load(SERVICE_ID)
    assert published_version_load(SERVICE_ID, 1).version == 1
    assert ServiceVersion.objects.get(pk=published.pk).state == "retired"
    assert _row(published)["source_text"] == service_text()
    entry = AuditEntry.objects.get(action="catalogue.service.retired")
    assert entry.details == {"versions_retired": 1, "draft_holders_notified": 0}


def test_a_retired_service_takes_no_new_version_and_cannot_be_retired_twice(published: ServiceVersion) -> None:
    service_retire(service_id=SERVICE_ID, actor=None, reason="Closed")
    audit_before = AuditEntry.objects.count()

    with pytest.raises(ServiceRetiredError):
        definition_publish(source=source(service_text(fee_amount=1)), actor=None, reason="v2")
    with pytest.raises(ServiceRetiredError, match="already retired"):
        service_retire(service_id=SERVICE_ID, actor=None, reason="again")

    assert ServiceVersion.objects.count() == 1
    assert AuditEntry.objects.count() == audit_before


def test_retire_of_an_unknown_service_is_not_found() -> None:
    with pytest.raises(ServiceNotFoundError):
        service_retire(service_id="no-such-service", actor=None, reason="x")


def test_retire_runs_the_registered_draft_holder_hooks_in_its_transaction(
    published: ServiceVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a hook as journeys will register (here: counts two draft holders)
    seen: list[str] = []
    monkeypatch.setattr(services, "_SERVICE_RETIRED_HOOKS", [])

    def notify(service: Service) -> int:
        seen.append(service.id)
        return 2

    service_retired_hook_register(notify)
    service_retired_hook_register(notify)  # registering twice runs it once

    service_retire(service_id=SERVICE_ID, actor=None, reason="Closed")

    assert seen == [SERVICE_ID]
    assert AuditEntry.objects.get(action="catalogue.service.retired").details["draft_holders_notified"] == 2


# --- Loading -----------------------------------------------------------------------------


def test_published_version_load_compiles_every_expression(published: ServiceVersion) -> None:
    compiled = published_version_load(SERVICE_ID)

    assert (compiled.service_id, compiled.version, compiled.content_hash, compiled.preview) == (
        SERVICE_ID,
        1,
        published.content_hash,
        False,
    )
    assert sorted(compiled.expressions) == ["determinants[0].expression", "pages[1].when"]
    assert compiled.determinant_order == ("is_adult",)
    assert compiled.expression("pages[1].when").location == "market-stall.yaml v1 pages[1].when"
    assert [option.value for option in compiled.catalogues["goods"].options] == ["food", "crafts"]
    context = build_context({"date_of_birth": datetime.date(2000, 1, 1)}, today=datetime.date(2026, 1, 1))
    assert evaluate_bool(compiled.determinants["is_adult"], context) is True


def test_published_version_load_is_cached_per_version_and_content(published: ServiceVersion) -> None:
    first = published_version_load(SERVICE_ID)
    assert published_version_load(SERVICE_ID) is first
    assert published_version_load(SERVICE_ID, 1) is first

    # a new version is seen at once, and version 1 stays what it was
    definition_publish(source=source(service_text(extra_field=PITCH_SIZE_FIELD)), actor=None, reason="v2")
    latest = published_version_load(SERVICE_ID)
    assert latest.version == 2
    assert "pages[1].fields[1]" not in first.expressions
    assert [field.id for field in latest.definition.pages[1].fields] == ["goods", "pitch_size"]
    assert published_version_load(SERVICE_ID, 1) is first


def test_published_version_load_refuses_unknown_services_versions_and_drafts(published: ServiceVersion) -> None:
    version_draft_save(source=source(service_text(fee_amount=1)), actor=None)

    with pytest.raises(ServiceNotFoundError):
        published_version_load("no-such-service")
    with pytest.raises(VersionNotFoundError):
        published_version_load(SERVICE_ID, 2)  # the draft's number: never served as published
    with pytest.raises(ServiceNotFoundError):
        published_version_load("no-such-service", 1)


def test_a_pinned_version_loads_by_its_row_without_a_query_once_loaded(published: ServiceVersion) -> None:
    # given version 1 loaded once for the row an application pins, and a draft of version 2
    first = pinned_version_load(service_id=SERVICE_ID, number=1, version_id=published.pk)
    draft = version_draft_save(source=source(service_text(fee_amount=1)), actor=None)

    # when it is loaded again, also once the service is retired
    with CaptureQueriesContext(connection) as queries:
        again = pinned_version_load(service_id=SERVICE_ID, number=1, version_id=published.pk)
    service_retire(service_id=SERVICE_ID, actor=None, reason="Closed")
    retired = pinned_version_load(service_id=SERVICE_ID, number=1, version_id=published.pk)

    # then it is the same compiled version, read from no row; a draft's row is not loadable (nor kept)
    assert (again, retired, len(queries)) == (first, first, 0)
    assert first.version == 1
    with pytest.raises(VersionNotFoundError):
        pinned_version_load(service_id=SERVICE_ID, number=2, version_id=draft.pk)
    with pytest.raises(VersionNotFoundError):
        pinned_version_load(service_id=SERVICE_ID, number=2, version_id=draft.pk)
    # and clearing the cache reads the version again
    selectors.compiled_cache_clear()
    with CaptureQueriesContext(connection) as queries:
        reloaded = pinned_version_load(service_id=SERVICE_ID, number=1, version_id=published.pk)
    assert (reloaded.version, reloaded.content_hash) == (1, first.content_hash)
    assert len(queries) > 0


def test_a_service_with_only_a_draft_has_no_published_version() -> None:
    institution_create()
    definition = service_text(goods_from_catalogue=False)
    version_draft_save(source=source(definition), actor=None)

    with pytest.raises(VersionNotFoundError, match="has no published version yet"):
        published_version_load(SERVICE_ID)


# --- Preview -----------------------------------------------------------------------------


def _staff(username: str, *roles: tuple[str, str]) -> User:
    user = User.objects.create(username=username)
    for institution_code, role in roles:
        institution = Institution.objects.filter(code=institution_code).first() or institution_create(
            institution_code, name=institution_code
        )
        RoleAssignment.objects.create(user=user, institution=institution, role=role)
    return user


def test_preview_is_for_staff_of_the_owning_institution_and_administrators(published: ServiceVersion) -> None:
    version_draft_save(source=source(service_text(fee_amount=6000)), actor=None)
    officer = _staff("officer", ("city-council", "licensing_officer"))
    administrator = _staff("admin", ("health-agency", "administrator"))
    outsider = _staff("outsider", ("health-agency", "registrar"))
    nobody = _staff("nobody")

    preview = draft_version_for_preview(SERVICE_ID, officer)
    assert (preview.version, preview.preview) == (2, True)
    assert preview.definition.registrations[0].fees[0].amount == 6000
    assert preview.expression("pages[1].when").location == "market-stall.yaml draft pages[1].when"
    assert draft_version_for_preview(SERVICE_ID, administrator).preview is True
    for refused in (outsider, nobody):
        with pytest.raises(PreviewNotAllowedError):
            draft_version_for_preview(SERVICE_ID, refused)


def test_preview_refuses_anonymous_inactive_and_expired_supplier_accounts(published: ServiceVersion) -> None:
    version_draft_save(source=source(service_text(fee_amount=6000)), actor=None)
    inactive = _staff("inactive", ("city-council", "licensing_officer"))
    inactive.is_active = False
    inactive.save()
    supplier = _staff("supplier", ("city-council", "administrator"))
    supplier.is_supplier = True
    supplier.access_expires_at = clock.now()
    supplier.save()

    for refused in (AnonymousUser(), inactive, supplier):
        with pytest.raises(PreviewNotAllowedError):
            draft_version_for_preview(SERVICE_ID, refused)


def test_preview_without_a_draft_or_service(published: ServiceVersion) -> None:
    officer = _staff("officer", ("city-council", "licensing_officer"))

    with pytest.raises(DraftNotFoundError):
        draft_version_for_preview(SERVICE_ID, officer)
    with pytest.raises(PreviewNotAllowedError):
        draft_version_for_preview("no-such-service", officer)
