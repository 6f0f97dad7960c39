"""The timed phases: wrk (closed loop) and the open-loop driver, with the CPU each party used.

Every phase measures, beside the load generator's own tally, the CPU the
server used (master, workers, recycled workers), the CPU the generator used,
and the CPU the whole machine was busy for: what is left is other processes'
use of the machine during the phase, reported so that figures taken on a
shared machine can be read for what they are.
"""

from __future__ import annotations

import json
import math
import os
import signal
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
TAIL_SECONDS = 30


@dataclass
class Phase:
    """What one timed phase measured: the generator's tally and the CPU of everyone involved.

    ``window_ok`` successful requests were answered in the measured window of
    ``window_seconds``; ``wall_seconds`` also covers the tail after it (wrk
    lets each citizen finish the request it has in flight).
    """

    tally: dict[str, Any]
    window_ok: int
    window_seconds: float
    wall_seconds: float
    server_cpu: float
    generator_cpu: float
    machine_busy: float
    load_average: float
    details: dict[str, Any]

    @property
    def requests(self) -> int:
        """Return the requests answered in the phase, successful or not."""
        return int(self.tally["ok"]) + int(self.tally["failed"])

    @property
    def per_second(self) -> float:
        """Return the successful requests per second in the measured window."""
        return self.window_ok / self.window_seconds

    def figures(self) -> dict[str, Any]:
        """Return the phase's rate and CPU shares (cores: CPU seconds per second of the phase)."""
        others = max(0.0, self.machine_busy - self.server_cpu - self.generator_cpu)
        return {
            "ok": self.tally["ok"],
            "failed": self.tally["failed"],
            "seconds": round(self.window_seconds, 2),
            "per_second": round(self.per_second, 1),
            "server_cpu_ms_per_request": round(self.server_cpu / max(self.requests, 1) * 1000, 2),
            "server_cores": round(self.server_cpu / self.wall_seconds, 2),
            "generator_cores": round(self.generator_cpu / self.wall_seconds, 2),
            "other_processes_cores": round(others / self.wall_seconds, 2),
            "load_average_1min": self.load_average,
            **self.details,
        }


@dataclass(frozen=True)
class Run:
    """What a load generator returns: its tally, the window's successes and length, its CPU, other details."""

    tally: dict[str, Any]
    window_ok: int
    window_seconds: float
    generator_cpu: float
    details: dict[str, Any]


def measured(server: Server, run: Callable[[], Run]) -> Phase:
    """Run a phase and measure the server's, the generator's and the whole machine's CPU around it."""
    server_before, busy_before, started = server.cpu_seconds(), system_cpu_busy_seconds(), time.perf_counter()
    result = run()
    return Phase(
        tally=result.tally,
        window_ok=result.window_ok,
        window_seconds=result.window_seconds,
        wall_seconds=time.perf_counter() - started,
        server_cpu=server.cpu_seconds() - server_before,
        generator_cpu=result.generator_cpu,
        machine_busy=system_cpu_busy_seconds() - busy_before,
        load_average=round(os.getloadavg()[0], 1),
        details=result.details,
    )


def citizens_write(path: Path, citizens: list[Citizen]) -> None:
    """Write the citizens for ``journey.lua``, one line each: who they are and where they are in their walk."""
    lines = []
    for citizen in citizens:
        values = citizen.values
        columns = [
            str(citizen.number),
            citizen.ip,
            citizen.cookie_header(),
            citizen.variant,
            str(citizen.position),
            citizen.application,
            values.get("csrfmiddlewaretoken", ""),
            values.get("start_key", ""),
            values.get("submit_key", ""),
        ]
        assert all("\t" not in column and "\n" not in column for column in columns)
        lines.append("\t".join(columns) + "\n")
    path.write_text("".join(lines), encoding="utf-8")


def _state_read(line: str, citizen: Citizen) -> None:
    columns = line.rstrip("\n").split("\t")
    citizen.position = int(columns[4])
    citizen.application = columns[5]
    names = ("csrfmiddlewaretoken", "start_key", "submit_key")
    citizen.values = {name: value for name, value in zip(names, columns[6:9], strict=True) if value}


def wrk_phase(server: Server, *, plan: Path, citizens: list[Citizen], seconds: float) -> Phase:
    """Run wrk on ``server``: one connection (and thread) per citizen, closed loop, no think time.

    The window is ``seconds`` long; then each citizen finishes the request it
    has in flight and stops, and wrk is interrupted once all have. A citizen
    still waiting for an answer :data:`TAIL_SECONDS` after the window (a
    stalled server) is cut off: its walk starts again next time, and the
    tally counts it as ``interrupted`` (the server may have acted on that
    request without the citizen hearing of it).
    """
    work = plan.parent / f"wrk-{time.monotonic_ns()}"
    states = work / "states"
    states.mkdir(parents=True)
    citizens_path, result = work / "citizens.tsv", work / "result.json"
    citizens_write(citizens_path, citizens)

    def run() -> Run:
        start = time.monotonic()
        deadline = start + seconds
        env = {
            **os.environ,
            "JOURNEY_PLAN": str(plan),
            "JOURNEY_CITIZENS": str(citizens_path),
            "JOURNEY_HOST": server.host,
            "JOURNEY_START": repr(start),
            "JOURNEY_DEADLINE": repr(deadline),
            "JOURNEY_STATE_DIR": str(states),
            "JOURNEY_RESULT": str(result),
        }
        clients = len(citizens)
        command = ["wrk", f"-t{clients}", f"-c{clients}", f"-d{math.ceil(seconds + TAIL_SECONDS)}s"]
        command += ["--timeout", f"{TAIL_SECONDS}s", "-s", str(LUA), f"http://127.0.0.1:{server.port}/"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while process.poll() is None and sum(1 for _ in states.iterdir()) < clients:
            time.sleep(0.05)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # every citizen has stopped: end wrk's wait for its duration
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 or not result.exists():
            stderr = process.stderr.read().decode() if process.stderr else ""
            msg = f"wrk failed ({process.returncode}): {stderr[-2000:]}"
            raise RuntimeError(msg)
        tally: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        interrupted = 0
        for citizen in citizens:
            state = states / f"{citizen.number}.tsv"
            if state.exists():
                _state_read(state.read_text(encoding="utf-8"), citizen)
            else:
                citizen.walk_restart()
                interrupted += 1
        tally["interrupted"] = interrupted
        details = {"wrk_latency_ms": tally.pop("latency_ms"), "wrk_errors": tally.pop("wrk_errors")}
        return Run(
            tally=tally,
            window_ok=int(tally.pop("ok_window")),
            window_seconds=seconds,
            generator_cpu=usage.ru_utime + usage.ru_stime,
            details=details,
        )

    return measured(server, run)


def open_loop_phase(server: Server, *, work: Path, citizens: list[Citizen], rate: float, seconds: float) -> Phase:
    """Run the open-loop driver (its own process): ``rate`` page requests a second for ``seconds``.

    The citizens carry on their walks, and come back updated.
    """
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

    def run() -> Run:
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
        for citizen, state in zip(citizens, figures.pop("citizens"), strict=True):
            citizen.position, citizen.application, citizen.values = (
                state["position"],
                state["application"],
                state["values"],
            )
        tally = figures.pop("tally")
        return Run(
            tally=tally,
            window_ok=int(tally["ok"]),
            window_seconds=float(figures["seconds"]),
            generator_cpu=float(figures.pop("generator_cpu_seconds")),
            details=figures,
        )

    return measured(server, run)
