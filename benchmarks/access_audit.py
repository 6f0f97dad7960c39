"""Issue 8's benchmark: what the access audit costs the busiest staff pages (with it and without it).

    python -m benchmarks.run_all access_audit        (or: python -m benchmarks.access_audit)

Production settings (``config.settings.production``, ``DEBUG`` off, keys
generated for the run, https behind one proxy), a SQLite file, in one child
process with Django's test client (the whole middleware stack and the views,
no HTTP server), so that the figures are the server's own work. The
database is the casework benchmark's (``benchmarks/casework_bench/database.py
prepare``: a street light report made through the real services, copied to
``TASKS`` open tasks); one street-lighting engineer signs in through the real
pages (password, then the authenticator code). The file view and its
printable version (the staff pages that read personal data, and so the ones
the access audit is on) are each requested ``ROUNDS`` times with the access
audit as it runs in production (``casework.file.viewed``: one audit entry, in
its own transaction, committed at ``synchronous=FULL``) and ``ROUNDS`` times
with the audit call replaced by nothing, the two taking turns request by
request, each on a different file. Per request: CPU (``time.thread_time``),
wall clock and SQL statements; medians and p90. Checked: every response 200
with the file's reference and an answer; the audited requests wrote exactly
one entry each and the others none.

The subject access export has its own benchmark (``benchmarks/subject_access.py``).
Figures are recorded in benchmarks/README.md ("Access audit").
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

from benchmarks.journey.server import PUBLIC_HOST, ROOT, production_environment

TASKS = int(os.environ.get("GOVSERVE_BENCH_ACCESS_AUDIT_TASKS", "400"))
ROUNDS = int(os.environ.get("GOVSERVE_BENCH_ACCESS_AUDIT_ROUNDS", "60"))
OPERATOR = "engineer0"
RESULT_MARKER = "ACCESS-AUDIT-BENCH-RESULT "
_ENTRY = (
    "import json, sys; from benchmarks.access_audit import child; "
    f"print({RESULT_MARKER!r} + json.dumps(child(sys.argv[1])))"
)


def _figures(samples: list[tuple[float, float, int]]) -> dict[str, float]:
    cpu = sorted(sample[0] for sample in samples)
    wall = sorted(sample[1] for sample in samples)
    return {
        "cpu_ms_p50": round(statistics.median(cpu) * 1000, 2),
        "cpu_ms_p90": round(cpu[int(len(cpu) * 0.9)] * 1000, 2),
        "wall_ms_p50": round(statistics.median(wall) * 1000, 2),
        "wall_ms_p90": round(wall[int(len(wall) * 0.9)] * 1000, 2),
        "statements": statistics.median(sample[2] for sample in samples),
    }


def _signed_in(state: dict[str, Any]) -> Any:
    from django.test import Client  # noqa: PLC0415
    from django_otp.oath import totp  # noqa: PLC0415

    staff = state["staff"][0]
    client = Client(HTTP_HOST=PUBLIC_HOST, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="10.79.0.9")
    client.get("/staff/sign-in", secure=True)
    answer = client.post("/staff/sign-in", {"username": staff["username"], "password": state["password"]}, secure=True)
    assert answer.status_code == 302, (answer.status_code, answer.content[:300])
    client.get("/staff/sign-in/code", secure=True)
    answer = client.post("/staff/sign-in/code", {"code": f"{totp(bytes.fromhex(staff['totp_key'])):06d}"}, secure=True)
    assert answer.status_code == 302, (answer.status_code, answer.content[:300])
    return client


def _access_audit(state: dict[str, Any], rounds: int) -> dict[str, Any]:
    """Request the file view and print with and without the access audit, taking turns; return the figures."""
    from django.db import connection  # noqa: PLC0415

    from govserve.audit.models import AuditEntry  # noqa: PLC0415
    from govserve.casework import selectors  # noqa: PLC0415

    client = _signed_in(state)
    audited_call = getattr(selectors, "audit_record")  # noqa: B009 - the name the file view calls
    statements = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += 1
        return execute(sql, params, many, context)

    def skipped(**_kwargs: Any) -> None:
        return None

    files = [(task["file_id"], task["reference"]) for task in state["tasks"]]
    pages = {"file_view": "/staff/files/{file_id}/", "file_print": "/staff/files/{file_id}/print"}
    samples: dict[str, list[tuple[float, float, int]]] = {
        f"{page}_{variant}": [] for page in pages for variant in ("audited", "unaudited")
    }
    viewed_before = AuditEntry.objects.filter(action="casework.file.viewed").count()
    audited_requests = 0
    with connection.execute_wrapper(count):
        for number in range(rounds + 1):
            for page, template in pages.items():
                for variant in ("audited", "unaudited"):
                    file_id, reference = files[(number * 4 + len(samples)) % len(files)]
                    replacement = audited_call if variant == "audited" else skipped
                    statements[0] = 0
                    with patch.object(selectors, "audit_record", replacement):
                        started, wall = time.thread_time(), time.perf_counter()
                        response = client.get(template.format(file_id=file_id), secure=True)
                        cpu, wall = time.thread_time() - started, time.perf_counter() - wall
                    assert response.status_code == 200, (page, response.status_code)
                    assert reference.encode() in response.content, page
                    assert b"WM-04512" in response.content, page
                    audited_requests += variant == "audited"
                    if number:  # the first round fills the caches
                        samples[f"{page}_{variant}"].append((cpu, wall, statements[0]))
    written = AuditEntry.objects.filter(action="casework.file.viewed").count() - viewed_before
    assert written == audited_requests, (written, audited_requests)
    figures: dict[str, Any] = {name: _figures(rows) for name, rows in samples.items()}
    for page in pages:
        with_audit, without = figures[f"{page}_audited"], figures[f"{page}_unaudited"]
        figures[f"{page}_audit_cost"] = {
            "cpu_ms": round(with_audit["cpu_ms_p50"] - without["cpu_ms_p50"], 2),
            "wall_ms": round(with_audit["wall_ms_p50"] - without["wall_ms_p50"], 2),
            "statements": with_audit["statements"] - without["statements"],
        }
    figures["audit_entries_checked"] = written
    return figures


def child(state_path: str) -> dict[str, Any]:
    """In the child process (production settings): the measurement."""
    import django  # noqa: PLC0415

    django.setup()
    state = json.loads(Path(state_path).read_text(encoding="utf-8"))
    return _access_audit(state, state["rounds"])


def main() -> dict[str, Any]:
    """Prepare the database, run the child, return its figures with the settings and the machine."""
    from benchmarks.casework import _child  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="govserve-access-audit-bench-") as raw:
        directory = Path(raw)
        env = production_environment(database_url=f"sqlite:///{directory / 'access-audit.sqlite3'}", var_dir=directory)
        password = secrets.token_urlsafe(18)
        prepared = _child(
            "prepare", env, directory, {"tasks": TASKS, "operators": [{"username": OPERATOR, "password": password}]}
        )
        if prepared["problems"]:
            raise SystemExit(f"the database is not as it should be: {prepared['problems']}")
        state = {"password": password, "staff": prepared["staff"], "tasks": prepared["tasks"][:300], "rounds": ROUNDS}
        state_path = directory / "state.json"
        state_path.write_text(json.dumps(state), encoding="utf-8")
        completed = subprocess.run(
            [sys.executable, "-c", _ENTRY, str(state_path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
        if completed.returncode != 0 or not lines:
            msg = f"the access audit benchmark failed ({completed.returncode}): {completed.stderr[-4000:]}"
            raise RuntimeError(msg)
        figures: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    load = os.getloadavg()
    figures["settings"] = {
        "open_tasks": TASKS,
        "rounds": ROUNDS,
        "database": "SQLite file (production settings)",
        "load_average_after": [round(value, 1) for value in load],
        "cpus": os.cpu_count(),
    }
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
