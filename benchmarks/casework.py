"""Casework: the operator workspace with 100,000 open tasks, through HTTP, on PostgreSQL and SQLite.

Each database is fresh (PostgreSQL: ``gs_bench_casework``, dropped after).
``benchmarks/casework_bench/database.py prepare`` migrates it, publishes the
examples, creates the operators (password and authenticator app, the
street-lighting engineer's role at Westmoor City Council) and 100,000 open
tasks: one street light report made through the real services, its rows
copied in bulk with new ids, keys and sealed values, a sample of the copies
opened through the real selectors (generation time recorded). Then
``govserve serve --workers 2`` runs with production settings (DEBUG off,
https behind one proxy, generated keys) and the operators sign in through
the real pages (password, then the authenticator code).

Figures, per database:

* latency of the pool's first page, of a filtered and sorted page (overdue
  tasks, newest first), of page 100 of the pool, and of the file view of a
  random file, one request at a time, p50/p95/p99 (targets: queue p95 under
  200 ms, file view p95 under 100 ms); ``/healthz`` on the same server,
  measured in the same rounds, is the baseline (a request through the whole
  middleware stack that does no work): its figures say how loaded the
  machine was;
* decisions per second with 8 operators at once (threads), each claiming
  then approving distinct tasks through the real forms (POST with the CSRF
  token, the task's version), a decision counted when both answered with
  the redirect a browser expects; afterwards the database must hold exactly
  one decision, one ``decision_recorded`` case event and one closed file per
  acknowledged decision, and no other decision.

Only successful responses count: each page must be 200 with the content it
should have (the pool's first reference, the filtered page's heading, the
file's reference and an answer unsealed); any failure fails the run.

    python -m benchmarks.run_all casework
    GOVSERVE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres  (admin URL; "" skips PostgreSQL)
    GOVSERVE_BENCH_CASEWORK_TASKS=100000  GOVSERVE_BENCH_CASEWORK_SQLITE=1 ("0" skips SQLite)
"""

from __future__ import annotations

import json
import os
import random
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.casework_bench import database
from benchmarks.casework_bench.client import Answer, Staff
from benchmarks.journey.server import (
    WORKERS,
    Server,
    govserve_start,
    machine,
    module_child,
    production_environment,
)

TASKS = int(os.environ.get("GOVSERVE_BENCH_CASEWORK_TASKS", "100000"))
OPERATORS = 8
WARMUP = 10
ROUNDS = 4
SAMPLES = int(os.environ.get("GOVSERVE_BENCH_CASEWORK_SAMPLES", "200"))
DECISION_SECONDS = float(os.environ.get("GOVSERVE_BENCH_CASEWORK_DECISION_SECONDS", "30"))
DATABASE_NAME = "gs_bench_casework"
TARGETS = {"queue_p95_ms": 200.0, "file_p95_ms": 100.0}
FILTERED = "/staff/queues/?overdue=1&sort=-submitted_at"
DEEP = "/staff/queues/?page=100"


def _child(action: str, env: dict[str, str], directory: Path, request: dict[str, Any]) -> dict[str, Any]:
    return module_child(
        "benchmarks.casework_bench.database",
        action,
        env,
        directory,
        request,
        marker=database.RESULT_MARKER,
        timeout=3600,
    )


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)

    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 1),
        "n": len(ordered),
    }


class PageError(Exception):
    """Responses that were not what a browser should get."""


def _check(name: str, answer: Answer, *needles: bytes) -> None:
    if answer.status != 200:
        raise PageError(f"{name}: status {answer.status} {answer.location}")
    for needle in needles:
        if needle not in answer.body:
            raise PageError(f"{name}: {needle!r} is not on the page")


def _latency(staff: Staff, server: Server, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Measure each page one request at a time, in blocks that take turns; the server's CPU per request too.

    Each round runs a block of requests of every page in turn (``/healthz``
    first), so every page sees the same machine; the server's CPU (its
    workers' user and system time, from ``/proc``) over each block divided
    by the block's requests is the CPU a request of that page cost, which
    the machine's other load does not change (wall-clock latency it does).
    """
    first = staff.get("/staff/queues/")
    _check("pool", first, b"Queues", b"govuk-table")
    files = [task["file_id"] for task in tasks]
    references = {task["file_id"]: task["reference"].encode() for task in tasks}
    random.shuffle(files)
    pages: dict[str, Any] = {
        "healthz": (lambda _n: "/healthz", (b'"ok"',)),
        "pool_first_page": (lambda _n: "/staff/queues/", (b"tasks</h2>", b"Claim")),
        "pool_filtered_sorted": (lambda _n: FILTERED, (b"tasks</h2>",)),
        "pool_page_100": (lambda _n: DEEP, (b"tasks</h2>", b"Claim")),
        "file_view": (lambda n: f"/staff/files/{files[n % len(files)]}/", (b"WM-04512", b"Babbage Street")),
    }
    timings: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, float] = dict.fromkeys(pages, 0.0)
    block = max(1, SAMPLES // ROUNDS)
    for name, (path_of, needles) in pages.items():  # warm-up: every worker has built every page
        for number in range(WARMUP):
            _check(name, staff.get(path_of(number)), *needles)
    counter = 0
    for _round in range(ROUNDS):
        for name, (path_of, needles) in pages.items():
            before = server.cpu_seconds()
            for _ in range(block):
                counter += 1
                path = path_of(counter)
                answer = staff.get(path)
                _check(name, answer, *needles)
                if name == "file_view" and references[path.split("/")[3]] not in answer.body:
                    raise PageError(f"file_view: the reference of {path} is not on the page")
                timings[name].append(answer.seconds)
            cpu[name] += server.cpu_seconds() - before
    return {
        name: {**_percentiles(values), "server_cpu_ms_per_request": round(cpu[name] / len(values) * 1000, 1)}
        for name, values in timings.items()
    }


def _operate(staff: Staff, tasks: list[dict[str, Any]], deadline: float, out: dict[str, Any]) -> None:
    decided: list[str] = []
    failures: list[str] = []
    seconds: list[float] = []
    page = staff.get("/staff/queues/")
    if page.status != 200:
        failures.append(f"queues {page.status}")
    for task in tasks:
        if time.monotonic() >= deadline:
            break
        started = time.perf_counter()
        claim = staff.post(
            f"/staff/tasks/{task['task_id']}/claim",
            {"version": str(task["version"]), "next": f"/staff/files/{task['file_id']}/"},
        )
        if claim.status != 302 or claim.location != f"/staff/files/{task['file_id']}/":
            failures.append(f"claim {claim.status} {claim.location}")
            continue
        decision = staff.post(
            f"/staff/tasks/{task['task_id']}/decision",
            {"decision": "approve", "version": str(task["version"] + 1), "repair_notes": "Lamp replaced."},
        )
        if decision.status != 302 or decision.location != "/staff/my-tasks/":
            failures.append(f"decision {decision.status} {decision.location} {decision.body[:200]!r}")
            continue
        seconds.append(time.perf_counter() - started)
        decided.append(task["task_id"])
    out.update(decided=decided, failures=failures, seconds=seconds)


def _decisions(operators: list[Staff], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Let every operator claim and approve their own share of ``tasks`` for DECISION_SECONDS."""
    shares = [tasks[n :: len(operators)] for n in range(len(operators))]
    outcomes: list[dict[str, Any]] = [{} for _ in operators]
    started = time.perf_counter()
    deadline = time.monotonic() + DECISION_SECONDS
    threads = [
        threading.Thread(target=_operate, args=(staff, share, deadline, outcome))
        for staff, share, outcome in zip(operators, shares, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    decided = [task for outcome in outcomes for task in outcome["decided"]]
    failures = [failure for outcome in outcomes for failure in outcome["failures"]]
    seconds = [value for outcome in outcomes for value in outcome["seconds"]]
    return {
        "operators": len(operators),
        "seconds": round(elapsed, 1),
        "decisions": len(decided),
        "decisions_per_second": round(len(decided) / elapsed, 1),
        "claim_and_decide_ms": _percentiles(seconds) if seconds else {},
        "failed": len(failures),
        "failures": failures[:10],
        "decided": decided,
    }


def _run_database(kind: str, database_url: str, work: Path) -> dict[str, Any]:
    directory = work / kind
    directory.mkdir(parents=True)
    env = production_environment(database_url=database_url, var_dir=directory)
    operators_wanted = [
        {"username": f"engineer{n}", "password": secrets.token_urlsafe(18)} for n in range(OPERATORS + 1)
    ]
    started = time.perf_counter()
    prepared = _child("prepare", env, directory, {"tasks": TASKS, "operators": operators_wanted})
    prepare_seconds = time.perf_counter() - started
    if prepared["problems"]:
        raise RuntimeError(f"{kind}: generated tasks are wrong: {prepared['problems'][:5]}")
    _child("migrate", env, directory, {})
    load_before = [round(value, 1) for value in os.getloadavg()]
    server: Server = govserve_start(env=env, log=directory / "server.log")
    try:
        staff = [
            Staff(
                port=server.port,
                host=server.host,
                username=entry["username"],
                password=wanted["password"],
                totp_key=entry["totp_key"],
                ip=f"10.79.0.{number + 1}",
            )
            for number, (entry, wanted) in enumerate(zip(prepared["staff"], operators_wanted, strict=True))
        ]
        for member in staff:
            member.sign_in()
        tasks = prepared["tasks"]
        reader, operators = staff[0], staff[1:]
        latency = _latency(reader, server, tasks[:500])
        load_during = [round(value, 1) for value in os.getloadavg()]
        decisions = _decisions(operators, tasks[500:])
    finally:
        server.stop()
    verified = _child("verify", env, directory, {"decided": decisions.pop("decided")})
    if decisions["failed"] or verified["problems"]:
        raise RuntimeError(f"{kind}: {decisions['failures']} {verified['problems']}")
    return {
        "generation": {
            "tasks": prepared["open_tasks"],
            "seconds": prepared["generation_seconds"],
            "tasks_per_second": round(prepared["open_tasks"] / max(prepared["generation_seconds"], 0.001)),
            "template_seconds": prepared["template_seconds"],
            "prepare_seconds_with_migrate": round(prepare_seconds, 1),
            "rows_per_task": prepared["rows_per_task"],
            "not_copied": prepared["not_copied"],
            "sample_opened_through_selectors": prepared["sample_checked"],
        },
        "latency_ms": latency,
        "decisions": decisions,
        "decisions_verified": verified,
        "load_average_before": load_before,
        "load_average_after_latency": load_during,
        "targets_met": {
            "queue_first_page_p95_under_200ms": latency["pool_first_page"]["p95"] < TARGETS["queue_p95_ms"],
            "queue_filtered_p95_under_200ms": latency["pool_filtered_sorted"]["p95"] < TARGETS["queue_p95_ms"],
            "queue_page_100_p95_under_200ms": latency["pool_page_100"]["p95"] < TARGETS["queue_p95_ms"],
            "file_view_p95_under_100ms": latency["file_view"]["p95"] < TARGETS["file_p95_ms"],
        },
    }


def _postgres(admin_url: str, work: Path) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    try:
        return _run_database("postgresql", f"{admin_url.rsplit('/', 1)[0]}/{DATABASE_NAME}", work)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')


def main() -> dict[str, Any]:
    """Run on PostgreSQL then SQLite; print and return the figures. Raise RuntimeError on any wrong answer."""
    figures: dict[str, Any] = {
        "machine": machine(),
        "load_average_at_start": [round(value, 1) for value in os.getloadavg()],
        "settings": {
            "server": f"govserve serve --workers {WORKERS} (gunicorn sync workers), config.settings.production",
            "tasks": TASKS,
            "latency": f"one request at a time, {SAMPLES} per page in {ROUNDS} rounds of blocks, {WARMUP} warm-up each",
            "decisions": f"{OPERATORS} operator threads, claim + approve by POST, {DECISION_SECONDS:.0f} s",
        },
    }
    with tempfile.TemporaryDirectory(prefix="gs-bench-casework-") as temporary:
        work = Path(temporary)
        admin_url = os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        if admin_url:
            figures["postgresql"] = _postgres(admin_url, work)
            print(json.dumps({"postgresql": figures["postgresql"]}), flush=True)  # in case a later part fails
        else:
            figures["postgresql"] = {"skipped": "GOVSERVE_BENCH_POSTGRES_URL is empty"}
        if os.environ.get("GOVSERVE_BENCH_CASEWORK_SQLITE", "1") != "0":
            figures["sqlite"] = _run_database("sqlite", f"sqlite:///{work / 'sqlite.sqlite3'}", work)
    figures["load_average_at_end"] = [round(value, 1) for value in os.getloadavg()]
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
