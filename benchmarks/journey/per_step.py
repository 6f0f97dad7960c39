"""The cost of each step of the journey on its own: CPU, statements and commits per request, in one process.

    python -m benchmarks.journey.per_step [--rounds 5] [--database-url URL] [--statements STEP ...]
        [--setting NAME=JSON ...]

Sets up a fresh database as the benchmark does (production settings,
``database.py prepare``, ``govserve publish examples/``), then in a child
process with the same environment walks the ``goods`` plan through Django's
test client (the whole middleware stack and the views; no HTTP server, no
CSRF check) ``--rounds`` times after a first round that warms the caches.
For each step it prints the median CPU time of the request (the thread's
CPU, ``time.thread_time``, so the machine's other load does not count), its
SQL statements, the rows written and the commits (SQLite's statement trace;
on PostgreSQL Django's ``execute_wrapper`` and ``commit()`` calls, which miss
statements run on the driver's connection directly, such as the audit
sealer's). ``--statements STEP`` (repeatable, e.g. ``age:post``) also
prints the SQL of that step in the last round, to see which
statements a request makes. ``--profile STEP`` (repeatable) prints the
functions that step's request spent most time in (cProfile over the step in
every timed round, sorted by cumulative time; profiling slows the step, so
its CPU column is left out of the profile's figures, not the table's). ``--setting NAME=JSON`` (repeatable) overrides a
Django setting in the walking process: ``GOVSERVE_JOURNEY_STATE_CACHE_SIZE=0``
walks every request afresh, as when each request of a walk lands on another
worker than the one before (the journey state cache is per process).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.journey.deployment import database_child
from benchmarks.journey.server import PUBLIC_HOST, ROOT, production_environment

EMAIL = "per-step@bench.govserve.localhost"
PASSWORD = "per step bench password 1815"  # noqa: S105 - a throwaway account of a throwaway database


def _trace(statements: list[str]) -> None:
    """Append each statement of the requests to come to ``statements`` (SQLite's trace, else Django's)."""
    from django.core.signals import request_started  # noqa: PLC0415
    from django.db import connection, connections  # noqa: PLC0415

    def trace(**_: Any) -> None:
        # The connection is new for each request (CONN_MAX_AGE=0 on SQLite): trace it as the request starts.
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            connection.connection.set_trace_callback(statements.append)

    request_started.connect(trace, dispatch_uid="per-step-trace", weak=False)
    if connection.vendor == "sqlite":
        return
    # No statement trace in the driver: the statements Django runs, and "COMMIT" for each commit.

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql.lstrip())
        if not connection.in_atomic_block and sql.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            statements.append("COMMIT")  # a write outside a transaction commits on its own
        return execute(sql, params, many, context)

    # commit() (the end of an outermost atomic block) counts as the COMMIT SQLite's trace shows.
    connection.execute_wrappers.append(record)
    wrapper_class = type(connections["default"])
    commit = wrapper_class.commit

    def counted_commit(self: Any) -> Any:
        statements.append("COMMIT")
        return commit(self)

    wrapper_class.commit = counted_commit  # type: ignore[method-assign]


def _walk(
    rounds: int,
    shown: frozenset[str] = frozenset(),
    overrides: dict[str, Any] | None = None,
    profiled: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], dict[str, list[str]], dict[str, str]]:
    """Walk the goods plan ``rounds`` + 1 times in this process; return each step's median figures."""
    import django  # noqa: PLC0415

    django.setup()
    from django.conf import settings  # noqa: PLC0415

    for name, value in (overrides or {}).items():
        setattr(settings, name, value)
    from django.test import Client  # noqa: PLC0415

    from benchmarks.journey.plan import APP, CITIZEN, CSRF, START_KEY, SUBMIT_KEY, Mark, variants  # noqa: PLC0415
    from benchmarks.journey.walker import HIDDEN, STARTED  # noqa: PLC0415

    statements: list[str] = []
    _trace(statements)
    client = Client(HTTP_HOST=PUBLIC_HOST, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="10.79.0.1")
    signed_in = client.post("/sign-in/password", {"email": EMAIL, "password": PASSWORD}, secure=True)
    assert signed_in.status_code == 302, signed_in.status_code
    plan = variants()["goods"]
    samples: dict[str, list[tuple[float, int, int, int]]] = {step.name: [] for step in plan.steps}
    traced: dict[str, list[str]] = {}
    profiles = {name: cProfile.Profile() for name in profiled}
    for round_number in range(rounds + 1):
        values: dict[str, str] = {}
        application = ""
        for step in plan.steps:
            path = step.path.replace(APP, application)
            body = (
                step.body.replace(CSRF.encode(), b"unchecked")
                .replace(START_KEY.encode(), values.get("start_key", "").encode())
                .replace(SUBMIT_KEY.encode(), values.get("submit_key", "").encode())
                .replace(CITIZEN.encode(), b"0")
            )
            statements.clear()
            profile = profiles.get(step.name) if round_number else None
            if profile is not None:
                profile.enable()
            started = time.thread_time()
            if step.method == "GET":
                response = client.get(path, secure=True)
            else:
                response = client.generic("POST", path, body, content_type=step.content_type, secure=True)
            cpu = time.thread_time() - started
            if profile is not None:
                profile.disable()
            assert response.status_code == step.status, (step.name, response.status_code)
            if step.mark == Mark.START:
                found = STARTED.match(response["Location"])
                assert found is not None
                application = found.group(1)
            if response.status_code == 200:
                values.update((name.decode(), value.decode()) for name, value in HIDDEN.findall(response.content))
            if round_number == 0:
                continue  # the first round fills the caches (templates, definitions, data keys)
            if step.name in shown:
                traced[step.name] = [statement[:300] for statement in statements]
            words = [statement.split(" ", 1)[0].upper() for statement in statements]
            queries = sum(1 for word in words if word in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"})
            writes = sum(1 for word in words if word in {"INSERT", "UPDATE", "DELETE"})
            commits = sum(1 for word in words if word == "COMMIT")
            samples[step.name].append((cpu, queries, writes, commits))
    return (
        [
            {
                "step": name,
                "cpu_ms": round(statistics.median(sample[0] for sample in rows) * 1000, 1),
                "statements": statistics.median(sample[1] for sample in rows),
                "writes": statistics.median(sample[2] for sample in rows),
                "commits": statistics.median(sample[3] for sample in rows),
            }
            for name, rows in samples.items()
        ],
        traced,
        {name: _profile_text(profile) for name, profile in profiles.items()},
    )


def _profile_text(profile: cProfile.Profile) -> str:
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(45)
    return text.getvalue()


def main(argv: list[str]) -> int:
    """Prepare a database, walk it in a child process, print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journey.per_step")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--statements", action="append", default=[], metavar="STEP", help="print this step's SQL")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="override a Django setting in the walking process, e.g. GOVSERVE_JOURNEY_STATE_CACHE_SIZE=0",
    )
    parser.add_argument("--profile", action="append", default=[], metavar="STEP", help="print this step's profile")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        overrides = {name: json.loads(value) for name, _, value in (item.partition("=") for item in options.setting)}
        rows, traced, profiles = _walk(
            options.rounds, frozenset(options.statements), overrides, frozenset(options.profile)
        )
        sys.stdout.write(json.dumps({"rows": rows, "statements": traced, "profiles": profiles}) + "\n")
        return 0
    with tempfile.TemporaryDirectory(prefix="gs-bench-journey-steps-") as temporary:
        directory = Path(temporary)
        env = production_environment(
            database_url=options.database_url or f"sqlite:///{directory / 'steps.sqlite3'}", var_dir=directory
        )
        database_child("prepare", env, directory, {"citizens": [{"email": EMAIL, "password": PASSWORD}]})
        subprocess.run(
            [str(Path(sys.executable).parent / "govserve"), "publish", "examples/"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
            timeout=300,
        )
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.journey.per_step",
                "--child",
                "--rounds",
                str(options.rounds),
                *(f"--statements={step}" for step in options.statements),
                *(f"--setting={item}" for item in options.setting),
                *(f"--profile={step}" for step in options.profile),
            ],
            cwd=ROOT,
            env={**env, "PYTHONWARNINGS": "ignore"},
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if completed.returncode != 0:
            print(completed.stderr[-3000:], file=sys.stderr)
            return 1
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    rows = result["rows"]
    for step, statements in result["statements"].items():
        print(f"--- {step}: {len(statements)} statements")
        for statement in statements:
            print(f"    {statement}")
    for step, text in result.get("profiles", {}).items():
        print(f"--- {step}: profile")
        print(text)
    print(f"{'step':42} {'CPU ms':>7} {'stmts':>6} {'writes':>6} {'commits':>7}")
    for row in rows:
        print(f"{row['step']:42} {row['cpu_ms']:7.1f} {row['statements']:6} {row['writes']:6} {row['commits']:7}")
    print(f"{'mean per request':42} {statistics.mean(row['cpu_ms'] for row in rows):7.1f}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
