"""Citizen accounts that a link request created and nobody used are removed, their sealed address shredded."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db.models import ProtectedError
from django.test import Client, override_settings

from govserve.accounts import citizens
from govserve.accounts.jobs import citizens_unused_remove_job
from govserve.accounts.models import Citizen, CitizenLink
from govserve.accounts.tests.conftest import sent_emails
from govserve.audit.models import AuditEntry
from govserve.core import clock
from govserve.core.jobs import registered_schedules
from govserve.privacy.crypto import unseal_text
from govserve.privacy.errors import DataKeyDestroyedError
from govserve.privacy.models import DataKey

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://[^\s]+(/sign-in/link/[A-Za-z0-9_-]{43})")


def _ask_for_link(email: str) -> Citizen:
    response = Client().post("/sign-in", {"email": email})
    assert response["Location"] == "/sign-in/check-your-email"
    citizen = citizens.citizen_find_by_email(email)
    assert citizen is not None
    return citizen


def _use_last_link() -> None:
    match = LINK.search(sent_emails()[-1].body)
    assert match is not None
    assert Client().post(match.group(1)).status_code == 302


def _created_ago(citizen: Citizen, **delta: float) -> None:
    """Move the account's creation and its links' back in time (rows take the real time when created)."""
    moment = clock.now() - datetime.timedelta(**delta)
    Citizen.objects.filter(pk=citizen.pk).update(created_at=moment)
    CitizenLink.objects.filter(citizen=citizen).update(created_at=moment)


def _removed_ids() -> list[str]:
    return list(
        AuditEntry.objects.filter(action="accounts.citizen.removed_unused")
        .order_by("id")
        .values_list("subject_id", flat=True)
    )


def test_an_account_never_used_for_seven_days_is_removed_and_its_key_destroyed() -> None:
    # given an account created by a link request seven days ago and never used
    unused = _ask_for_link("never@example.org")
    sealed = bytes(unused.email_sealed)
    _created_ago(unused, days=7, seconds=1)
    # when the housekeeping runs
    removed = citizens.citizens_unused_remove()
    # then the account and its links are gone, and its address can never be read again
    assert removed == 1
    assert not Citizen.objects.filter(pk=unused.pk).exists()
    assert not CitizenLink.objects.filter(citizen_id=unused.pk).exists()
    key = DataKey.objects.get(owner=f"citizen:{unused.pk}")
    assert key.destroyed_at is not None
    assert key.wrapped_key is None
    with pytest.raises(DataKeyDestroyedError):
        unseal_text(owner=f"citizen:{unused.pk}", field="email", sealed=sealed)
    entry = AuditEntry.objects.get(action="accounts.citizen.removed_unused")
    assert (entry.actor_kind, entry.actor_id, entry.subject_type, entry.subject_id, entry.details) == (
        "system",
        "worker",
        "accounts.citizen",
        str(unused.pk),
        {"unused_days": 7},
    )
    assert AuditEntry.objects.filter(action="privacy.data_key.destroyed", subject_id=str(unused.pk)).count() == 1
    # and the same address can start afresh
    again = _ask_for_link("never@example.org")
    assert again.pk != unused.pk


def test_accounts_that_were_used_or_are_in_use_are_kept() -> None:
    # given accounts of every other kind, created eight days ago, and one created six days ago
    signed_in = _ask_for_link("signed-in@example.org")
    _use_last_link()
    trying_again = _ask_for_link("trying-again@example.org")
    with_password = _ask_for_link("password@example.org")
    citizens.citizen_password_set(citizen=with_password, password="a-long-and-unusual-passphrase-1")
    unused = _ask_for_link("unused@example.org")
    for citizen in (signed_in, trying_again, with_password, unused):
        _created_ago(citizen, days=8)
    _ask_for_link("trying-again@example.org")  # a new link today
    young = _ask_for_link("young@example.org")
    _created_ago(young, days=6)
    # when the housekeeping runs
    removed = citizens.citizens_unused_remove()
    # then only the unused one went
    assert removed == 1
    assert _removed_ids() == [str(unused.pk)]
    assert set(Citizen.objects.values_list("pk", flat=True)) == {
        signed_in.pk,
        trying_again.pk,
        with_password.pk,
        young.pk,
    }
    for kept in (signed_in, trying_again, with_password, young):
        assert citizens.citizen_email(Citizen.objects.get(pk=kept.pk)).endswith("@example.org")


def test_just_under_the_period_is_kept() -> None:
    citizen = _ask_for_link("borderline@example.org")
    _created_ago(citizen, days=7, seconds=-5)

    assert citizens.citizens_unused_remove() == 0

    assert Citizen.objects.filter(pk=citizen.pk).exists()
    assert not DataKey.objects.filter(owner=f"citizen:{citizen.pk}", destroyed_at__isnull=False).exists()


@override_settings(GOVSERVE_CITIZEN_UNUSED_DAYS=2)
def test_the_period_is_configurable() -> None:
    citizen = _ask_for_link("short@example.org")
    _created_ago(citizen, days=2, seconds=1)

    assert citizens.citizens_unused_remove() == 1

    assert _removed_ids() == [str(citizen.pk)]
    assert AuditEntry.objects.get(action="accounts.citizen.removed_unused").details == {"unused_days": 2}


@override_settings(GOVSERVE_CITIZEN_UNUSED_DAYS=0)
def test_a_period_below_one_day_is_refused() -> None:
    _created_ago(_ask_for_link("any@example.org"), days=30)

    with pytest.raises(Exception, match="GOVSERVE_CITIZEN_UNUSED_DAYS must be at least 1, not 0"):
        citizens.citizens_unused_remove()

    assert Citizen.objects.count() == 1


def test_an_account_another_app_refers_to_is_kept_with_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # given two unused accounts, one of which another app's rows protect (journeys' applications do)
    protected = _ask_for_link("protected@example.org")
    free = _ask_for_link("free@example.org")
    _created_ago(protected, days=8)
    _created_ago(free, days=8)
    real_delete = Citizen.delete

    def delete(self: Citizen, *args: Any, **kwargs: Any) -> Any:
        if self.pk == protected.pk:
            raise ProtectedError("referenced", set())
        return real_delete(self, *args, **kwargs)

    monkeypatch.setattr(Citizen, "delete", delete)
    # when the housekeeping runs
    removed = citizens.citizens_unused_remove()
    # then the protected one stays whole: row, key and address; no audit entry claims it went
    assert removed == 1
    assert _removed_ids() == [str(free.pk)]
    kept = Citizen.objects.get(pk=protected.pk)
    assert citizens.citizen_email(kept) == "protected@example.org"
    assert DataKey.objects.get(owner=f"citizen:{protected.pk}").destroyed_at is None


def test_batches_and_reruns() -> None:
    for n in range(3):
        _created_ago(_ask_for_link(f"batch{n}@example.org"), days=8)

    assert citizens.citizens_unused_remove(batch_size=2) == 2
    assert citizens.citizens_unused_remove(batch_size=2) == 1
    assert citizens.citizens_unused_remove(batch_size=2) == 0
    assert Citizen.objects.count() == 0
    assert len(_removed_ids()) == 3


def test_the_scheduled_job_is_registered_and_runs() -> None:
    citizen = _ask_for_link("scheduled@example.org")
    _created_ago(citizen, days=8)

    assert "accounts.citizens.remove_unused" in registered_schedules()
    citizens_unused_remove_job()

    assert _removed_ids() == [str(citizen.pk)]
