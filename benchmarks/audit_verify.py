"""Benchmark: ``govserve audit verify`` over 1,000,000 sealed entries (target: under 5 s), SQLite and PostgreSQL.

For each database, in a child process with production settings: create an
empty database, migrate the audit app, bulk-insert N realistic entries with
raw SQL (executemany on SQLite, COPY on PostgreSQL), seal them all with the
real sealer (timed), then run the real verifier (timed) and check that it
found the chain intact and checked exactly N entries. The child prints its
figures as JSON; :func:`main` collects them.

Run: ``python -m benchmarks.run_all audit_verify`` or
``python -m benchmarks.audit_verify [--entries N] [--engine sqlite|postgresql]``.
PostgreSQL is expected at ``AUDIT_BENCH_POSTGRES`` (default
``postgres://postgres@127.0.0.1:5432``); its database ``gs_bench_audit`` is
dropped and re-created.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ENTRIES = 1_000_000
TARGET_SECONDS = 5.0
VERIFY_RUNS = 3
POSTGRES_SERVER = os.environ.get("AUDIT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
POSTGRES_DATABASE = "gs_bench_audit"
ROOT = Path(__file__).resolve().parent.parent
ACTIONS = (
    "journeys.application.submitted",
    "casework.task.claimed",
    "casework.decision.recorded",
    "documents.document.uploaded",
    "accounts.staff.signed_in",
    "privacy.personal_data.read",
)


def _rows(count: int) -> Any:
    """Yield realistic entry rows: UUID-shaped ids, ids and codes in details, one millisecond apart.

    Details are written in canonical form, as ``audit_record`` stores them.
    """
    base = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC).replace(tzinfo=None)
    actors = [str(uuid.uuid4()) for _ in range(500)]
    prefix = str(uuid.uuid4())[:24]
    for number in range(1, count + 1):
        subject = f"{prefix}{number:012x}"
        yield (
            number,
            (base + dt.timedelta(milliseconds=number)).isoformat(" ", timespec="microseconds"),
            "user" if number % 3 else "citizen",
            actors[number % 500],
            number % 50 == 0,
            ACTIONS[number % len(ACTIONS)],
            "application",
            subject,
            "success",
            f"{number * 2654435761 % 2**128:032x}",
            f'{{"application_id":"{subject}","queue":"licensing","version":{number % 7}}}',
        )


_COLUMNS = (
    "id, occurred_at, actor_kind, actor_id, actor_is_supplier, action, subject_type, subject_id,"
    " outcome, request_id, details, previous_hash, entry_hash"
)


def _insert(count: int) -> float:
    from django.db import connection, transaction  # noqa: PLC0415

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY audit_auditentry ({_COLUMNS}) FROM STDIN") as copy:
                for row in _rows(count):
                    copy.write_row((*row[:4], row[4], *row[5:], "", ""))
            cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), %s)", [count])
    else:
        raw_connection = connection.connection
        raw_connection.execute("BEGIN")
        raw_connection.executemany(
            f"INSERT INTO audit_auditentry ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')",  # noqa: S608
            (row for row in _rows(count)),
        )
        raw_connection.execute("COMMIT")
    return time.perf_counter() - started


def child(engine: str, count: int) -> dict[str, Any]:
    """Run the benchmark on one database in this process (the parent sets the environment)."""
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from govserve.audit.sealer import seal_pending  # noqa: PLC0415
    from govserve.audit.verify import verify_chain  # noqa: PLC0415

    call_command("migrate", "audit", verbosity=0)
    insert_seconds = _insert(count)
    started = time.perf_counter()
    sealed = seal_pending(batch_size=20_000)
    seal_seconds = time.perf_counter() - started
    assert sealed.sealed == count, sealed
    assert sealed.last_sealed_id == count, sealed
    assert sealed.waiting_for_id is None, sealed
    # Best of three: the machine is shared, and a neighbour's burst should not decide the figure.
    runs = []
    for _ in range(VERIFY_RUNS):
        cpu_started = time.process_time()
        children_started = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = verify_chain()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        client_cpu = (
            (time.process_time() - cpu_started)
            + (children.ru_utime + children.ru_stime)
            - (children_started.ru_utime + children_started.ru_stime)
        )
        assert report.intact, report.problems[:5]
        assert report.checked == count, report.checked
        assert report.slow_path_rows == 0, report.slow_path_rows
        runs.append((report.seconds, client_cpu, os.getloadavg()[0]))
    best_seconds, best_cpu, load = min(runs)
    # Tamper with one entry behind the triggers' back: the same run must now fail on exactly that id.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_entry_refuse_sealed_update")
        cursor.execute("UPDATE audit_auditentry SET subject_id = 'forged' WHERE id = %s", [count // 2])
    tampered = verify_chain()
    assert [(p.kind, p.entry_id) for p in tampered.problems] == [("altered", count // 2)], tampered.problems
    return {
        "engine": engine,
        "database": connection.vendor,
        "entries": count,
        "insert_seconds": round(insert_seconds, 2),
        "seal_seconds": round(seal_seconds, 2),
        "seal_entries_per_second": round(count / seal_seconds),
        "verify_seconds_best": round(best_seconds, 2),
        "verify_seconds_runs": [round(run[0], 2) for run in runs],
        "verify_client_cpu_seconds": round(best_cpu, 2),
        "verify_workers": report.workers,
        "verify_checked": report.checked,
        "load_average_1min": round(load, 1),
        "verify_tampered_seconds": round(tampered.seconds, 2),
        "target_seconds": TARGET_SECONDS,
        "within_target": best_seconds < TARGET_SECONDS,
    }


def _postgres_admin(*statements: str) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement.encode())  # fixed statements, no input


def _run_child(engine: str, count: int, workdir: Path) -> dict[str, Any]:
    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="benchmark-only-secret-key-not-used-anywhere-else-0123456789",  # noqa: S106
        GOVSERVE_VAR_DIR=str(workdir),
        LOG_LEVEL="WARNING",
    )
    if engine == "postgresql":
        _postgres_admin(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE}", f"CREATE DATABASE {POSTGRES_DATABASE}")
        environment["DATABASE_URL"] = f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"
    else:
        environment["DATABASE_URL"] = f"sqlite:///{workdir / 'audit_bench.sqlite3'}"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.audit_verify", "--child", "--engine", engine, "--entries", str(count)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        msg = f"audit_verify on {engine} failed:\n{completed.stderr[-4000:]}"
        raise RuntimeError(msg)
    if engine == "postgresql":
        _postgres_admin(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main(entries: int = ENTRIES, engines: tuple[str, ...] = ("sqlite", "postgresql")) -> dict[str, Any]:
    """Run the benchmark on each engine; return the figures (raise if a run fails its checks)."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gs-audit-bench-") as workdir:
        for engine in engines:
            figures[engine] = _run_child(engine, entries, Path(workdir))
            print(json.dumps(figures[engine]), flush=True)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.engine[0], arguments.entries)), flush=True)
    else:
        main(arguments.entries, tuple(arguments.engine or ("sqlite", "postgresql")))
