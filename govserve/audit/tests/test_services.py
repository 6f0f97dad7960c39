"""``audit_record``: what it writes, what it refuses; reading entries needs the audit permission."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import connection, transaction
from django.test import RequestFactory

from govserve.accounts.models import User
from govserve.audit.actors import Actor, ActorKind
from govserve.audit.admin import AuditEntryAdmin
from govserve.audit.chain import CanonicalFormError
from govserve.audit.errors import AuditReadDeniedError
from govserve.audit.models import AuditEntry, Outcome
from govserve.audit.selectors import audit_entries_by_actor, audit_entries_for_subject
from govserve.audit.services import audit_record
from govserve.audit.tests.conftest import TEST_ACTION, record


def test_an_entry_records_the_actor_the_action_and_canonical_details(chain: None) -> None:
    supplier = User.objects.create_user(username="vendor-engineer", is_supplier=True)
    with transaction.atomic():
        entry = audit_record(
            actor=Actor.for_user(supplier),
            action=TEST_ACTION,
            subject_type="application",
            subject_id=42,
            outcome=Outcome.DENIED,
            details={"b": 1, "a": ["x"]},
        )
    stored = AuditEntry.objects.get(id=entry.id)
    assert (stored.actor_kind, stored.actor_id, stored.actor_is_supplier) == ("user", str(supplier.pk), True)
    assert (stored.action, stored.subject_type, stored.subject_id, stored.outcome) == (
        TEST_ACTION,
        "application",
        "42",
        "denied",
    )
    assert stored.details == {"a": ["x"], "b": 1}
    assert (stored.previous_hash, stored.entry_hash, stored.sealed_at) == ("", "", None)


def test_civil_servants_are_not_marked_as_supplier_staff(db: None) -> None:
    civil_servant = User.objects.create_user(username="caseworker")
    assert Actor.for_user(civil_servant) == Actor(kind=ActorKind.USER, id=str(civil_servant.pk), is_supplier=False)


def test_bad_details_and_unknown_actions_are_refused_and_nothing_is_written(chain: None) -> None:
    with pytest.raises(CanonicalFormError, match=r"details\.fee: floats are not allowed"):
        record(1, details={"fee": 12.5})
    with pytest.raises(CanonicalFormError, match="keys must be strings"):
        record(1, details={3: "x"})
    with pytest.raises(LookupError, match="is not registered"):
        record(1, action="audit.never.declared")
    assert not AuditEntry.objects.exists()


def test_reading_entries_needs_the_audit_permission(chain: None) -> None:
    record(2, subject_id="app-1")
    reader = User.objects.create_user(username="auditor")
    stranger = User.objects.create_user(username="stranger")
    reader.user_permissions.add(Permission.objects.get(codename="view_auditentry", content_type__app_label="audit"))
    reader = User.objects.get(pk=reader.pk)  # drop the permission cache
    entries = audit_entries_for_subject(user=reader, subject_type="application", subject_id="app-1")
    assert [entry.id for entry in entries] == [2, 1]
    assert [e.id for e in audit_entries_by_actor(user=reader, actor_kind="system", actor_id="tests", limit=1)] == [2]
    for refused in (stranger, AnonymousUser()):
        with pytest.raises(AuditReadDeniedError) as denial:
            audit_entries_for_subject(user=refused, subject_type="application", subject_id="app-1")
        assert (denial.value.code, denial.value.status) == ("audit_read_denied", 403)
    reader.is_active = False
    with pytest.raises(AuditReadDeniedError):
        audit_entries_by_actor(user=reader, actor_kind="system", actor_id="tests")


def test_the_admin_never_adds_changes_or_deletes_entries(db: None) -> None:
    superuser = User.objects.create_superuser(username="root", password="x" * 16)
    request = RequestFactory().get("/")
    request.user = superuser
    admin = AuditEntryAdmin(AuditEntry, site)
    assert admin.has_view_permission(request) is True
    assert (admin.has_add_permission(request), admin.has_change_permission(request)) == (False, False)
    assert admin.has_delete_permission(request) is False
    assert admin.get_actions(request) == {}


def test_details_are_stored_as_exact_canonical_text_and_remain_queryable(chain: None) -> None:
    record(1, details={"queue": "licensing", "b": [2, 1], "a": {"z": None, "y": "é"}})
    record(1, subject_id="other", details={"queue": "registry"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT details FROM audit_auditentry WHERE id = 1")
        stored = cursor.fetchone()[0]
    text = stored if isinstance(stored, str) else None
    if connection.vendor == "postgresql":  # psycopg decodes json: read the exact text instead
        with connection.cursor() as cursor:
            cursor.execute("SELECT details::text FROM audit_auditentry WHERE id = 1")
            text = cursor.fetchone()[0]
    assert text == '{"a":{"y":"é","z":null},"b":[2,1],"queue":"licensing"}'
    entries = AuditEntry.objects.order_by("id")
    assert list(entries.filter(details__queue="registry").values_list("id", flat=True)) == [2]
    if connection.vendor == "postgresql":  # Django has no JSON "contains" on SQLite
        assert list(entries.filter(details__contains={"queue": "licensing"}).values_list("id", flat=True)) == [1]
    assert list(entries.filter(details__has_key="b").values_list("id", flat=True)) == [1]
    assert list(entries.filter(details__a__y="é").values_list("id", flat=True)) == [1]
    assert AuditEntry.objects.get(id=1).details == {"a": {"y": "é", "z": None}, "b": [2, 1], "queue": "licensing"}


def test_the_returned_entry_is_the_stored_row(chain: None) -> None:
    # given / when
    with transaction.atomic():
        entry = audit_record(actor=Actor.system("tests"), action=TEST_ACTION, subject_id="7", details={"n": 1})

    # then
    stored = AuditEntry.objects.get(id=entry.id)
    fields = AuditEntry._meta.concrete_fields
    assert [getattr(entry, field.attname) for field in fields] == [getattr(stored, field.attname) for field in fields]
    assert (entry._state.adding, entry._state.db) == (False, "default")
    assert AuditEntry.objects.filter(id__gt=entry.id).count() == 0
