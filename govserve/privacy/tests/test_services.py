"""Key rotation (re-wrapping data keys) and retirement of key-encryption keys."""

from __future__ import annotations

import pytest

from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.privacy.crypto import data_key_cache_clear, data_key_destroy, seal, unseal_text
from govserve.privacy.errors import DecryptionError, KeyInUseError, KeyRetireRefusedError, RotationBlockedError
from govserve.privacy.models import DataKey
from govserve.privacy.selectors import data_key_counts
from govserve.privacy.services import RotationProgress, data_keys_rotate, key_encryption_key_retire
from govserve.privacy.tests.kek import NEW_KEK, OLD_KEK, OTHER_KEK

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def seal_for_owners(count: int, *, prefix: str = "application:owner") -> list[tuple[str, bytes]]:
    return [
        (f"{prefix}-{i}", seal(owner=f"{prefix}-{i}", field="answers.name", plaintext=f"Name {i}"))
        for i in range(count)
    ]


def kek_ids() -> dict[str, int]:
    return data_key_counts().live_by_kek


def test_rotation_rewraps_every_data_key_under_the_current_kek_in_batches(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    sealed = seal_for_owners(25)
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]
    progress: list[RotationProgress] = []

    result = data_keys_rotate(actor=ACTOR, batch_size=10, on_batch=progress.append)

    assert (result.to_kek_id, result.rewrapped, result.batches, result.remaining) == ("new", 25, 3, 0)
    assert result.complete
    assert result.rewrapped_by_kek == {"old": 25}
    assert [(p.batch, p.rewrapped_in_batch, p.rewrapped_total, p.remaining) for p in progress] == [
        (1, 10, 10, 15),
        (2, 10, 20, 5),
        (3, 5, 25, 0),
    ]
    assert kek_ids() == {"new": 25}
    # The old KEK can leave the configuration: every value still opens.
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]
    data_key_cache_clear()
    assert [unseal_text(owner=o, field="answers.name", sealed=s) for o, s in sealed] == [f"Name {i}" for i in range(25)]


def test_rotation_is_audited_per_batch_and_per_run(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(15)
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    data_keys_rotate(actor=ACTOR, batch_size=10)

    batches = AuditEntry.objects.filter(action="privacy.data_keys.rewrapped").order_by("id")
    assert [entry.details for entry in batches] == [
        {"from_kek_id": "old", "to_kek_id": "new", "count": 10, "batch": 1},
        {"from_kek_id": "old", "to_kek_id": "new", "count": 5, "batch": 2},
    ]
    run = AuditEntry.objects.get(action="privacy.keys.rotated")
    assert (run.actor_kind, run.actor_id, run.subject_type, run.subject_id) == (
        "system",
        "test",
        "key_encryption_key",
        "new",
    )
    assert run.details == {
        "to_kek_id": "new",
        "rewrapped": 15,
        "rewrapped_by_kek": {"old": 15},
        "batches": 2,
        "remaining": 0,
        "complete": True,
    }


def test_rotation_with_nothing_to_do_changes_nothing(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(3)
    before = list(DataKey.objects.order_by("id").values_list("id", "wrapped_key", "kek_id", "updated_at"))

    result = data_keys_rotate(actor=ACTOR)

    assert (result.rewrapped, result.batches, result.remaining) == (0, 0, 0)
    assert list(DataKey.objects.order_by("id").values_list("id", "wrapped_key", "kek_id", "updated_at")) == before
    assert AuditEntry.objects.filter(action="privacy.data_keys.rewrapped").count() == 0
    assert AuditEntry.objects.get(action="privacy.keys.rotated").details["rewrapped"] == 0


def test_an_interrupted_rotation_keeps_its_finished_batches_and_resumes(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    sealed = seal_for_owners(25)
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    def crash_after_first_batch(progress: RotationProgress) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        data_keys_rotate(actor=ACTOR, batch_size=10, on_batch=crash_after_first_batch)

    assert kek_ids() == {"new": 10, "old": 15}
    assert AuditEntry.objects.filter(action="privacy.data_keys.rewrapped").count() == 1
    assert not AuditEntry.objects.filter(action="privacy.keys.rotated").exists()

    result = data_keys_rotate(actor=ACTOR, batch_size=10)

    assert (result.rewrapped, result.batches, result.remaining) == (15, 2, 0)
    assert kek_ids() == {"new": 25}
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]
    data_key_cache_clear()
    assert [unseal_text(owner=o, field="answers.name", sealed=s) for o, s in sealed] == [f"Name {i}" for i in range(25)]


def test_max_batches_stops_early_and_reports_what_is_left(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(25)
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    result = data_keys_rotate(actor=ACTOR, batch_size=10, max_batches=2)

    assert (result.rewrapped, result.batches, result.remaining, result.complete) == (20, 2, 5, False)
    assert kek_ids() == {"new": 20, "old": 5}
    assert AuditEntry.objects.get(action="privacy.keys.rotated").details["complete"] is False


def test_rotation_rewraps_keys_of_several_old_keks(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(4, prefix="application:a")
    settings.GOVSERVE_KEYS = [OTHER_KEK, OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(3, prefix="application:b")
    settings.GOVSERVE_KEYS = [NEW_KEK, OTHER_KEK, OLD_KEK]  # type: ignore[attr-defined]

    result = data_keys_rotate(actor=ACTOR, batch_size=2)

    assert result.rewrapped_by_kek == {"old": 4, "other": 3}
    assert result.batches == 4  # old: 2 + 2; other: 2 + 1
    assert kek_ids() == {"new": 7}


def test_rotation_leaves_destroyed_keys_destroyed(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(3)
    data_key_destroy(owner="application:owner-1")
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    result = data_keys_rotate(actor=ACTOR)

    assert result.rewrapped == 2
    destroyed = DataKey.objects.get(owner="application:owner-1")
    assert (destroyed.wrapped_key, destroyed.kek_id) == (None, "")
    assert data_key_counts().destroyed == 1


def test_rotation_is_refused_while_a_kek_in_use_is_not_configured(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(3)
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]
    before = list(DataKey.objects.order_by("id").values_list("wrapped_key", "kek_id"))

    with pytest.raises(RotationBlockedError) as refused:
        data_keys_rotate(actor=ACTOR)

    assert refused.value.code == "key_rotation_blocked"
    assert "missing from GOVSERVE_KEYS: old" in str(refused.value)
    assert list(DataKey.objects.order_by("id").values_list("wrapped_key", "kek_id")) == before
    assert not AuditEntry.objects.filter(action__startswith="privacy.").exists()


def test_a_corrupt_wrapped_key_stops_rotation_after_the_batches_before_it(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(6)
    ordered = list(DataKey.objects.order_by("id"))
    corrupt = ordered[4]
    DataKey.objects.filter(pk=corrupt.pk).update(wrapped_key=bytes(32 + 12 + 16))
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    with pytest.raises(DecryptionError, match=corrupt.owner):
        data_keys_rotate(actor=ACTOR, batch_size=2)

    # Batches 1 and 2 committed; the third (holding the corrupt key) rolled back whole.
    assert sorted(DataKey.objects.filter(kek_id="new").values_list("owner", flat=True)) == sorted(
        row.owner for row in ordered[:4]
    )
    assert kek_ids() == {"new": 4, "old": 2}


@pytest.mark.parametrize("batch_size", [0, -1, 10_001])
def test_rotation_refuses_a_batch_size_out_of_range(batch_size: int) -> None:
    with pytest.raises(ValueError, match="batch_size must be between 1 and 10000"):
        data_keys_rotate(actor=ACTOR, batch_size=batch_size)

    assert not AuditEntry.objects.exists()


# --- Retirement -----------------------------------------------------------------------------------


def test_a_kek_in_use_cannot_be_retired(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(3)
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    with pytest.raises(KeyInUseError) as refused:
        key_encryption_key_retire(kek_id="old", actor=ACTOR)

    assert refused.value.code == "key_encryption_key_in_use"
    assert str(refused.value) == "3 data keys are still wrapped by 'old': run `govserve keys rotate` first"
    assert not AuditEntry.objects.filter(action="privacy.keys.retired").exists()


def test_a_kek_is_retired_once_rotation_moved_every_key_off_it(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(3)
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]
    data_keys_rotate(actor=ACTOR)

    key_encryption_key_retire(kek_id="old", actor=ACTOR)

    entry = AuditEntry.objects.get(action="privacy.keys.retired")
    assert (entry.subject_type, entry.subject_id) == ("key_encryption_key", "old")
    assert entry.details == {"kek_id": "old", "current_kek_id": "new"}


def test_destroyed_keys_do_not_keep_a_kek_in_use(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal_for_owners(1)
    data_key_destroy(owner="application:owner-0")
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    key_encryption_key_retire(kek_id="old", actor=ACTOR)

    assert AuditEntry.objects.filter(action="privacy.keys.retired").count() == 1


def test_the_current_kek_cannot_be_retired(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    with pytest.raises(KeyRetireRefusedError, match="'new' is the current key"):
        key_encryption_key_retire(kek_id="new", actor=ACTOR)

    assert not AuditEntry.objects.exists()


def test_an_unconfigured_kek_cannot_be_retired(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    with pytest.raises(KeyRetireRefusedError, match="'typo' is not in GOVSERVE_KEYS; configured: new, old"):
        key_encryption_key_retire(kek_id="typo", actor=ACTOR)

    assert not AuditEntry.objects.exists()
