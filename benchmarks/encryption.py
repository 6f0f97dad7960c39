"""Encryption kernel: seal/unseal overhead per answer, and key rotation over 100,000 data keys.

Each database runs in its own subprocess with production settings
(``config.settings.production``, random keys, a temporary SQLite file in WAL
mode or a temporary PostgreSQL database), so the figures include the real
connection settings (SQLite ``synchronous=FULL``, ``secure_delete``).
Every figure is verified: each timed seal is unsealed back to its answer,
and after rotation every data key is under the new key-encryption key and
sampled values open with the old key removed from the configuration.

    python -m benchmarks.run_all encryption
    GOVSERVE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres  (admin URL; "" skips PostgreSQL)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

RESULT_MARKER = "BENCH-RESULT "
ROTATION_KEYS = 100_000
WARM_OPERATIONS = 20_000
COLD_OWNERS = 2_000
ANSWER = "12 Analytical Engine Street, Marylebone, London NW1 6XE"  # a typical answer, 55 bytes


def _key_entry(kek_id: str) -> str:
    return f"{kek_id}:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}"


def _per_operation_us(seconds: float, operations: int) -> float:
    return round(seconds / operations * 1e6, 1)


def _measure_answers() -> dict[str, Any]:
    from django.db import transaction  # noqa: PLC0415

    from govserve.privacy import crypto  # noqa: PLC0415

    # Warm: one application's key, committed and cached, as for every answer after the first.
    owner = f"application:{uuid.uuid4()}"
    with transaction.atomic():
        crypto.seal(owner=owner, field="answers.warmup", plaintext=ANSWER)
    fields = [f"answers.field_{i % 40}" for i in range(WARM_OPERATIONS)]
    started = time.perf_counter()
    sealed = [crypto.seal(owner=owner, field=f, plaintext=ANSWER) for f in fields]
    seal_seconds = time.perf_counter() - started
    started = time.perf_counter()
    opened = [crypto.unseal_text(owner=owner, field=f, sealed=s) for f, s in zip(fields, sealed, strict=True)]
    unseal_seconds = time.perf_counter() - started
    assert opened == [ANSWER] * WARM_OPERATIONS, "warm unseal returned something else"

    # Cold: the first access to each application's key in this process (SELECT + AES-GCM unwrap).
    owners = [f"application:{uuid.uuid4()}" for _ in range(COLD_OWNERS)]
    started = time.perf_counter()
    with transaction.atomic():
        first = [crypto.seal(owner=o, field="answers.full_name", plaintext=ANSWER) for o in owners]
    create_seconds = time.perf_counter() - started
    crypto.data_key_cache_clear()
    started = time.perf_counter()
    pairs = zip(owners, first, strict=True)
    cold = [crypto.unseal_text(owner=o, field="answers.full_name", sealed=s) for o, s in pairs]
    cold_seconds = time.perf_counter() - started
    assert cold == [ANSWER] * COLD_OWNERS, "cold unseal returned something else"
    return {
        "answer_bytes": len(ANSWER.encode()),
        "sealed_bytes": len(sealed[0]),
        "warm_seal_us": _per_operation_us(seal_seconds, WARM_OPERATIONS),
        "warm_unseal_us": _per_operation_us(unseal_seconds, WARM_OPERATIONS),
        "warm_seal_plus_unseal_us": _per_operation_us(seal_seconds + unseal_seconds, WARM_OPERATIONS),
        "first_seal_creating_data_key_us": _per_operation_us(create_seconds, COLD_OWNERS),
        "cold_unseal_with_unwrap_us": _per_operation_us(cold_seconds, COLD_OWNERS),
    }


def _measure_rotation(new_entry: str, old_entry: str) -> dict[str, Any]:
    from django.db import transaction  # noqa: PLC0415
    from django.test.utils import override_settings  # noqa: PLC0415

    from govserve.audit.actors import Actor  # noqa: PLC0415
    from govserve.privacy import crypto  # noqa: PLC0415
    from govserve.privacy.keys import key_ring  # noqa: PLC0415
    from govserve.privacy.models import DataKey  # noqa: PLC0415
    from govserve.privacy.selectors import data_key_counts  # noqa: PLC0415
    from govserve.privacy.services import data_keys_rotate  # noqa: PLC0415

    DataKey.objects.all().delete()
    old = key_ring().current
    started = time.perf_counter()
    rows = []
    for index in range(ROTATION_KEYS):
        data_key_id = uuid.uuid4()
        owner = f"application:rotation-{index}"
        wrapped = crypto.wrap_data_key(key=secrets.token_bytes(32), owner=owner, data_key_id=data_key_id, kek=old)
        rows.append(DataKey(id=data_key_id, owner=owner, wrapped_key=wrapped, kek_id=old.id))
    with transaction.atomic():
        DataKey.objects.bulk_create(rows, batch_size=2000)
    # Real values under a sample of real keys, to open after the rotation.
    sample = [f"application:rotation-sample-{i}" for i in range(200)]
    with transaction.atomic():
        sealed = [crypto.seal(owner=o, field="answers.full_name", plaintext=ANSWER) for o in sample]
    setup_seconds = time.perf_counter() - started

    crypto.data_key_cache_clear()
    with override_settings(GOVSERVE_KEYS=[new_entry, old_entry]):
        started = time.perf_counter()
        result = data_keys_rotate(actor=Actor.system("benchmark"), batch_size=1000)
        rotation_seconds = time.perf_counter() - started
    total = ROTATION_KEYS + len(sample)
    assert result.rewrapped == total, f"re-wrapped {result.rewrapped} of {total}"
    assert result.complete, "rotation left data keys behind"
    crypto.data_key_cache_clear()
    with override_settings(GOVSERVE_KEYS=[new_entry]):
        assert data_key_counts().live_by_kek == {"new": total}, "not every data key is under the new key"
        pairs = zip(sample, sealed, strict=True)
        opened = [crypto.unseal_text(owner=o, field="answers.full_name", sealed=s) for o, s in pairs]
        assert opened == [ANSWER] * len(sample), "a value did not open after rotation"
    return {
        "data_keys": total,
        "batch_size": 1000,
        "batches": result.batches,
        "rotation_seconds": round(rotation_seconds, 2),
        "data_keys_per_second": round(total / rotation_seconds),
        "setup_seconds": round(setup_seconds, 2),
    }


def _child() -> None:
    """Run inside the subprocess: migrate the kernel's tables, measure, print one JSON result line."""
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    call_command("migrate", "audit", verbosity=0)
    call_command("migrate", "privacy", verbosity=0)
    figures = {"database": connection.vendor, **_measure_answers()}
    figures["rotation"] = _measure_rotation(os.environ["BENCH_NEW_KEY"], os.environ["BENCH_OLD_KEY"])
    sys.stdout.write(RESULT_MARKER + json.dumps(figures) + "\n")


def _run_child(database_url: str) -> dict[str, Any]:
    old_entry, new_entry = _key_entry("old"), _key_entry("new")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GOVSERVE_KEYS": old_entry,
        "GOVSERVE_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
        "BENCH_OLD_KEY": old_entry,
        "BENCH_NEW_KEY": new_entry,
        "LOG_LEVEL": "WARNING",
    }
    completed = subprocess.run(
        [sys.executable, "-c", "from benchmarks.encryption import _child; _child()"],
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        msg = f"encryption benchmark child failed ({completed.returncode}): {completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return result


def _postgres(admin_url: str) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    name = f"gs_bench_encryption_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = admin_url.rsplit("/", 1)[0]
        return _run_child(f"{base}/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _machine() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith("Model name")), "")
    return f"{model}, {os.cpu_count()} cores"


def main() -> dict[str, Any]:
    """Measure on SQLite (always) and PostgreSQL (unless GOVSERVE_BENCH_POSTGRES_URL is empty); print and return."""
    figures: dict[str, Any] = {"machine": _machine()}
    with tempfile.TemporaryDirectory(prefix="gs-bench-encryption-") as directory:
        figures["sqlite"] = _run_child(f"sqlite:///{Path(directory) / 'bench.sqlite3'}")
    admin_url = os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    figures["postgresql"] = _postgres(admin_url) if admin_url else {"skipped": "GOVSERVE_BENCH_POSTGRES_URL is empty"}
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
