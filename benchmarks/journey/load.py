"""The timed phases: wrk (closed loop) and the open-loop driver, with the CPU each party used.

Every phase measures, beside the load generator's own tally, the CPU the
server used (master, workers, recycled workers), the CPU the generator used,
and the CPU the whole machine was busy for: what is left is other processes'
use of the machine during the phase, reported so that figures taken on a
shared machine can be read for what they are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.journey.server import ROOT, Server, system_cpu_busy_seconds
from benchmarks.journey.walker import Citizen

LUA = Path(__file__).resolve().parent / "journey.lua"


@dataclass
class Phase:
    """What one timed phase measured: the generator's tally and the CPU of everyone involved."""

    tally: dict[str, Any]
    seconds: float
    server_cpu: float
    generator_cpu: float
    machine_busy: float
    load_average: float
    details: dict[str, Any]

    @property
    def requests(self) -> int:
        """Return the requests answered in the phase, successful or not."""
        return int(self.tally["ok"]) + int(self.tally["failed"])

    def figures(self) -> dict[str, Any]:
        """Return the phase's rate and CPU shares (cores: CPU seconds per second of the phase)."""
        others = max(0.0, self.machine_busy - self.server_cpu - self.generator_cpu)
        return {
            "ok": self.tally["ok"],
            "failed": self.tally["failed"],
            "seconds": round(self.seconds, 2),
            "per_second": round(self.tally["ok"] / self.seconds, 1),
            "server_cpu_ms_per_request": round(self.server_cpu / max(self.requests, 1) * 1000, 2),
            "server_cores": round(self.server_cpu / self.seconds, 2),
            "generator_cores": round(self.generator_cpu / self.seconds, 2),
            "other_processes_cores": round(others / self.seconds, 2),
            "load_average_1min": self.load_average,
            **self.details,
        }


def measured(server: Server, run: Callable[[], tuple[dict[str, Any], float, float, dict[str, Any]]]) -> Phase:
    """Run a phase (``run`` returns tally, seconds, generator CPU, details); measure the server's and machine's CPU."""
    server_before, busy_before = server.cpu_seconds(), system_cpu_busy_seconds()
    tally, seconds, generator_cpu, details = run()
    return Phase(
        tally=tally,
        seconds=seconds,
        server_cpu=server.cpu_seconds() - server_before,
        generator_cpu=generator_cpu,
        machine_busy=system_cpu_busy_seconds() - busy_before,
        load_average=round(os.getloadavg()[0], 1),
        details=details,
    )


def wrk_phase(server: Server, *, plan: Path, citizens: Path, clients: int, seconds: float) -> Phase:
    """Run wrk on ``server`` for ``seconds``: one connection (and thread) per citizen, closed loop, no think time."""
    result = plan.parent / f"wrk-{time.monotonic_ns()}.json"
    env = {
        **os.environ,
        "JOURNEY_PLAN": str(plan),
        "JOURNEY_CITIZENS": str(citizens),
        "JOURNEY_HOST": server.host,
        "JOURNEY_RESULT": str(result),
    }
    command = ["wrk", f"-t{clients}", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
    command += ["-s", str(LUA), f"http://127.0.0.1:{server.port}/"]

    def run() -> tuple[dict[str, Any], float, float, dict[str, Any]]:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 or not result.exists():
            stderr = process.stderr.read().decode() if process.stderr else ""
            msg = f"wrk failed ({process.returncode}): {stderr[-2000:]}"
            raise RuntimeError(msg)
        tally: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        details = {"wrk_latency_ms": tally.pop("latency_ms"), "wrk_errors": tally.pop("wrk_errors")}
        return tally, float(tally["wrk_seconds"]), usage.ru_utime + usage.ru_stime, details

    return measured(server, run)


def open_loop_phase(server: Server, *, work: Path, citizens: list[Citizen], rate: float, seconds: float) -> Phase:
    """Run the open-loop driver (its own process): ``rate`` page requests a second for ``seconds``."""
    config = work / f"open-{time.monotonic_ns()}.json"
    config.write_text(
        json.dumps(
            {
                "port": server.port,
                "host": server.host,
                "rate": rate,
                "seconds": seconds,
                "citizens": [citizen.__dict__ for citizen in citizens],
            }
        ),
        encoding="utf-8",
    )

    def run() -> tuple[dict[str, Any], float, float, dict[str, Any]]:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.journey.driver", str(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=seconds * 4 + 180,
            check=False,
        )
        if completed.returncode != 0:
            msg = f"the open-loop driver failed: {completed.stderr[-3000:]}"
            raise RuntimeError(msg)
        figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        tally = figures.pop("tally")
        return tally, float(figures["seconds"]), float(figures.pop("generator_cpu_seconds")), figures

    return measured(server, run)
