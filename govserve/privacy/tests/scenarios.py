"""Scenarios that need committed data on a real database file: run in-process or in a subprocess.

The test database of an ordinary SQLite run lives in memory (no file, no WAL
to scan) and shares one cache between threads (no realistic concurrency), so
the SQLite variants of these scenarios run in a subprocess against a
temporary database file in WAL mode, with the project's own connection
settings; PostgreSQL runs them in-process in ``transaction=True`` tests.

    run_on_sqlite_file("raw_scan", tmp_path)       # or "rotation_under_load"
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from django.apps.registry import Apps
from django.db import connection, models, transaction
from django.test.utils import override_settings

from govserve.audit.actors import Actor
from govserve.privacy.crypto import data_key_cache_clear, seal, unseal_text
from govserve.privacy.models import DataKey
from govserve.privacy.services import RotationProgress, data_keys_rotate
from govserve.privacy.testing import plaintext_scan, sqlite_database_files
from govserve.privacy.tests.kek import NEW_KEK, OLD_KEK

RESULT_MARKER = "SCENARIO-RESULT "

# Distinctive personal values: none can occur by chance in random bytes.
PERSONAL_VALUES = [
    "Ada Augusta Lovelace-Byron",
    "ada.lovelace.1815@example.org",
    "QQ 12 34 56 C national insurance",
    "12 Analytical Engine Street, Marylebone",
    "Siân Llŷr Ó'Brien-Ångström",
    "+44 7700 900 123 mobile",
]
CLEAR_CONTROL = "Control value written in clear 4242"
BASE64_CONTROL = "Control value hidden in base64 7373"
DELETED_SECURE = "Deleted with secure_delete on 5151"
DELETED_INSECURE = "Deleted with secure_delete off 6161"

_probe_apps = Apps()


class ScanProbe(models.Model):
    """A stand-in for an app's model holding a sealed value (isolated registry: no migration, no app)."""

    owner = models.CharField(max_length=100)
    field_name = models.CharField(max_length=100)
    sealed = models.BinaryField()
    note = models.TextField(blank=True, default="")

    objects: models.Manager[ScanProbe] = models.Manager()

    class Meta:
        apps = _probe_apps
        app_label = "privacy_scan_probe"
        db_table = "privacy_scan_probe"

    def __str__(self) -> str:
        return f"probe {self.pk} of {self.owner}"


def probe_table_create() -> None:
    """Create the probe table (outside any transaction)."""
    with connection.schema_editor() as editor:
        editor.create_model(ScanProbe)


def probe_table_drop() -> None:
    """Drop the probe table."""
    with connection.schema_editor() as editor:
        editor.delete_model(ScanProbe)


def store_personal_values() -> list[tuple[str, str, bytes]]:
    """Seal PERSONAL_VALUES through the storage path (seal + ORM save, committed); return what was stored."""
    stored = []
    for index, value in enumerate(PERSONAL_VALUES):
        owner = f"application:scan-{index % 3}"
        field_name = f"answers.value_{index}"
        with transaction.atomic():
            sealed = seal(owner=owner, field=field_name, plaintext=value)
            ScanProbe.objects.create(owner=owner, field_name=field_name, sealed=sealed)
        stored.append((owner, field_name, sealed))
    # A replaced value and a deleted row: old versions and freed cells exist too.
    with transaction.atomic():
        probe = ScanProbe.objects.get(field_name="answers.value_0")
        probe.sealed = seal(owner=probe.owner, field=probe.field_name, plaintext=PERSONAL_VALUES[0] + " (corrected)")
        probe.save()
    with transaction.atomic():
        ScanProbe.objects.filter(field_name="answers.value_5").delete()
    return stored


def _report_dict(report: Any) -> dict[str, Any]:
    return {
        "findings": [[f.value_index, f.encoding, f.where] for f in report.findings],
        "tables": list(report.tables),
        "rows": report.rows,
        "files": [Path(f).name for f in report.files],
        "file_bytes": report.file_bytes,
    }


def _checkpoint_truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _deleted_value_left_in_file(value: str, *, secure_delete: bool) -> bool:
    """Write ``value`` in clear, delete it, checkpoint; return whether its bytes remain in the database file."""
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA secure_delete={'ON' if secure_delete else 'OFF'}")
    try:
        with transaction.atomic():
            ScanProbe.objects.create(owner="control", field_name="note", sealed=b"", note=value)
        _checkpoint_truncate()
        with transaction.atomic():
            ScanProbe.objects.filter(note=value).delete()
        _checkpoint_truncate()
        report = plaintext_scan([value])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete=ON")
    return any(finding.where.startswith("file ") for finding in report.findings)


def raw_scan_scenario() -> dict[str, Any]:
    """Store sealed personal values, scan everything raw; then prove the scan finds clear values (SQLite file)."""
    probe_table_create()
    stored = store_personal_values()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        secure_delete = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
    wal_files = [p for p in sqlite_database_files() if p.name.endswith("-wal")]
    wal_bytes = wal_files[0].stat().st_size if wal_files else 0
    sealed_report = plaintext_scan(PERSONAL_VALUES)
    data_key_cache_clear()
    read_back = [unseal_text(owner=o, field=f, sealed=s) for o, f, s in stored[1:5]]

    with transaction.atomic():
        ScanProbe.objects.create(owner="control", field_name="note", sealed=b"", note=CLEAR_CONTROL)
        ScanProbe.objects.create(
            owner="control", field_name="note", sealed=b"", note=base64.b64encode(BASE64_CONTROL.encode()).decode()
        )
    control_report = plaintext_scan([CLEAR_CONTROL, BASE64_CONTROL])
    return {
        "secure_delete": secure_delete,
        "journal_mode": journal_mode,
        "wal_bytes_before_scan": wal_bytes,
        "sealed": _report_dict(sealed_report),
        "read_back_ok": read_back == PERSONAL_VALUES[1:5],
        "control": _report_dict(control_report),
        "deleted_left_with_secure_delete": _deleted_value_left_in_file(DELETED_SECURE, secure_delete=True),
        "deleted_left_without_secure_delete": _deleted_value_left_in_file(DELETED_INSECURE, secure_delete=False),
    }


def rotation_under_load_scenario(*, owners: int = 300, writers: int = 2, batch_size: int = 25) -> dict[str, Any]:
    """Rotate OLD -> NEW while writer threads seal new values; verify every value and every key afterwards.

    Needs committed data and real connections per thread (a database file or
    PostgreSQL). The writers are paced by credits: one value each before the
    first batch and one more after every committed batch, each written while
    the next batch runs, so rotation and writes interleave on every run, and
    the number written is exact: ``writers * (batches + 1)`` pairs.
    """
    values: list[tuple[str, str, bytes, str]] = []
    with override_settings(GOVSERVE_KEYS=[OLD_KEK]), transaction.atomic():
        for index in range(owners):
            owner = f"application:existing-{index}"
            plaintext = f"Existing applicant {index}"
            sealed = seal(owner=owner, field="answers.full_name", plaintext=plaintext)
            values.append((owner, "answers.full_name", sealed, plaintext))
    data_key_cache_clear()

    stop = threading.Event()
    errors: list[str] = []
    written: list[tuple[str, str, bytes, str]] = []
    credits = [0] * writers
    consumed = [0] * writers
    condition = threading.Condition()

    def writer(number: int) -> None:
        try:
            while True:
                with condition:
                    condition.wait_for(lambda: credits[number] > consumed[number] or stop.is_set(), timeout=60)
                    if credits[number] <= consumed[number]:
                        return
                    sequence = consumed[number]
                new_owner = f"application:new-{number}-{sequence}"
                existing_owner = f"application:existing-{(sequence * 7 + number) % owners}"
                field_name = f"answers.extra_{number}_{sequence}"
                new_text, extra_text = f"New applicant {number}-{sequence}", f"Extra {number}-{sequence}"
                with transaction.atomic():
                    first = seal(owner=new_owner, field="answers.full_name", plaintext=new_text)
                    second = seal(owner=existing_owner, field=field_name, plaintext=extra_text)
                with condition:
                    written.append((new_owner, "answers.full_name", first, new_text))
                    written.append((existing_owner, field_name, second, extra_text))
                    consumed[number] += 1
                    condition.notify_all()
        except Exception as error:  # reported to, and asserted on by, the caller
            errors.append(repr(error))
            with condition:
                condition.notify_all()
        finally:
            connection.close()

    def wait_for_writers() -> None:
        with condition:
            condition.wait_for(lambda: errors or all(c >= g for c, g in zip(consumed, credits, strict=True)), 60)

    def grant() -> None:
        with condition:
            for number in range(writers):
                credits[number] += 1
            condition.notify_all()

    def interleave(progress: RotationProgress) -> None:
        wait_for_writers()
        grant()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(writers)]
    with override_settings(GOVSERVE_KEYS=[NEW_KEK, OLD_KEK]):
        for thread in threads:
            thread.start()
        grant()
        try:
            result = data_keys_rotate(actor=Actor.system("test"), batch_size=batch_size, on_batch=interleave)
            wait_for_writers()
        finally:
            stop.set()
            with condition:
                condition.notify_all()
            for thread in threads:
                thread.join(timeout=60)
    kek_ids = dict(DataKey.objects.values_list("kek_id").annotate(n=models.Count("id")).order_by())
    # The old key is gone from the configuration: everything must open under the new one alone.
    data_key_cache_clear()
    unreadable = 0
    with override_settings(GOVSERVE_KEYS=[NEW_KEK]):
        for owner, field_name, sealed, plaintext in values + written:
            if unseal_text(owner=owner, field=field_name, sealed=sealed) != plaintext:
                unreadable += 1
    data_key_cache_clear()
    return {
        "errors": errors,
        "rewrapped": result.rewrapped,
        "batches": result.batches,
        "remaining": result.remaining,
        "written": len(written),
        "values_checked": len(values) + len(written),
        "unreadable": unreadable,
        "kek_ids": kek_ids,
    }


SCENARIOS = {"raw_scan": raw_scan_scenario, "rotation_under_load": rotation_under_load_scenario}


def run_on_sqlite_file(name: str, directory: Path, *, timeout: float = 120) -> dict[str, Any]:
    """Run scenario ``name`` in a subprocess on a new SQLite file in ``directory``; return its result."""
    environment = dict(os.environ)
    environment["DATABASE_URL"] = f"sqlite:///{directory / 'scenario.sqlite3'}"
    environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    completed = subprocess.run(
        [sys.executable, "-c", _ENTRY, name],
        env=environment,
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        msg = (
            f"scenario {name} failed ({completed.returncode}):\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
        )
        raise AssertionError(msg)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return result


_ENTRY = "import sys, django; django.setup(); from govserve.privacy.tests.scenarios import main; main(sys.argv[1])"


def main(name: str) -> None:
    """Migrate the kernel's tables on the subprocess's database, run scenario ``name``, print its result."""
    from django.core.management import call_command  # noqa: PLC0415

    call_command("migrate", "audit", verbosity=0)
    call_command("migrate", "privacy", verbosity=0)
    result = SCENARIOS[name]()
    sys.stdout.write(RESULT_MARKER + json.dumps(result, default=str) + "\n")
