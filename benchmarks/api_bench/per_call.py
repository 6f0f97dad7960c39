"""The cost of each call of an API submission on its own: CPU and SQL statements per call, in one process.

    python -m benchmarks.api_bench.per_call [--rounds 20] [--database-url URL] [--flow one_call|three_calls]
        [--profile CALL ...] [--profile-sort cumulative|tottime]

Sets up a fresh database as the benchmark does (production settings, a
temporary SQLite file, or the PostgreSQL database ``--database-url`` names,
dropped and created (its name must start with ``gs_``);
``api_bench/database.py prepare``: migrate, publish the examples, an API
client and its token), then in a child process with the same environment
makes ``--rounds`` submissions through Django's test client (the whole
middleware stack and the views, no HTTP server) after two that warm the
caches: ``POST /api/v1/applications``, ``PATCH …/answers`` with every
answer, ``POST …/submit`` with an Idempotency-Key, as ``api_bench/load.py``
sends them (``--flow three_calls``, the default), or the one call
``one_call`` of ``--flow one_call`` (``POST /api/v1/applications`` with every
answer, ``submit`` and an Idempotency-Key). For each call it prints the median CPU time of the request (the
thread's CPU, ``time.thread_time``, so the machine's other load does not
count), its SQL statements (Django's ``execute_wrapper``, any engine) and
its commits (``commit()`` calls and writes outside a transaction).
``--statements CALL`` prints that call's SQL (the last round, cut at 160
characters). ``--profile CALL`` (``start``, ``answers``, ``submit`` or ``one_call``; repeatable) also
prints a cProfile of that call over the measured rounds, by cumulative time
(govserve's functions) or, with ``--profile-sort tottime``, every function by
its own time (where the ORM and the driver spend it); with
``GOVSERVE_PER_CALL_PROFILE_DUMP=PATH`` the profile is also written to
``PATH.CALL`` for ``pstats`` (callers, callees).
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
import uuid
from pathlib import Path
from typing import Any

from benchmarks.api_bench.load import ANSWERS
from benchmarks.journey.server import PUBLIC_HOST, ROOT, production_environment

CALLS = ("start", "answers", "submit")
FLOWS = {"three_calls": CALLS, "one_call": ("one_call",)}
RESULT_MARKER = "API-BENCH-RESULT "


def _submissions(  # noqa: PLR0915
    rounds: int, token: str, profiled: frozenset[str], flow: str, sort: str = "cumulative"
) -> dict[str, Any]:
    """Make ``rounds`` + 2 submissions in this process; return each call's median figures (and profiles)."""
    import cProfile  # noqa: PLC0415
    import io  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    import django  # noqa: PLC0415

    django.setup()
    from django.db import connection, connections  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    statements: list[str] = []
    commits = [0]
    wrapper_class = type(connections["default"])
    commit = wrapper_class.commit

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        if not connection.in_atomic_block and sql.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            commits[0] += 1  # a write outside a transaction commits on its own
        return execute(sql, params, many, context)

    def counted_commit(self: Any) -> Any:
        commits[0] += 1
        return commit(self)

    # Each commit is a wait for the disk (SQLite FULL, PostgreSQL synchronous commit); this child process only.
    wrapper_class.commit = counted_commit  # type: ignore[method-assign]

    client = Client(
        HTTP_HOST=PUBLIC_HOST,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="10.81.0.1",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    profiles = {name: cProfile.Profile(time.thread_time) for name in profiled}  # CPU, not waits
    calls = FLOWS[flow]
    last_statements: dict[str, list[str]] = {}
    samples: dict[str, list[tuple[float, int, int]]] = {name: [] for name in calls}

    def call(name: str, measured: bool, method: str, path: str, body: dict[str, Any], **extra: Any) -> Any:
        statements.clear()
        commits[0] = 0
        profile = profiles.get(name) if measured else None
        with connection.execute_wrapper(count):
            if profile is not None:
                profile.enable()
            started = time.thread_time()
            response = client.generic(method, path, json.dumps(body), content_type="application/json", **extra)
            cpu = time.thread_time() - started
            if profile is not None:
                profile.disable()
        if measured:
            samples[name].append((cpu, len(statements), commits[0]))
            last_statements[name] = [sql[:160] for sql in statements]
        return response

    for number in range(rounds + 2):
        measured = number >= 2  # the first two fill the caches (definitions, data keys, token)
        if flow == "one_call":
            sent = call(
                "one_call",
                measured,
                "POST",
                "/api/v1/applications",
                {
                    "service_id": "report-street-light",
                    "language": "en",
                    "contact_email": "reporter@example.org",
                    "answers": {**ANSWERS, "reporter_name": f"Per call {number}"},
                    "submit": True,
                    "declaration": True,
                },
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )
            assert sent.status_code == 201, (sent.status_code, sent.content[:500])
            assert sent.json()["status"] == "submitted", sent.json()
            continue
        started = call(
            "start",
            measured,
            "POST",
            "/api/v1/applications",
            {"service_id": "report-street-light", "language": "en", "contact_email": "reporter@example.org"},
        )
        assert started.status_code == 201, (started.status_code, started.content[:500])
        application = started.json()["id"]
        saved = call(
            "answers",
            measured,
            "PATCH",
            f"/api/v1/applications/{application}/answers",
            {"answers": {**ANSWERS, "reporter_name": f"Per call {number}"}},
        )
        assert saved.status_code == 200, (saved.status_code, saved.content[:500])
        sent = call(
            "submit",
            measured,
            "POST",
            f"/api/v1/applications/{application}/submit",
            {"declaration": True},
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        assert sent.status_code == 200, (sent.status_code, sent.content[:500])
        assert sent.json()["status"] == "submitted", sent.json()
    printed = {}
    for name, profile in profiles.items():
        out = io.StringIO()
        if dump := os.environ.get("GOVSERVE_PER_CALL_PROFILE_DUMP", ""):  # a pstats file to explore
            profile.dump_stats(f"{dump}.{name}")
        stats = pstats.Stats(profile, stream=out).sort_stats(sort)
        if sort == "cumulative":
            stats.print_stats(r"govserve|rules|jsonschema|cel", 60)
        else:  # where the time is spent, library code included
            stats.print_stats(60)
        printed[name] = out.getvalue()
    rows = [
        {
            "call": name,
            "cpu_ms": round(statistics.median(sample[0] for sample in samples[name]) * 1000, 2),
            "statements": statistics.median(sample[1] for sample in samples[name]),
            "commits": statistics.median(sample[2] for sample in samples[name]),
        }
        for name in calls
    ]
    return {"rows": rows, "profiles": printed, "vendor": connection.vendor, "statements": last_statements}


def main(argv: list[str]) -> int:
    """Prepare a database, make the submissions in a child process, print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api_bench.per_call")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL database gs_..., dropped and created; default: SQLite"
    )
    parser.add_argument("--flow", default="three_calls", choices=sorted(FLOWS), help="the calls of a submission")
    parser.add_argument(
        "--profile", action="append", default=[], choices=[*CALLS, "one_call"], help="print this call's profile"
    )
    parser.add_argument(
        "--profile-sort",
        default="cumulative",
        choices=["cumulative", "tottime"],
        help="cumulative: govserve's functions; tottime: every function by its own time",
    )
    parser.add_argument(
        "--statements", action="append", default=[], help="print this call's SQL statements (the last round)"
    )
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        result = _submissions(
            options.rounds, options.child, frozenset(options.profile), options.flow, options.profile_sort
        )
        sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
        return 0
    if options.database_url:
        from benchmarks.casework_bench.per_page import _fresh_postgres  # noqa: PLC0415

        _fresh_postgres(options.database_url)
    with tempfile.TemporaryDirectory(prefix="gs-bench-api-per-call-") as temporary:
        directory = Path(temporary)
        env = production_environment(
            database_url=options.database_url or f"sqlite:///{directory / 'per-call.sqlite3'}", var_dir=directory
        )
        request = directory / "prepare.json"
        request.write_text("{}", encoding="utf-8")
        prepared = subprocess.run(
            [sys.executable, "-m", "benchmarks.api_bench.database", "prepare", str(request)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        lines = [line for line in prepared.stdout.splitlines() if line.startswith(RESULT_MARKER)]
        if prepared.returncode != 0 or not lines:
            print(prepared.stderr[-3000:], file=sys.stderr)
            return 1
        token = json.loads(lines[-1].removeprefix(RESULT_MARKER))["token"]
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.api_bench.per_call",
                "--child",
                token,
                "--rounds",
                str(options.rounds),
                "--flow",
                options.flow,
                *(f"--profile={name}" for name in options.profile),
                f"--profile-sort={options.profile_sort}",
            ],
            cwd=ROOT,
            env={
                **env,
                "PYTHONWARNINGS": "ignore",
                "GOVSERVE_PER_CALL_PROFILE_DUMP": os.environ.get("GOVSERVE_PER_CALL_PROFILE_DUMP", ""),
            },
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
        if completed.returncode != 0 or not lines:
            print(completed.stderr[-3000:], file=sys.stderr)
            return 1
    result = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    for name in options.statements:
        print(f"--- statements of {name}")
        for number, sql in enumerate(result["statements"].get(name, []), start=1):
            print(f"{number:3} {sql}")
    for name, text in result["profiles"].items():
        print(f"--- profile of {name}")
        print(text)
    print(f"{result['vendor']}: {'call':10} {'CPU ms':>7} {'stmts':>6} {'commits':>7}")
    for row in result["rows"]:
        print(
            f"{'':{len(result['vendor']) + 2}}{row['call']:10} {row['cpu_ms']:7.2f} {row['statements']:6}"
            f" {row['commits']:7}"
        )
    total = sum(row["cpu_ms"] for row in result["rows"])
    print(f"{'':{len(result['vendor']) + 2}}{'submission':10} {total:7.2f}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
