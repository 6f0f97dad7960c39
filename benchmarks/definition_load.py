"""Benchmark: loading a published version for a request, warm (target: under 1 ms), SQLite and PostgreSQL.

For each database, in a child process with production settings: migrate an
empty database, create the institutions, publish the example catalogues and
services and the generated 200-page, 2,000-field definition of the
``definitions_check`` benchmark, then for each service:

* cold: clear the in-process cache and load (query, JSON to models, every
  CEL expression compiled — the rules engine's compile cache is cleared too);
* warm, latest: ``published_version_load(service_id)`` as a new application
  does (one indexed query for the number and content hash, then the cache);
* warm, pinned: ``published_version_load(service_id, 1)`` as an application
  under way does.

Each warm call is timed on its own; the figures are the median and the 99th
percentile. The benchmark verifies that every load returns version 1 with the
content hash stored in the database, that warm loads return the cached
object, and that the compiled expressions are all there.

Run: ``python -m benchmarks.run_all definition_load`` or
``python -m benchmarks.definition_load [--engine sqlite|postgresql] [--calls N]``.
PostgreSQL is expected at ``DEFINITION_BENCH_POSTGRES`` (default
``postgres://postgres@127.0.0.1:5432``); its database ``gs_bench_definition_load``
is dropped and re-created.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CALLS = 20_000
TARGET_MS = 1.0
POSTGRES_SERVER = os.environ.get("DEFINITION_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
POSTGRES_DATABASE = "gs_bench_definition_load"
ROOT = Path(__file__).resolve().parent.parent
INSTITUTIONS = ("city-council", "health-agency", "civil-registry", "benchmark-council")


def _publish_all(workdir: Path) -> list[str]:
    """Publish the examples and the generated large definition; return the service ids."""
    import yaml  # noqa: PLC0415

    from benchmarks.definitions_check import generate_definition  # noqa: PLC0415
    from govserve.accounts.models import Institution  # noqa: PLC0415
    from govserve.catalogue.services import DefinitionSource, definition_publish  # noqa: PLC0415

    for code in INSTITUTIONS:
        Institution.objects.get_or_create(code=code, defaults={"name": code.replace("-", " ").title()})
    large = workdir / "benchmark-service.yaml"
    large.write_text(yaml.safe_dump(generate_definition(), sort_keys=False, allow_unicode=True), encoding="utf-8")
    examples = ROOT / "examples"
    paths = [*sorted((examples / "catalogues").glob("*.yaml")), *sorted((examples / "services").glob("*.yaml")), large]
    services: list[str] = []
    for path in paths:
        outcome = definition_publish(source=DefinitionSource.from_path(path), actor=None, reason="benchmark")
        if outcome.service_version is not None:
            services.append(outcome.service_version.service_id)
    return services


def _timed_calls(function: Any, calls: int) -> list[float]:
    """Return the duration of each of ``calls`` calls of ``function()``, in microseconds."""
    durations: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        started = clock()
        function()
        durations.append((clock() - started) / 1000)
    return durations


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def child(engine: str, calls: int, workdir: Path) -> dict[str, Any]:
    """Run the benchmark on one database in this process (the parent sets the environment)."""
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from govserve.catalogue.compiled import iter_expressions  # noqa: PLC0415
    from govserve.catalogue.models import ServiceVersion  # noqa: PLC0415
    from govserve.catalogue.selectors import compiled_cache_clear, published_version_load  # noqa: PLC0415
    from govserve.rules import engine as rules_engine  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    service_ids = _publish_all(workdir)
    assert len(service_ids) >= 2, service_ids
    per_service: dict[str, Any] = {}
    for service_id in service_ids:
        stored = ServiceVersion.objects.get(service_id=service_id, number=1)
        compiled_cache_clear()
        rules_engine._compile_cached.cache_clear()
        rules_engine._parse.cache_clear()
        started = time.perf_counter()
        cold = published_version_load(service_id)
        cold_ms = (time.perf_counter() - started) * 1000
        expected = sum(1 for _ in iter_expressions(cold.definition))
        assert (cold.version, cold.content_hash) == (1, stored.content_hash), service_id
        assert len(cold.expressions) == expected > 0, service_id
        latest = _timed_calls(lambda service_id=service_id: published_version_load(service_id), calls)
        pinned = _timed_calls(lambda service_id=service_id: published_version_load(service_id, 1), calls)
        assert published_version_load(service_id) is cold, service_id
        assert published_version_load(service_id, 1) is cold, service_id
        per_service[service_id] = {
            "pages": len(cold.definition.pages),
            "expressions": len(cold.expressions),
            "definition_bytes": len(stored.source_text.encode("utf-8")),
            "cold_ms": round(cold_ms, 1),
            "warm_latest_median_us": round(statistics.median(latest), 1),
            "warm_latest_p99_us": round(_percentile(latest, 0.99), 1),
            "warm_pinned_median_us": round(statistics.median(pinned), 1),
            "warm_pinned_p99_us": round(_percentile(pinned, 0.99), 1),
        }
    worst_median_ms = (
        max(max(figures["warm_latest_median_us"], figures["warm_pinned_median_us"]) for figures in per_service.values())
        / 1000
    )
    return {
        "engine": engine,
        "database": connection.vendor,
        "calls_per_measure": calls,
        "services": per_service,
        "worst_warm_median_ms": round(worst_median_ms, 3),
        "target_ms": TARGET_MS,
        "within_target": worst_median_ms < TARGET_MS,
    }


def _run_child(engine: str, calls: int, workdir: Path) -> dict[str, Any]:
    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="benchmark-only-secret-key-not-used-anywhere-else-0123456789",  # noqa: S106
        GOVSERVE_VAR_DIR=str(workdir),
        LOG_LEVEL="WARNING",
    )
    if engine == "postgresql":
        for statement in (f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE}", f"CREATE DATABASE {POSTGRES_DATABASE}"):
            subprocess.run(["psql", f"{POSTGRES_SERVER}/postgres", "-qc", statement], check=True, capture_output=True)
        environment["DATABASE_URL"] = f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"
    else:
        environment["DATABASE_URL"] = f"sqlite:///{workdir / 'definition_load.sqlite3'}"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.definition_load",
            "--child",
            "--engine",
            engine,
            "--calls",
            str(calls),
            "--workdir",
            str(workdir),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if engine == "postgresql":
        subprocess.run(
            ["psql", f"{POSTGRES_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE}"],
            check=False,
            capture_output=True,
        )
    if completed.returncode != 0:
        msg = f"definition_load on {engine} failed:\n{completed.stderr[-4000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main(calls: int = CALLS, engines: tuple[str, ...] = ("sqlite", "postgresql")) -> dict[str, Any]:
    """Run the benchmark on each engine; return the figures (raise if a run fails its checks)."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gs-definition-load-") as workdir:
        for engine in engines:
            figures[engine] = _run_child(engine, calls, Path(workdir))
            print(json.dumps(figures[engine]), flush=True)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.engine[0], arguments.calls, arguments.workdir)), flush=True)
    else:
        main(arguments.calls, tuple(arguments.engine or ("sqlite", "postgresql")))
