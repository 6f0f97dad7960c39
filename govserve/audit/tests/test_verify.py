"""``verify_chain`` finds every kind of tampering done with raw SQL behind the triggers' back."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govserve.audit import guards
from govserve.audit.actors import Actor
from govserve.audit.chain import GENESIS_HASH
from govserve.audit.models import AuditChainHead, AuditEntry
from govserve.audit.sealer import seal_pending
from govserve.audit.tests.conftest import NO_GRACE, TEST_ACTION, record, sequence_restart
from govserve.audit.verify import _RangeTask, _run_in_workers, verify_chain
from govserve.core import clock

Attacker = Callable[..., int]


def _problems(**kwargs: object) -> list[tuple[str, int | None]]:
    report = verify_chain(**kwargs)  # type: ignore[arg-type]
    return [(problem.kind, problem.entry_id) for problem in report.problems]


def _sealed_chain(count: int = 6) -> None:
    record(count)
    assert seal_pending(hole_grace=NO_GRACE).sealed == count


def test_an_untouched_chain_is_intact(chain: None) -> None:
    # given six sealed entries and two awaiting their seal
    _sealed_chain(6)
    record(2)
    # when the chain is verified
    report = verify_chain()
    # then it is intact, all sealed entries were checked on the fast path, the head is #6
    assert report.intact
    assert (report.checked, report.unsealed, report.problems, report.warnings) == (6, 2, [], [])
    assert report.slow_path_rows == 0
    head = AuditChainHead.objects.get()
    assert (report.head.id, report.head.hash) == (6, head.last_hash)
    assert report.head.hash == AuditEntry.objects.get(id=6).entry_hash


def test_an_empty_chain_is_intact(chain: None) -> None:
    report = verify_chain()
    assert report.intact
    assert (report.checked, report.head.id, report.head.hash) == (0, 0, GENESIS_HASH)


def test_a_changed_field_is_reported_as_altered(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    assert attacker("UPDATE audit_auditentry SET subject_id = 'someone-else' WHERE id = 3") == 1
    assert _problems() == [("altered", 3)]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_id", "forged-actor"),
        ("action", "audit.chain.verified"),
        ("outcome", "denied"),
        ("details", '{"number":2,"queue":"elsewhere"}'),
        ("actor_is_supplier", True),
        ("request_id", "r"),
    ],
)
def test_every_covered_field_is_protected(chain: None, attacker: Attacker, column: str, value: object) -> None:
    _sealed_chain()
    attacker(f"UPDATE audit_auditentry SET {column} = %s WHERE id = 2", [value])  # noqa: S608
    assert _problems() == [("altered", 2)]


def test_changed_timestamps_are_altered_entries(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    moved = clock.now() - dt.timedelta(days=3)
    attacker("UPDATE audit_auditentry SET occurred_at = %s WHERE id = 4", [moved])
    attacker("UPDATE audit_auditentry SET sealed_at = %s WHERE id = 5", [moved])
    assert _problems() == [("altered", 4), ("altered", 5)]


def test_a_deleted_entry_in_the_middle_is_reported_as_missing(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker("DELETE FROM audit_auditentry WHERE id = 3")
    assert _problems() == [("missing", 3)]


def test_deleted_entries_at_the_end_are_reported_against_the_head(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker("DELETE FROM audit_auditentry WHERE id >= 5")
    report = verify_chain()
    assert [(p.kind, p.entry_id) for p in report.problems] == [("missing", 5)]
    assert report.problems[0].message == "entries 5..6 are missing: the chain head says 6 entries are sealed"


def test_a_forged_entry_inserted_after_the_head_is_reported(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker(
        "INSERT INTO audit_auditentry (id, occurred_at, actor_kind, actor_id, actor_is_supplier, action,"
        " subject_type, subject_id, outcome, request_id, details, previous_hash, entry_hash, sealed_at)"
        " SELECT 7, occurred_at, actor_kind, actor_id, actor_is_supplier, action, subject_type, 'forged', outcome,"
        " request_id, details, entry_hash, %s, sealed_at FROM audit_auditentry WHERE id = 6",
        ["f" * 64],
    )
    assert _problems() == [("inserted", 7)]


def test_a_forged_entry_inserted_before_the_start_is_reported(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker(
        "INSERT INTO audit_auditentry (id, occurred_at, actor_kind, actor_id, actor_is_supplier, action,"
        " subject_type, subject_id, outcome, request_id, details, previous_hash, entry_hash, sealed_at)"
        " SELECT 0, occurred_at, actor_kind, actor_id, actor_is_supplier, action, subject_type, subject_id,"
        " outcome, request_id, details, previous_hash, entry_hash, sealed_at FROM audit_auditentry WHERE id = 1"
    )
    assert _problems() == [("inserted", 0)]


def test_swapped_entries_are_reported(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker("UPDATE audit_auditentry SET id = -3 WHERE id = 3")
    attacker("UPDATE audit_auditentry SET id = 3 WHERE id = 4")
    attacker("UPDATE audit_auditentry SET id = 4 WHERE id = -3")
    # each swapped entry's hash covers its id and no longer matches; the links 3, 4 and 5 are broken
    assert _problems() == [("altered", 3), ("broken_link", 3), ("altered", 4), ("broken_link", 4), ("broken_link", 5)]


def test_a_changed_hash_is_reported_with_the_broken_link_after_it(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker("UPDATE audit_auditentry SET entry_hash = %s WHERE id = 2", ["a" * 64])
    assert _problems() == [("altered", 2), ("broken_link", 3)]


def test_a_rehashed_tail_is_caught_by_an_anchor_exported_earlier(chain: None, attacker: Attacker) -> None:
    # given the head exported as an anchor, then the attacker rewrites entry 6 and recomputes its hash and the head
    _sealed_chain()
    anchor = verify_chain().head
    attacker("UPDATE audit_auditentry SET subject_id = 'rewritten', sealed_at = NULL, entry_hash = '' WHERE id = 6")
    attacker(
        "UPDATE audit_auditchainhead SET last_sealed_id = 5, last_hash = %s", [AuditEntry.objects.get(id=5).entry_hash]
    )
    assert seal_pending(hole_grace=NO_GRACE).sealed == 1
    # then the chain itself looks intact, but not against the anchor
    assert _problems() == []
    assert _problems(anchors={anchor.id: anchor.hash}) == [("anchor_mismatch", 6)]


def test_a_head_rolled_back_is_caught_by_an_anchor(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    anchor = verify_chain().head
    attacker("DELETE FROM audit_auditentry WHERE id = 6")
    attacker(
        "UPDATE audit_auditchainhead SET last_sealed_id = 5, last_hash = %s", [AuditEntry.objects.get(id=5).entry_hash]
    )
    assert _problems() == []
    assert _problems(anchors={anchor.id: anchor.hash}) == [("anchor_mismatch", 6)]


def test_a_changed_head_hash_is_reported(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker("UPDATE audit_auditchainhead SET last_hash = %s", ["b" * 64])
    assert _problems() == [("head_mismatch", 6)]


def test_a_removed_seal_inside_the_sealed_range_is_an_altered_entry(chain: None, attacker: Attacker) -> None:
    _sealed_chain()
    attacker("UPDATE audit_auditentry SET sealed_at = NULL WHERE id = 2")
    report = verify_chain()
    assert [(p.kind, p.entry_id) for p in report.problems] == [("altered", 2)]
    assert (
        report.problems[0].message
        == "entry 2 was altered: it cannot be read canonically: it has no seal (sealed_at is empty)"
    )


def test_entries_unsealed_too_long_are_reported(chain: None, attacker: Attacker) -> None:
    # given two sealed entries, one entry ten minutes old and one fresh, both unsealed
    _sealed_chain(2)
    record(2)
    attacker("UPDATE audit_auditentry SET occurred_at = %s WHERE id = 3", [clock.now() - dt.timedelta(minutes=10)])
    # then only the old one is reported with the default five minutes, and none with an hour allowed
    assert _problems() == [("unsealed_too_long", 3)]
    assert _problems(max_unsealed_age=dt.timedelta(hours=1)) == []


def test_nested_details_and_unusual_strings_verify_on_the_slow_path_without_false_reports(chain: None) -> None:
    record(3, subject_id='quote " backslash \\ tab \t nul-free \x01 é 字', details={"list": [{"b": 1, "a": [None]}]})
    seal_pending(hole_grace=NO_GRACE)
    report = verify_chain()
    assert report.intact, report.problems
    assert report.checked == 3


def test_missing_guard_triggers_are_a_warning(chain: None) -> None:
    _sealed_chain(1)
    guards.uninstall(connection)
    try:
        report = verify_chain()
    finally:
        guards.install(connection)
    assert report.intact
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("append-only guard triggers are missing (")


@pytest.mark.django_db(transaction=True)
def test_worker_processes_find_exactly_what_one_process_finds(live_audit_database: str) -> None:
    # given a chain of 40 entries in a database worker processes can open
    alias = live_audit_database
    with transaction.atomic(using=alias):
        for number in range(40):
            AuditEntry.objects.using(alias).create(
                actor_kind="system", actor_id="tests", action=TEST_ACTION, subject_id=str(number)
            )
    seal_pending(using=alias)
    intact = verify_chain(using=alias, workers=4)
    assert (intact.intact, intact.workers, intact.checked) == (True, 4, 40)
    # when an attacker changes an entry at a range edge, swaps two entries across another edge and
    # deletes entries across a third (ranges: 1-10, 11-20, 21-30, 31-40)
    with connections[alias].cursor() as cursor:
        guards.uninstall(connections[alias])
        cursor.execute("UPDATE audit_auditentry SET subject_id = 'forged' WHERE id = 11")
        cursor.execute("UPDATE audit_auditentry SET id = -20 WHERE id = 20")
        cursor.execute("UPDATE audit_auditentry SET id = 20 WHERE id = 21")
        cursor.execute("UPDATE audit_auditentry SET id = 21 WHERE id = -20")
        cursor.execute("DELETE FROM audit_auditentry WHERE id BETWEEN 29 AND 32")
        guards.install(connections[alias])
    # then four workers report exactly what one process reports
    parallel = verify_chain(using=alias, workers=4)
    sequential = verify_chain(using=alias, workers=1)
    assert (parallel.workers, sequential.workers) == (4, 1)
    assert parallel.problems == sequential.problems
    assert [(p.kind, p.entry_id) for p in parallel.problems] == [
        ("altered", 11),
        ("altered", 20),
        ("broken_link", 20),
        ("altered", 21),
        ("broken_link", 21),
        ("broken_link", 22),
        ("missing", 29),
    ]
    assert parallel.problems[-1].message == "entries 29..32 are missing (deleted)"
    assert parallel.checked == sequential.checked == 36


class _UndoError(Exception):
    pass


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=_TEXT,
    details=st.dictionaries(_TEXT, st.one_of(st.none(), st.booleans(), st.integers(), _TEXT), max_size=3),
)
def test_any_stored_text_verifies_and_only_control_characters_take_the_slow_path(
    chain: None, text: str, details: dict[str, object]
) -> None:
    # (NUL is refused by PostgreSQL text and jsonb alike, so no entry can hold it.)
    try:
        with transaction.atomic():
            sequence_restart()
            record(2, subject_id=text, actor=Actor.for_citizen(text), details=details)
            seal_pending()
            report = verify_chain()
            assert report.intact, report.problems
            assert report.checked == 2
            # PostgreSQL quotes the string columns in SQL by escaping \ and " only (details go through Python)
            controls = any(ord(c) < 0x20 for c in text)
            assert report.slow_path_rows == (2 if controls and connection.vendor == "postgresql" else 0)
            raise _UndoError
    except _UndoError:
        pass


def test_a_failing_worker_process_fails_the_verification(tmp_path: Path) -> None:
    # given a range task against a database without the audit tables
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    task = _RangeTask(
        vendor="sqlite",
        connect={"database": str(empty)},
        snapshot=None,
        lower=0,
        upper=10,
        first_range=True,
        anchors={},
    )
    # then the worker's error is raised in the parent, not reported as an intact range
    with pytest.raises(sqlite3.OperationalError, match="no such table: audit_auditentry"):
        _run_in_workers([task])
