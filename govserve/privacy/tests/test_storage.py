"""Nothing personal reaches the database or its files in clear; rotation holds under load; secure_delete is on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from govserve.privacy.crypto import data_key_cache_clear, seal, unseal_text
from govserve.privacy.models import DataKey
from govserve.privacy.testing import assert_no_plaintext, plaintext_scan
from govserve.privacy.tests import scenarios
from govserve.privacy.tests.scenarios import (
    CLEAR_CONTROL,
    PERSONAL_VALUES,
    ScanProbe,
    probe_table_create,
    probe_table_drop,
    run_on_sqlite_file,
    store_personal_values,
)


@pytest.fixture(scope="module")
def raw_scan_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The SQLite file scenario, run once for the tests that read its parts."""
    directory = tmp_path_factory.mktemp("raw_scan")
    result = run_on_sqlite_file("raw_scan", directory)
    result["directory"] = str(directory)
    return result


@pytest.fixture
def probe_table() -> Iterator[None]:
    probe_table_create()
    yield
    probe_table_drop()


# --- On the test database (SQLite in memory, or PostgreSQL) -------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("probe_table")
def test_sealed_values_appear_in_no_table_row() -> None:
    store_personal_values()

    report = assert_no_plaintext(PERSONAL_VALUES)

    assert {"privacy_datakey", "privacy_scan_probe", "audit_auditentry"} <= set(report.tables)
    assert ScanProbe.objects.count() == 5
    assert DataKey.objects.count() == 3
    assert report.rows >= 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("probe_table")
def test_the_table_scan_finds_values_written_in_clear() -> None:
    store_personal_values()
    with transaction.atomic():
        ScanProbe.objects.create(owner="control", field_name="note", sealed=b"", note=CLEAR_CONTROL)
        ScanProbe.objects.create(owner="control", field_name="note", sealed=CLEAR_CONTROL.encode("utf-16-le"))

    report = plaintext_scan([*PERSONAL_VALUES, CLEAR_CONTROL])

    control = len(PERSONAL_VALUES)
    assert sorted((f.value_index, f.encoding) for f in report.findings) == [(control, "utf-16-le"), (control, "utf-8")]
    assert all(f.where.startswith("table privacy_scan_probe column ") for f in report.findings)
    with pytest.raises(AssertionError, match=r"value 6 \(utf-8\) in table privacy_scan_probe column note"):
        assert_no_plaintext([*PERSONAL_VALUES, CLEAR_CONTROL])


@pytest.mark.django_db
def test_sqlite_connections_run_with_secure_delete() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragma; the SQLite file scenario checks it in every run")

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        secure_delete = cursor.fetchone()[0]

    assert secure_delete == 1


@pytest.mark.django_db(transaction=True)
def test_rotation_under_load_on_the_test_database() -> None:
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite shares one cache between threads: the SQLite file scenario covers SQLite")

    result = scenarios.rotation_under_load_scenario(owners=200, writers=2, batch_size=20)

    _assert_rotation_under_load(result, owners=200, writers=2, batches=10)


# --- On a SQLite database file in WAL mode (subprocess; runs in the PostgreSQL job as well) ---------------


def test_sealed_values_appear_nowhere_in_the_sqlite_file_or_its_wal(raw_scan_result: dict[str, Any]) -> None:
    result = raw_scan_result

    assert result["journal_mode"] == "wal"
    assert result["secure_delete"] == 1
    assert result["wal_bytes_before_scan"] > 0
    assert result["sealed"]["findings"] == []
    assert result["sealed"]["files"] == ["scenario.sqlite3", "scenario.sqlite3-wal"]
    assert result["sealed"]["file_bytes"] >= result["wal_bytes_before_scan"]
    assert {"privacy_datakey", "privacy_scan_probe", "audit_auditentry"} <= set(result["sealed"]["tables"])
    assert result["read_back_ok"] is True


def test_the_file_scan_finds_values_written_in_clear(raw_scan_result: dict[str, Any]) -> None:
    findings = raw_scan_result["control"]["findings"]

    places = {(index, encoding, where.split(" offset ")[0].split(" row ")[0]) for index, encoding, where in findings}
    wal = f"file {Path(raw_scan_result['directory']) / 'scenario.sqlite3-wal'}"
    assert places == {
        (0, "utf-8", "table privacy_scan_probe column note"),
        (1, "base64@0", "table privacy_scan_probe column note"),
        (0, "utf-8", wal),
        (1, "base64@0", wal),
    }


def test_secure_delete_leaves_no_deleted_value_in_the_sqlite_file(raw_scan_result: dict[str, Any]) -> None:
    result = raw_scan_result

    assert result["deleted_left_with_secure_delete"] is False
    # The same steps with secure_delete off leave the bytes behind: the check can fail.
    assert result["deleted_left_without_secure_delete"] is True


def test_rotation_under_load_on_a_sqlite_file(tmp_path: Path) -> None:
    result = run_on_sqlite_file("rotation_under_load", tmp_path)

    _assert_rotation_under_load(result, owners=300, writers=2, batches=12)


def _assert_rotation_under_load(result: dict[str, Any], *, owners: int, writers: int, batches: int) -> None:
    assert result["errors"] == []
    assert result["rewrapped"] == owners
    assert result["batches"] == batches
    assert result["remaining"] == 0
    # One pair of values per writer before the first batch and after each batch.
    assert result["written"] == writers * (batches + 1) * 2
    assert result["values_checked"] == owners + result["written"]
    assert result["unreadable"] == 0
    assert result["kek_ids"] == {"new": owners + writers * (batches + 1)}


@pytest.mark.django_db(transaction=True)
def test_two_transactions_sealing_a_new_owner_at_once_share_one_data_key() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's IMMEDIATE transactions serialise writers: no two first seals can overlap")
    owner = "application:concurrent-first-seal"
    first_sealed = threading.Event()
    results: dict[str, bytes] = {}
    errors: list[str] = []

    def first_writer() -> None:
        try:
            with transaction.atomic():
                results["first"] = seal(owner=owner, field="answers.name", plaintext="First writer")
                first_sealed.set()
                time.sleep(0.5)  # the second writer's INSERT now waits on the unique owner
        except Exception as error:  # asserted below
            errors.append(repr(error))
        finally:
            first_sealed.set()
            connection.close()

    thread = threading.Thread(target=first_writer)
    thread.start()
    first_sealed.wait(timeout=10)
    with transaction.atomic():
        results["second"] = seal(owner=owner, field="answers.name", plaintext="Second writer")
    thread.join(timeout=10)

    assert errors == []
    assert DataKey.objects.filter(owner=owner).count() == 1
    assert results["first"][1:17] == results["second"][1:17] == DataKey.objects.get(owner=owner).id.bytes
    data_key_cache_clear()
    assert unseal_text(owner=owner, field="answers.name", sealed=results["first"]) == "First writer"
    assert unseal_text(owner=owner, field="answers.name", sealed=results["second"]) == "Second writer"
