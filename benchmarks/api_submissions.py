"""Issue 7's benchmark: application submissions through the API, 16 concurrent clients, against a hand-written baseline.

    python -m benchmarks.run_all api_submissions

Per database (a temporary SQLite file; PostgreSQL ``gs_bench_api`` and
``gs_bench_api_baseline``, dropped and created; ``GOVSERVE_BENCH_POSTGRES_URL``
names the server, "" skips PostgreSQL):

* **govserve** in its production configuration (``config.settings.production``,
  ``DEBUG`` off, keys generated for the run, https behind one proxy, encryption,
  audit and outbox on, SQLite at ``synchronous=FULL`` / PostgreSQL's
  synchronous commit), served by ``govserve serve --workers 2`` (``GOVSERVE_BENCH_API_WORKERS``), with one API
  client whose token has the applications scopes (``api_bench/database.py``).
* **The baseline** in the same run: a hand-written Django view doing the same
  inserts in one transaction (``api_bench/baseline_api.py``: the token by its
  hash, the application, one AES-GCM-sealed row per answer, an audit row, an
  outbox row), under the same gunicorn command and flags, on its own database
  of the same engine.
* **Load**: ``api_bench/load.py`` in a process of its own, 16 clients, closed
  loop, 3 s of warm-up then ``SECONDS`` measured, three runs: the baseline (one
  POST a submission); govserve **one call** (``POST /api/v1/applications``
  with every answer, ``submit`` and an Idempotency-Key: what a partner system
  holding every answer does); then, on the same server and database, govserve
  **three calls** (start, every answer in one PATCH, submit with an
  Idempotency-Key: an app that keeps a draft). Only acknowledged submissions
  count; any failed one fails the benchmark.
* **Checked afterwards** (``api_bench/database.py verify``): every acknowledged
  submission is submitted, through the API, nothing else is; a sample's answers
  unseal to what was sent and are not in clear; the audit chain is sealed and
  ``audit verify`` passes; the outbox holds the submissions' jobs and emails.
  The baseline's tables hold exactly its acknowledged rows.

Reported: submissions a second (govserve, baseline, ratio), submission and
request latency p50/p95/p99, the server's CPU per submission and the load
generator's CPU share of the machine. Figures: benchmarks/README.md
("API submissions").
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
import urllib.parse
from pathlib import Path
from typing import Any

from benchmarks.journey.server import PUBLIC_HOST, ROOT, Server, free_port, govserve_start, machine, module_child
from benchmarks.journey.server import production_environment as journey_environment

HERE = ROOT / "benchmarks" / "api_bench"
CLIENTS = 16
# Web workers of both servers: 2 (as the journey benchmark), or GOVSERVE_BENCH_API_WORKERS (e.g. 5, what
# `govserve serve` starts on 2 cores by default: two per core plus one).
WORKERS = int(os.environ.get("GOVSERVE_BENCH_API_WORKERS", "2"))
SECONDS = float(os.environ.get("GOVSERVE_BENCH_API_SECONDS", "20"))
WARMUP_SECONDS = 3.0
POSTGRES = os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
RESULT_MARKER = "API-BENCH-RESULT "


def _database_url(admin: str, name: str) -> str:
    parts = urllib.parse.urlsplit(admin)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _fresh_postgres(url: str) -> None:
    from benchmarks.casework_bench.per_page import _fresh_postgres as fresh  # noqa: PLC0415

    fresh(url)


def _child(action: str, env: dict[str, str], directory: Path, request: dict[str, Any]) -> dict[str, Any]:
    return module_child(
        "benchmarks.api_bench.database", action, env, directory, request, marker=RESULT_MARKER, timeout=1800
    )


def _baseline_env(database_url: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GOVSERVE_", "DJANGO_"))}
    env.update(
        {
            "BASELINE_DATABASE_URL": database_url,
            "BASELINE_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
            "PYTHONDONTWRITEBYTECODE": "",
        }
    )
    return env


def _baseline_python(env: dict[str, str], code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=HERE, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if completed.returncode != 0:
        msg = f"the baseline failed ({completed.returncode}): {completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    return completed.stdout


def _baseline_start(env: dict[str, str], log: Path) -> Server:
    from govserve.catalogue.management.commands.serve import gunicorn_command  # noqa: PLC0415

    port = free_port()
    command = gunicorn_command(host="127.0.0.1", port=port, workers=WORKERS)
    command[command.index("config.wsgi:application")] = "baseline_api:application"
    hooks = command.index("--config")  # govserve's own hooks warm govserve's caches: nothing to do here
    del command[hooks : hooks + 2]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--chdir", str(HERE)], cwd=HERE, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(name="baseline", port=port, host="127.0.0.1", process=process, log=log, worker_count=WORKERS)
    server.wait_ready("/healthz")
    return server


def _load(server: Server, *, mode: str, token: str, directory: Path) -> dict[str, Any]:
    config = {
        "url": f"http://127.0.0.1:{server.port}",
        "host": server.host,
        "mode": mode,
        "token": token,
        "clients": CLIENTS,
        "warmup_seconds": WARMUP_SECONDS,
        "seconds": SECONDS,
    }
    config_path, out_path = directory / f"load-{mode}.json", directory / f"load-{mode}-out.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.api_bench.load", str(config_path), str(out_path)])
    time.sleep(WARMUP_SECONDS)
    cpu_before = server.cpu_seconds()
    if process.wait(timeout=SECONDS * 10 + 120) != 0:
        msg = f"the {mode} load generator failed ({process.returncode})"
        raise RuntimeError(msg)
    server_cpu = server.cpu_seconds() - cpu_before
    result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
    if result["failures"]:
        msg = f"{mode}: failed submissions {result['failures']}"
        raise RuntimeError(msg)
    if not result["submissions"]:
        msg = f"{mode}: no submission acknowledged"
        raise RuntimeError(msg)
    result["server_cpu_ms_per_submission"] = round(server_cpu * 1000 / result["submissions"], 1)
    result["load_generator_cpu_share"] = round(
        result["load_generator_cpu_seconds"] / (result["seconds"] * (os.cpu_count() or 1)), 3
    )
    return result


def _one_database(name: str, directory: Path, govserve_url: str, baseline_url: str) -> dict[str, Any]:
    env = journey_environment(database_url=govserve_url, var_dir=directory)
    token = _child("prepare", env, directory, {})["token"]
    baseline_env = _baseline_env(baseline_url)
    baseline_token = secrets.token_urlsafe(32)
    _baseline_python(baseline_env, f"import baseline_api as b; b.migrate({baseline_token!r})")

    baseline = _baseline_start(baseline_env, directory / "baseline.log")
    try:
        baseline_result = _load(baseline, mode="baseline", token=baseline_token, directory=directory)
    finally:
        baseline.stop()
    govserve = govserve_start(env=env, log=directory / "govserve.log", workers=WORKERS)
    try:
        one_call = _load(govserve, mode="one_call", token=token, directory=directory)
        three_calls = _load(govserve, mode="three_calls", token=token, directory=directory)
    finally:
        govserve.stop()

    acknowledged_path = directory / "acknowledged.json"
    # Every submission the clients were told of is checked, the warm-ups' included (they are in the database too).
    told = [
        entry
        for result in (one_call, three_calls)
        for entry in result.pop("acknowledged") + result.pop("warmup_acknowledged")
    ]
    acknowledged_path.write_text(json.dumps(told), encoding="utf-8")
    checked = _child("verify", env, directory, {"acknowledged": str(acknowledged_path)})
    baseline_ids = baseline_result.pop("acknowledged") + baseline_result.pop("warmup_acknowledged")
    rows = json.loads(_baseline_python(baseline_env, "import json, baseline_api as b; print(json.dumps(b.count()))"))
    expected_rows = {
        "bench_application": len(baseline_ids),
        "bench_answer": 9 * len(baseline_ids),
        "bench_audit": len(baseline_ids),
        "bench_outbox": len(baseline_ids),
    }
    problems = list(checked.pop("problems"))
    # A request the clients were cut off from at the deadline may have written its rows: at least the told ones.
    if any(rows[table] < count for table, count in expected_rows.items()):
        problems.append(f"baseline rows {rows}, at least {expected_rows} expected")
    if problems:
        msg = f"{name}: the run does not check out: {problems}"
        raise RuntimeError(msg)
    return {
        "govserve_one_call": one_call,
        "govserve_three_calls": three_calls,
        "baseline": baseline_result,
        "ratio_one_call": round(one_call["submissions_per_second"] / baseline_result["submissions_per_second"], 2),
        "ratio_three_calls": round(
            three_calls["submissions_per_second"] / baseline_result["submissions_per_second"], 2
        ),
        "checked": checked,
        "baseline_rows": rows,
    }


def main() -> dict[str, Any]:
    """Run both databases (PostgreSQL unless GOVSERVE_BENCH_POSTGRES_URL is empty); return the figures."""
    figures: dict[str, Any] = {
        "machine": machine(),
        "clients": CLIENTS,
        "workers": WORKERS,
        "seconds": SECONDS,
        "host": PUBLIC_HOST,
    }
    with tempfile.TemporaryDirectory(prefix="govserve-api-bench-sqlite-") as raw:
        directory = Path(raw)
        figures["sqlite"] = _one_database(
            "SQLite",
            directory,
            f"sqlite:///{directory / 'govserve.sqlite3'}",
            f"sqlite:///{directory / 'baseline.sqlite3'}",
        )
    if POSTGRES:
        with tempfile.TemporaryDirectory(prefix="govserve-api-bench-postgres-") as raw:
            govserve_url = _database_url(POSTGRES, "gs_bench_api")
            baseline_url = _database_url(POSTGRES, "gs_bench_api_baseline")
            _fresh_postgres(govserve_url)
            _fresh_postgres(baseline_url)
            figures["postgresql"] = _one_database("PostgreSQL", Path(raw), govserve_url, baseline_url)
    figures["load_average_after"] = [round(value, 1) for value in os.getloadavg()]
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
