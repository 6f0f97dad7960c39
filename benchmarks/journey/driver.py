"""The open-loop load generator: page requests at a constant rate, whatever the server's pace.

Run as its own process (``python -m benchmarks.journey.driver CONFIG.json``;
it prints one JSON line), so that its CPU is its own and measured
(``getrusage``). Request ``i`` is due at ``start + i / rate``; at that moment
it goes to a citizen who is not waiting for an answer (the next request of
that citizen's walk). Latency is measured from when the request was due, not
from when it was sent, so a server (or generator) that falls behind shows
it in the figures instead of slowing the arrivals down (the "coordinated
omission" a closed-loop tool such as wrk suffers from). With enough citizens
for the rate, a citizen is almost always free; the time a due request waited
for one is part of its latency.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.journey.http import ExchangeError, exchange
from benchmarks.journey.plan import BASELINE, variants
from benchmarks.journey.walker import Citizen, Site, Tally, Walker

GRACE_FACTOR = 1.0


def percentiles(values: list[float]) -> dict[str, float]:
    """Return p50/p95/p99/max (nearest rank) of ``values`` in milliseconds (``values`` in seconds)."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] * 1000, 1)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": round(ordered[-1] * 1000, 1)}


async def send(walker: Walker, port: int) -> bool:
    """Send the walker's next request and check the answer; return success (failures are counted)."""
    try:
        response = await exchange(port, walker.next_request())
    except (OSError, TimeoutError, ExchangeError) as error:
        walker.failed(type(error).__name__)
        return False
    return walker.answered(response)


async def walk_once(walker: Walker, port: int) -> None:
    """Walk the whole plan once, request after request; raise RuntimeError at the first failure."""
    for _ in walker.plan.steps:
        step = walker.step
        if not await send(walker, port):
            raise RuntimeError(f"the walk failed at {step.name}: {dict(walker.tally.failures)}")


async def open_loop(*, walkers: list[Walker], port: int, rate: float, seconds: float) -> dict[str, Any]:
    """Offer ``rate`` page requests a second for ``seconds``; return latencies and how closely the rate was kept.

    A server that cannot keep up makes the backlog grow without end: the
    phase stops :data:`GRACE_FACTOR` times its length after the last request
    was due. The requests not yet sent then (still waiting for a free
    citizen) are ``abandoned`` and enter the percentiles with the time they
    had waited (a lower bound), and the result says ``saturated``; the
    requests in flight are answered first (each within the client timeout),
    so every citizen knows where they are in their walk.
    """
    loop = asyncio.get_running_loop()
    idle: asyncio.Queue[Walker] = asyncio.Queue()
    for walker in walkers:
        idle.put_nowait(walker)
    latencies: list[float] = []
    service: list[float] = []
    lateness: list[float] = []
    total = int(rate * seconds)
    start = loop.time() + 0.05
    sending: set[asyncio.Task[None]] = set()

    async def one(due: float) -> None:
        walker = await idle.get()
        task = asyncio.current_task()
        assert task is not None
        sending.add(task)
        sent = loop.time()
        lateness.append(sent - due)
        await send(walker, port)
        finished = loop.time()
        latencies.append(finished - due)
        service.append(finished - sent)
        idle.put_nowait(walker)

    tasks = []
    dues = []
    for number in range(total):
        due = start + number / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        dues.append(due)
        tasks.append(asyncio.create_task(one(due)))
    deadline = start + seconds * (1 + GRACE_FACTOR)
    _done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
    stopped = loop.time()
    waiting = {task for task in pending if task not in sending}
    for task in waiting:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    abandoned = [stopped - due for due, task in zip(dues, tasks, strict=True) if task in waiting]
    elapsed = (stopped if pending else loop.time()) - start
    answered = total - len(abandoned)
    return {
        "offered_per_second": rate,
        "requests": total,
        "abandoned": len(abandoned),
        "saturated": bool(abandoned) or answered / elapsed < 0.95 * rate,
        "seconds": round(elapsed, 2),
        "achieved_per_second": round(answered / elapsed, 1),
        "latency_ms": percentiles(latencies + abandoned),
        "service_ms": percentiles(service),
        "dispatch_lateness_ms": percentiles(lateness),
    }


def walkers_from(config: dict[str, Any], tally: Tally) -> list[Walker]:
    """Return the walkers the config describes (its citizens, on the journey or the baseline plan)."""
    site = Site(port=int(config["port"]), host=str(config["host"]))
    plans = {**variants(), BASELINE.name: BASELINE}
    walkers = []
    for entry in config["citizens"]:
        citizen = Citizen(**entry)
        # The baseline is measured as its instructions say: every request without cookies (a new session).
        keep_cookies = citizen.variant != BASELINE.name
        walkers.append(
            Walker(citizen=citizen, plan=plans[citizen.variant], site=site, tally=tally, keep_cookies=keep_cookies)
        )
    return walkers


def main(config_path: str) -> None:
    """Run the open loop the config file describes; print one JSON line with the figures and the tally."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    tally = Tally()
    walkers = walkers_from(config, tally)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.perf_counter()
    figures = asyncio.run(
        open_loop(
            walkers=walkers, port=int(config["port"]), rate=float(config["rate"]), seconds=float(config["seconds"])
        )
    )
    wall = time.perf_counter() - wall_before
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    figures["generator_cpu_seconds"] = round(cpu, 2)
    figures["generator_cpu_share_of_one_core"] = round(cpu / wall, 3)
    figures["tally"] = tally.as_dict()
    figures["citizens"] = [walker.citizen.__dict__ for walker in walkers]
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
