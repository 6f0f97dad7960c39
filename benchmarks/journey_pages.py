"""Citizen journey pages: govserve's question pages under load, against a hand-written Django page.

Simulated citizens, each signed in through the real password sign-in,
complete the street trading licence journey (``benchmarks/journey/plan.py``:
start page, eight question pages, an assistant added and the "add another"
question, a photo, documents uploaded, fees, check your answers, "Accept and
send", confirmation and the satisfaction question; every step a GET, a POST
and the GET its redirect leads to) against ``govserve serve --workers 2``
with production settings, on SQLite and on PostgreSQL, each in a fresh
database. The baseline, ``../shared/bench/baseline_page.py``, is served by
the same gunicorn command in the same run and measured by the same tools.
Citizens carry on their walks from one timed phase to the next, so the mix
of pages is that of whole journeys, however short each phase is.

Figures, per database:

* throughput: page requests per second with 50 concurrent clients and no
  think time (wrk, one connection per citizen, ``benchmarks/journey/journey.lua``),
  in rounds alternating with the baseline so both see the same machine, and
  the ratio to the baseline (floor 65%, goal 80%); the server's CPU per
  request beside it (what the machine's other load does not change);
* latency: p50/p95/p99 at an offered load of 200 page requests per second,
  open loop (``benchmarks/journey/driver.py``, measured from when each
  request was due; target p95 under 100 ms), and at half the throughput
  measured (the pages' own latency when the server is not saturated);
* memory: each gunicorn worker's PSS after the run's requests (at least
  10,000 when the server is fast enough for the time allowed: the count is
  reported), and the peak of any worker while the pages were walked and
  while the citizens signed in (target under 150 MB), with the libraries
  that must load lazily (weasyprint, pyarrow, duckdb) looked for in the
  workers' memory maps.

Only successful responses count (the exact status, and the exact redirect,
each step expects); the run fails when more than 0.1% of the requests fail
or when the database does not match what the citizens were told
(``benchmarks/journey/database.py``). Figures: benchmarks/README.md.

    python -m benchmarks.run_all journey_pages
    GOVSERVE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres  (admin URL; "" skips PostgreSQL)

Needs ``wrk`` (Debian package ``wrk``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.journey.deployment import Deployment, database_child, deployed
from benchmarks.journey.driver import walk_once
from benchmarks.journey.load import Phase, open_loop_phase, wrk_phase
from benchmarks.journey.plan import BASELINE, variants, write_for_wrk
from benchmarks.journey.server import WORKERS, Server, baseline_start, heavy_libraries, machine
from benchmarks.journey.walker import Citizen, Tally, Walker

CLIENTS = 50
WARMUP_SECONDS = 5
ROUNDS = 2
ROUND_SECONDS = 8
OPEN_LOOP_RATE = 200
OPEN_LOOP_SECONDS = 10
HALF_LOAD_SECONDS = 10
PSS_AFTER_REQUESTS = 10_000
TOP_UP_MAX_SECONDS = 45
MAX_FAILURE_SHARE = 0.001
TARGETS = {"ratio_floor": 0.65, "ratio_goal": 0.80, "p95_ms": 100.0, "pss_mb": 150.0}
DATABASE_NAME = "gs_bench_journey"


def _combine(tallies: list[dict[str, Any]]) -> dict[str, Any]:
    counts = ("ok", "failed", "starts", "feedback", "walks", "interrupted")
    total: dict[str, Any] = dict.fromkeys(counts, 0) | {"submitted": [], "failures": {}}
    for tally in tallies:
        for name in counts:
            total[name] += tally[name]
        total["submitted"] += tally["submitted"]
        for reason, count in tally["failures"].items():
            total["failures"][reason] = total["failures"].get(reason, 0) + count
    return total


async def _smoke(deployment: Deployment, tally: Tally) -> None:
    """Walk each variant once, one request at a time: a plan that does not fit the pages fails here, step named."""
    plans = variants()
    seen: set[str] = set()
    for citizen in deployment.citizens:
        if citizen.variant not in seen:
            seen.add(citizen.variant)
            walker = Walker(citizen=citizen, plan=plans[citizen.variant], site=deployment.site, tally=tally)
            await walk_once(walker, deployment.server.port)


def _memory(server: Server) -> dict[str, Any]:
    """Return the live workers' memory now and the peaks of every worker seen during the run (MB)."""
    current = server.sample_memory()
    peaks = server.peaks()

    def mb(value: int) -> float:
        return round(value / 1e6, 1)

    return {
        "workers_now_mb": [{name: mb(value) for name, value in sorted(memory.items())} for memory in current.values()],
        "peak_worker_pss_mb": mb(peaks["Pss"]),
        "peak_worker_pss_anon_mb": mb(peaks["Pss_Anon"]),
        "workers_seen": peaks["workers"],
        "lazy_libraries_loaded": sorted({name for pid in current for name in heavy_libraries(pid)}),
    }


def _baseline_citizens() -> list[Citizen]:
    return [
        Citizen(number=n, email="", password="", ip=f"10.78.0.{n + 1}", variant=BASELINE.name) for n in range(CLIENTS)
    ]


def _throughput(rounds: list[dict[str, Phase]]) -> dict[str, Any]:
    def rate(side: str) -> float:
        return sum(r[side].window_ok for r in rounds) / sum(r[side].window_seconds for r in rounds)

    def cpu(side: str) -> float:
        return sum(r[side].server_cpu for r in rounds) / sum(r[side].requests for r in rounds) * 1000

    return {
        "govserve_per_second": round(rate("govserve"), 1),
        "baseline_per_second": round(rate("baseline"), 1),
        "ratio": round(rate("govserve") / rate("baseline"), 3),
        "govserve_cpu_ms_per_request": round(cpu("govserve"), 2),
        "baseline_cpu_ms_per_request": round(cpu("baseline"), 2),
        "cpu_ratio": round(cpu("baseline") / cpu("govserve"), 3),
    }


def _run_database(kind: str, database_url: str, work: Path, baseline: Server) -> dict[str, Any]:
    """Deploy on a fresh database, walk it in every phase, verify it; return the figures."""
    plan = work / "plan.tsv"
    phases: dict[str, Any] = {}
    tallies: list[dict[str, Any]] = []
    with deployed(database_url=database_url, directory=work / kind, clients=CLIENTS) as deployment:
        server = deployment.server
        smoke = Tally()
        asyncio.run(_smoke(deployment, smoke))
        tallies.append(smoke.as_dict())
        requests = 3 * CLIENTS + smoke.ok
        theirs = _baseline_citizens()

        def wrk(target: Server, citizens: list[Citizen], seconds: float) -> Phase:
            nonlocal requests
            phase = wrk_phase(target, plan=plan, citizens=citizens, seconds=seconds)
            if target is server:
                tallies.append(phase.tally)
                requests += phase.requests
            return phase

        ours = deployment.citizens
        phases["warm_up"] = wrk(server, ours, WARMUP_SECONDS).figures()
        rounds = [
            {"baseline": wrk(baseline, theirs, ROUND_SECONDS), "govserve": wrk(server, ours, ROUND_SECONDS)}
            for _ in range(ROUNDS)
        ]
        phases["throughput_rounds"] = [{side: phase.figures() for side, phase in r.items()} for r in rounds]
        capacity = min(r["govserve"].per_second for r in rounds)
        half = open_loop_phase(
            server, work=work, citizens=ours, rate=max(1.0, round(capacity / 2, 1)), seconds=HALF_LOAD_SECONDS
        )
        tallies.append(half.tally)
        requests += half.requests
        phases["open_loop_half_capacity"] = half.figures()
        open_loop = open_loop_phase(
            server, work=work, citizens=deployment.citizens, rate=OPEN_LOOP_RATE, seconds=OPEN_LOOP_SECONDS
        )
        tallies.append(open_loop.tally)
        requests += open_loop.requests
        phases["open_loop"] = open_loop.figures()
        top_up_rate = max(r["govserve"].per_second for r in rounds)
        top_up_seconds = min(TOP_UP_MAX_SECONDS, (PSS_AFTER_REQUESTS - requests) / max(top_up_rate, 1.0) * 1.1)
        if top_up_seconds > 0:
            phases["top_up"] = wrk(server, ours, max(2.0, top_up_seconds)).figures()
        memory = {
            "requests_served_before": requests,
            **_memory(server),
            "sign_in_peak_pss_mb": round(deployment.sign_in_peak_memory["Pss"] / 1e6, 1),
        }
        setup_seconds = deployment.setup_seconds
        citizens, citizen_ids, env = deployment.citizens, deployment.citizen_ids, deployment.env
    total = _combine(tallies)
    verified = database_child(
        "verify",
        env,
        work / kind,
        {
            "submitted": total["submitted"],
            "starts": total["starts"],
            "feedback": total["feedback"],
            # A request cut off in flight, or answered wrongly, may have been acted on without the citizen knowing.
            "in_flight_bound": total["interrupted"] + total["failed"],
            "citizen_ids": citizen_ids,
            "variants": [c.variant for c in citizens],
        },
    )
    baseline_failed = sum(r["baseline"].tally["failed"] for r in rounds)
    return {
        "setup_seconds": setup_seconds,
        "throughput": _throughput(rounds),
        "latency_at_200_per_second": {
            key: phases["open_loop"][key]
            for key in ("latency_ms", "service_ms", "achieved_per_second", "saturated", "abandoned", "generator_cores")
        },
        "latency_at_half_capacity": {
            key: phases["open_loop_half_capacity"][key]
            for key in ("offered_per_second", "latency_ms", "service_ms", "achieved_per_second", "saturated")
        },
        "memory": memory,
        "requests": {
            "ok": total["ok"],
            "failed": total["failed"],
            "failure_share": round(total["failed"] / max(1, total["ok"] + total["failed"]), 5),
            "failures": total["failures"],
            "journeys_submitted": len(total["submitted"]),
            "walks_completed": total["walks"],
            "interrupted_in_flight": total["interrupted"],
            "baseline_failed": baseline_failed,
        },
        "database": verified,
        "phases": phases,
    }


def _postgres(admin_url: str, work: Path, baseline: Server) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    try:
        return _run_database("postgresql", f"{admin_url.rsplit('/', 1)[0]}/{DATABASE_NAME}", work, baseline)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')


def _baseline_latency(baseline: Server, work: Path) -> dict[str, Any]:
    citizens = _baseline_citizens()
    warm = wrk_phase(baseline, plan=work / "plan.tsv", citizens=citizens, seconds=WARMUP_SECONDS)
    phase = open_loop_phase(baseline, work=work, citizens=citizens, rate=OPEN_LOOP_RATE, seconds=OPEN_LOOP_SECONDS)
    figures = phase.figures()
    keys = ("latency_ms", "service_ms", "achieved_per_second", "saturated", "failed", "generator_cores")
    return {"warm_up": warm.figures(), "latency_at_200_per_second": {key: figures[key] for key in keys}}


def _verdict(result: dict[str, Any]) -> dict[str, bool]:
    throughput, latency, memory = result["throughput"], result["latency_at_200_per_second"], result["memory"]
    return {
        "ratio_floor_65": throughput["ratio"] >= TARGETS["ratio_floor"],
        "ratio_goal_80": throughput["ratio"] >= TARGETS["ratio_goal"],
        "p95_under_100ms": not latency["saturated"] and latency["latency_ms"]["p95"] < TARGETS["p95_ms"],
        "pss_under_150mb": memory["peak_worker_pss_mb"] < TARGETS["pss_mb"],
    }


def main() -> dict[str, Any]:
    """Run the baseline, then govserve on SQLite and PostgreSQL; print and return the figures.

    Raise RuntimeError (after printing) when more than 0.1% of requests failed or the database check found a
    problem: figures from a wrong run are not figures.
    """
    if shutil.which("wrk") is None:
        msg = "wrk is not installed (Debian: apt-get install wrk)"
        raise RuntimeError(msg)
    figures: dict[str, Any] = {
        "machine": machine(),
        "load_average_at_start": [round(value, 1) for value in os.getloadavg()],
        "settings": {
            "server": f"govserve serve --workers {WORKERS} (gunicorn sync workers, --max-requests 2000 +-200)",
            "django_settings": "config.settings.production, DEBUG off, keys and SECRET_KEY generated per run",
            "clients": CLIENTS,
            "throughput": f"wrk -t{CLIENTS} -c{CLIENTS}, {ROUNDS} x {ROUND_SECONDS} s alternating with the baseline",
            "open_loop": f"{OPEN_LOOP_RATE} requests/s for {OPEN_LOOP_SECONDS} s",
        },
    }
    with tempfile.TemporaryDirectory(prefix="gs-bench-journey-") as temporary:
        work = Path(temporary)
        write_for_wrk(work, {**variants(), BASELINE.name: BASELINE})
        (work / "baseline").mkdir()
        baseline = baseline_start(directory=work / "baseline", log=work / "baseline.log")
        baseline.start_sampling()
        try:
            figures["baseline"] = _baseline_latency(baseline, work)
            figures["sqlite"] = _run_database("sqlite", f"sqlite:///{work / 'sqlite.sqlite3'}", work, baseline)
            admin_url = os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
            if admin_url:
                figures["postgresql"] = _postgres(admin_url, work, baseline)
            else:
                figures["postgresql"] = {"skipped": "GOVSERVE_BENCH_POSTGRES_URL is empty"}
            figures["baseline"]["memory"] = _memory(baseline)
        finally:
            baseline.stop()
    problems = []
    for kind in ("sqlite", "postgresql"):
        result = figures[kind]
        if "skipped" in result:
            continue
        result["targets_met"] = _verdict(result)
        counts = result["requests"]
        if counts["failure_share"] > MAX_FAILURE_SHARE:
            problems.append(f"{kind}: {counts['failed']} of {counts['ok'] + counts['failed']} requests failed")
        if counts["baseline_failed"]:
            problems.append(f"{kind}: {counts['baseline_failed']} baseline requests failed")
        problems += [f"{kind}: {problem}" for problem in result["database"]["problems"]]
    figures["load_average_at_end"] = [round(value, 1) for value in os.getloadavg()]
    print(json.dumps(figures, indent=2))
    if problems:
        msg = "; ".join(problems)
        raise RuntimeError(msg)
    return figures


if __name__ == "__main__":
    main()
