"""The server's cost of each casework page on its own: CPU and SQL statements per request, in one process.

    python -m benchmarks.casework_bench.per_page [--tasks 2600] [--rounds 30] [--database-url URL]
        [--state DIR] [--profile PAGE] [--statements PAGE]

The casework benchmark's wall-clock figures depend on how busy the machine
is; the CPU a request costs the server does not. This builds a database as
the benchmark does (production settings, ``database.py prepare``: the street
light report made through the real services and copied ``--tasks - 1``
times; 2,600 by default so that the pool has a page 100 at 25 a page), then
in a child process with the same environment signs an operator in through
the real pages (password, then the authenticator code) with Django's test
client (the whole middleware stack and the views; no HTTP server) and
requests each page ``--rounds`` times after a warm-up round: the pool's
first page, the overdue tasks newest first, page 100 of the pool and the
file view (a different file each time). For each page it prints the CPU of
the request, p10/p50/p90 (``time.thread_time``: the machine's other load
does not count, though a busy machine still inflates it by 10-30%; on SQLite
it includes the database's work, on PostgreSQL not the server's), the SQL
statements it ran (counted by an execute wrapper, on both databases) and
the median wall-clock time in this process (on PostgreSQL it includes the
database server's time, so a slow query plan shows there).

``--state DIR`` keeps the database and its environment (generated keys) in
``DIR`` and reuses them on the next run (no second generation).
``--profile PAGE`` prints the cProfile of that page's requests (cumulative
and own time); ``--statements PAGE`` the SQL of its last request.
``--database-url`` (PostgreSQL) names a database this command may drop and
create (its name must start with ``gs_``); the default is a SQLite file.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.journey.server import PUBLIC_HOST, ROOT, production_environment

PAGES = {
    "pool_first_page": "/staff/queues/",
    "pool_overdue_newest": "/staff/queues/?overdue=1&sort=-submitted_at",
    "pool_page_100": "/staff/queues/?page=100",
    "file_view": "/staff/files/{file_id}/",
    "healthz": "/healthz",
}
CHECKS = {
    "pool_first_page": (b"tasks</h2>", b"Claim"),
    "pool_overdue_newest": (b"tasks</h2>",),
    "pool_page_100": (b"tasks</h2>", b"Claim"),
    "file_view": (b"WM-04512", b"Babbage Street"),
    "healthz": (b'"ok"',),
}
OPERATOR = "engineer0"


def _measure(  # noqa: PLR0915 - one walk, in order
    state: dict[str, Any], rounds: int, *, profile: str, shown: str, match: str, callees: str
) -> dict[str, Any]:
    """Sign in and request every page ``rounds`` + 1 times in this process; return the median figures."""
    import django  # noqa: PLC0415

    django.setup()
    from django.db import connection  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415
    from django_otp.oath import totp  # noqa: PLC0415

    staff = state["staff"][0]
    client = Client(HTTP_HOST=PUBLIC_HOST, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="10.79.0.9")
    client.get("/staff/sign-in", secure=True)
    answer = client.post("/staff/sign-in", {"username": staff["username"], "password": state["password"]}, secure=True)
    assert answer.status_code == 302, (answer.status_code, answer.content[:500])
    client.get("/staff/sign-in/code", secure=True)
    answer = client.post("/staff/sign-in/code", {"code": f"{totp(bytes.fromhex(staff['totp_key'])):06d}"}, secure=True)
    if answer.status_code == 401:  # the code of this 30-second step was used by the last run: wait for the next one
        time.sleep(30.5 - time.time() % 30)
        code = f"{totp(bytes.fromhex(staff['totp_key'])):06d}"
        answer = client.post("/staff/sign-in/code", {"code": code}, secure=True)
    assert answer.status_code == 302, (answer.status_code, answer.content[:500])

    statements: list[str] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    files = [task["file_id"] for task in state["tasks"]]
    samples: dict[str, list[tuple[float, int, float]]] = {name: [] for name in PAGES}
    traced: list[str] = []
    profiler = cProfile.Profile()
    with connection.execute_wrapper(wrapper):
        for number in range(rounds + 1):
            for name, template in PAGES.items():
                path = template.format(file_id=files[number % len(files)])
                statements.clear()
                if name == profile and number:
                    profiler.enable()
                started, wall = time.thread_time(), time.perf_counter()
                response = client.get(path, secure=True)
                cpu, wall = time.thread_time() - started, time.perf_counter() - wall
                if name == profile and number:
                    profiler.disable()
                assert response.status_code == 200, (name, path, response.status_code)
                for needle in CHECKS[name]:
                    assert needle in response.content, (name, needle)
                if not number:
                    continue  # the first round fills the caches (templates, definitions, compiled rules)
                samples[name].append((cpu, len(statements), wall))
                if name == shown:
                    traced = [statement[:400] for statement in statements]
    text = ""
    if profile:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(order)
            stats.print_stats(*([match] if match else []), 45)
            text += out.getvalue()
        if callees:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(callees)
            text += out.getvalue()
    return {
        "rows": [
            {
                "page": name,
                "cpu_ms": round(statistics.median(cpu for cpu, _, _ in rows) * 1000, 1),
                "cpu_p10_ms": round(sorted(cpu for cpu, _, _ in rows)[int(len(rows) * 0.1)] * 1000, 1),
                "cpu_p90_ms": round(sorted(cpu for cpu, _, _ in rows)[int(len(rows) * 0.9)] * 1000, 1),
                "wall_ms": round(statistics.median(wall for _, _, wall in rows) * 1000, 1),
                "statements": statistics.median(count for _, count, _ in rows),
            }
            for name, rows in samples.items()
        ],
        "profile": text,
        "statements": traced,
        "vendor": connection.vendor,
    }


def _fresh_postgres(url: str) -> None:
    """Drop and create the database of ``url`` (its name must start with ``gs_``)."""
    import psycopg  # noqa: PLC0415

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("gs_") or not name.replace("_", "").isalnum():
        msg = f"refusing to drop the database {name!r}: its name must start with gs_"
        raise SystemExit(msg)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _prepare(directory: Path, tasks: int, database_url: str) -> dict[str, Any]:
    from benchmarks.casework import _child  # noqa: PLC0415

    if database_url:
        _fresh_postgres(database_url)
    env = production_environment(
        database_url=database_url or f"sqlite:///{directory / 'per-page.sqlite3'}", var_dir=directory
    )
    password = secrets.token_urlsafe(18)
    started = time.perf_counter()
    prepared = _child(
        "prepare", env, directory, {"tasks": tasks, "operators": [{"username": OPERATOR, "password": password}]}
    )
    if prepared["problems"]:
        raise SystemExit(f"the database is not as it should be: {prepared['problems']}")
    return {
        "env": env,
        "password": password,
        "staff": prepared["staff"],
        "tasks": prepared["tasks"][:200],
        "open_tasks": prepared["open_tasks"],
        "prepare_seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str]) -> int:
    """Prepare (or reuse) a database, measure it in a child process, print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.casework_bench.per_page")
    parser.add_argument("--tasks", type=int, default=2600)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to drop and create (gs_*)")
    parser.add_argument("--state", default="", help="keep the database here and reuse it next time")
    parser.add_argument("--profile", default="", choices=["", *PAGES], help="print the cProfile of this page")
    parser.add_argument("--profile-match", default="", help="only the profile's lines matching this (e.g. govserve)")
    parser.add_argument("--profile-callees", default="", help="what the functions matching this called")
    parser.add_argument("--statements", default="", choices=["", *PAGES], help="print the SQL of this page")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        state = json.loads(Path(options.child).read_text(encoding="utf-8"))
        result = _measure(
            state,
            options.rounds,
            profile=options.profile,
            shown=options.statements,
            match=options.profile_match,
            callees=options.profile_callees,
        )
        sys.stdout.write("PER-PAGE " + json.dumps(result) + "\n")
        return 0
    with tempfile.TemporaryDirectory(prefix="gs-bench-casework-pages-") as temporary:
        directory = Path(options.state) if options.state else Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        state_file = directory / "per-page-state.json"
        if state_file.exists():
            state = json.loads(state_file.read_text(encoding="utf-8"))
        else:
            state = _prepare(directory, options.tasks, options.database_url)
            state_file.write_text(json.dumps(state), encoding="utf-8")
            print(f"prepared {state['open_tasks']} open tasks in {state['prepare_seconds']} s")
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.casework_bench.per_page",
                f"--child={state_file}",
                f"--rounds={options.rounds}",
                f"--profile={options.profile}",
                f"--statements={options.statements}",
                f"--profile-match={options.profile_match}",
                f"--profile-callees={options.profile_callees}",
            ],
            cwd=ROOT,
            # The code measured is the tree this command runs from (also an export of an earlier commit).
            env={**state["env"], "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"},
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("PER-PAGE ")]
    if completed.returncode != 0 or not lines:
        print(completed.stderr[-4000:], file=sys.stderr)
        return 1
    result = json.loads(lines[-1].removeprefix("PER-PAGE "))
    if result["profile"]:
        print(result["profile"])
    for statement in result["statements"]:
        print(f"    {statement}")
    print(f"{result['vendor']}, {state['open_tasks']} open tasks, {options.rounds} requests per page")
    print(f"{'page':24} {'CPU ms p10':>10} {'CPU ms p50':>10} {'CPU ms p90':>10} {'stmts':>6} {'wall ms p50':>11}")
    for row in result["rows"]:
        print(
            f"{row['page']:24} {row['cpu_p10_ms']:10.1f} {row['cpu_ms']:10.1f} {row['cpu_p90_ms']:10.1f}"
            f" {row['statements']:6} {row['wall_ms']:11.1f}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
