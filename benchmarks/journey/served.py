"""The served walk's cost without a profiler: server CPU per page request and requests/s, govserve only.

    python -m benchmarks.journey.served [--seconds 10] [--rounds 2] [--database-url URL] [--clients 50]

Deploys as the benchmark does (production settings, fresh database, signed-in
citizens, ``govserve serve --workers 2``), warms up with 5 s of the wrk walk,
then runs ``--rounds`` rounds of ``--seconds`` and prints each round's figures
(``server_cpu_ms_per_request`` is the workers' CPU from ``/proc``; on
PostgreSQL the database server's own is in ``other_processes_cores``). For
comparing two trees of govserve in alternating turns on the same machine,
when ``per_step`` cannot show a cost (its test client runs no health check,
no gunicorn, no connection kept between requests by the server); not the
benchmark (no baseline, no latency phases, no checks of the database after).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.journey.deployment import deployed
from benchmarks.journey.load import wrk_phase
from benchmarks.journey.plan import variants, write_for_wrk


def main(argv: list[str]) -> int:
    """Deploy, warm up, print each round's figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journey.served")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gs-bench-journey-served-") as temporary:
        work = Path(temporary)
        plan = write_for_wrk(work, variants())
        database_url = options.database_url or f"sqlite:///{work / 'served.sqlite3'}"
        with deployed(database_url=database_url, directory=work / "deployment", clients=options.clients) as deployment:
            citizens = deployment.citizens
            wrk_phase(deployment.server, plan=plan, citizens=citizens, seconds=5)  # warm up
            for _ in range(options.rounds):
                phase = wrk_phase(deployment.server, plan=plan, citizens=citizens, seconds=options.seconds)
                print(phase.figures(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
