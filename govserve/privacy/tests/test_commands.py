"""``govserve keys status|rotate|retire|generate``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govserve.audit.models import AuditEntry
from govserve.privacy.crypto import data_key_destroy, seal
from govserve.privacy.keys import parse_key_ring
from govserve.privacy.selectors import data_key_counts
from govserve.privacy.tests.kek import NEW_KEK, OLD_KEK

pytestmark = pytest.mark.django_db


def keys(*arguments: str) -> str:
    out = io.StringIO()
    call_command("keys", *arguments, stdout=out)
    return out.getvalue()


def seal_under_old(settings: object, count: int) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    for index in range(count):
        seal(owner=f"application:cmd-{index}", field="answers.name", plaintext="Ada")
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]


def test_status_counts_data_keys_per_kek(settings: object) -> None:
    seal_under_old(settings, 3)
    seal(owner="application:cmd-new", field="answers.name", plaintext="Ada")
    data_key_destroy(owner="application:cmd-0")

    output = keys("status")

    assert output.splitlines() == [
        "Key-encryption keys (GOVSERVE_KEYS, current first):",
        f"  {'new':<32} {'current':<9} {1:>10} data keys",
        f"  {'old':<32} {'readable':<9} {2:>10} data keys",
        "Destroyed data keys (crypto-shredded): 1",
        "2 data keys are not under the current key: run `govserve keys rotate`.",
    ]


def test_status_as_json(settings: object) -> None:
    seal_under_old(settings, 2)

    report = json.loads(keys("status", "--json"))

    assert report == {
        "current": "new",
        "configured": {"new": 0, "old": 2},
        "unconfigured_in_use": {},
        "destroyed": 0,
        "not_under_current": 2,
    }


def test_status_fails_when_data_keys_use_a_missing_kek(settings: object) -> None:
    seal_under_old(settings, 2)
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]
    out = io.StringIO()

    with pytest.raises(CommandError, match="missing from GOVSERVE_KEYS: old"):
        call_command("keys", "status", stdout=out)

    assert f"  {'old':<32} {'MISSING':<9} {2:>10} data keys  (unreadable: configure it)" in out.getvalue()


def test_rotate_prints_progress_and_rewraps_everything(settings: object) -> None:
    seal_under_old(settings, 5)

    output = keys("rotate", "--batch-size", "2")

    assert output.splitlines() == [
        "Rotating to key-encryption key 'new': 5 data keys to re-wrap (old: 5).",
        "batch 1: 2 re-wrapped from 'old' (2 done, about 3 left)",
        "batch 2: 2 re-wrapped from 'old' (4 done, about 1 left)",
        "batch 3: 1 re-wrapped from 'old' (5 done, about 0 left)",
        "Done: 5 data keys re-wrapped in 3 batches; every live data key is under 'new'.",
    ]
    assert data_key_counts().live_by_kek == {"new": 5}
    assert AuditEntry.objects.get(action="privacy.keys.rotated").actor_id == "cli"


def test_rotate_with_max_batches_says_how_to_continue(settings: object) -> None:
    seal_under_old(settings, 5)

    output = keys("rotate", "--batch-size", "2", "--max-batches", "1")

    assert output.splitlines()[-1] == (
        "Stopped after 1 batch (2 re-wrapped): 3 data keys are still under other keys; "
        "run `govserve keys rotate` again to continue."
    )
    assert data_key_counts().live_by_kek == {"new": 2, "old": 3}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--batch-size", "0"), "batch_size must be between 1 and 10000"),
        (("--max-batches", "0"), "--max-batches must be at least 1"),
    ],
)
def test_rotate_refuses_bad_numbers(settings: object, arguments: tuple[str, ...], message: str) -> None:
    seal_under_old(settings, 1)

    with pytest.raises(CommandError, match=message):
        keys("rotate", *arguments)

    assert data_key_counts().live_by_kek == {"old": 1}


def test_rotate_reports_keys_it_cannot_open(settings: object) -> None:
    seal_under_old(settings, 1)
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]

    with pytest.raises(CommandError, match="missing from GOVSERVE_KEYS: old"):
        keys("rotate")


def test_retire_refuses_while_keys_use_the_kek_then_retires(settings: object) -> None:
    seal_under_old(settings, 2)

    with pytest.raises(CommandError, match="2 data keys are still wrapped by 'old'"):
        keys("retire", "old")
    keys("rotate")
    output = keys("retire", "old")

    assert output.startswith("Retired key-encryption key 'old': no data key uses it.")
    assert AuditEntry.objects.filter(action="privacy.keys.retired", subject_id="old").count() == 1


def test_generate_prints_a_usable_new_entry() -> None:
    entry = keys("generate", "2027-01").strip()

    ring = parse_key_ring([entry])
    assert ring.current.id == "2027-01"
    assert len(ring.current.material) == 32
    assert keys("generate", "2027-01").strip() != entry


def test_generate_refuses_a_malformed_id() -> None:
    with pytest.raises(CommandError, match="the id must be 1-32 characters"):
        keys("generate", "bad id")


def test_status_marks_an_unused_older_key(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    output = keys("status")

    assert output.splitlines()[1:3] == [
        f"  {'new':<32} {'current':<9} {0:>10} data keys",
        f"  {'old':<32} {'readable':<9} {0:>10} data keys  (unused)",
    ]
    assert output.splitlines()[-1] == "Every live data key is under the current key 'new'."
