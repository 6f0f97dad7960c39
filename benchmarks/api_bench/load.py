"""The load generator of the API submission benchmark: CLIENTS concurrent clients, closed loop, in its own process.

    python -m benchmarks.api_bench.load CONFIG.json OUT.json

Each client (one keep-alive connection, its own ``X-Forwarded-For``) submits
street light reports one after another, with no think time, until the
deadline:

* ``one_call``: ``POST /api/v1/applications`` with every answer, ``submit``
  and ``declaration`` and an ``Idempotency-Key`` (201, status
  ``submitted``): what a partner system holding every answer does;
* ``three_calls``: ``POST /api/v1/applications`` (201), ``PATCH
  …/answers`` with every page's answers (200), ``POST …/submit`` with an
  ``Idempotency-Key`` (200, status ``submitted``) — a submission is
  acknowledged when all three answered so (an app that keeps a draft);
* ``baseline``: one ``POST /submit`` of the same answers (201).

Anything else fails the submission (counted, never acknowledged). Reported:
acknowledged submissions (with the reporter's name each carried, for the
verification), submissions a second, the latency of each whole submission
and of each request (p50/p95/p99), and this process's CPU.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ANSWERS = {
    "on_private_land": False,
    "problem": "damaged",
    "exposed_wires": True,
    "lamp_post_number": "WM-04512",
    "street": "Babbage Street",
    "location_details": "Opposite number 12",
    "reporter_email": "reporter@example.org",
    "contact_preference": "email",
}


def _percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)

    return {"p50": round(statistics.median(ordered) * 1000, 1), "p95": at(0.95), "p99": at(0.99), "max": at(1.0)}


class Tally:
    """What every client did (one event loop: no locks needed)."""

    def __init__(self) -> None:
        self.acknowledged: list[dict[str, str]] = []
        self.warmup_acknowledged: list[dict[str, str]] = []
        self.submission_seconds: list[float] = []
        self.request_seconds: list[float] = []
        self.failures: dict[str, int] = {}
        self.measuring = False

    def failed(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


async def _request(
    client: httpx.AsyncClient, tally: Tally, method: str, path: str, expected: int, **kwargs: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    response = await client.request(method, path, **kwargs)
    if tally.measuring:
        tally.request_seconds.append(time.perf_counter() - started)
    if response.status_code != expected:
        tally.failed(f"{method} {path.rsplit('/', maxsplit=1)[-1] or path} {response.status_code}")
        return None
    return response


async def _govserve_submission(client: httpx.AsyncClient, tally: Tally, name: str) -> dict[str, str] | None:
    started = await _request(
        client,
        tally,
        "POST",
        "/api/v1/applications",
        201,
        json={"service_id": "report-street-light", "language": "en", "contact_email": "reporter@example.org"},
    )
    if started is None:
        return None
    application_id = started.json()["id"]
    saved = await _request(
        client,
        tally,
        "PATCH",
        f"/api/v1/applications/{application_id}/answers",
        200,
        json={"answers": {**ANSWERS, "reporter_name": name}},
    )
    if saved is None:
        return None
    sent = await _request(
        client,
        tally,
        "POST",
        f"/api/v1/applications/{application_id}/submit",
        200,
        json={"declaration": True},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if sent is None or sent.json().get("status") != "submitted":
        if sent is not None:
            tally.failed(f"submit status {sent.json().get('status')}")
        return None
    return {"id": application_id, "reference": sent.json().get("reference", ""), "reporter_name": name}


async def _one_call_submission(client: httpx.AsyncClient, tally: Tally, name: str) -> dict[str, str] | None:
    sent = await _request(
        client,
        tally,
        "POST",
        "/api/v1/applications",
        201,
        json={
            "service_id": "report-street-light",
            "language": "en",
            "contact_email": "reporter@example.org",
            "answers": {**ANSWERS, "reporter_name": name},
            "submit": True,
            "declaration": True,
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if sent is None or sent.json().get("status") != "submitted":
        if sent is not None:
            tally.failed(f"one call status {sent.json().get('status')}")
        return None
    return {"id": sent.json()["id"], "reference": sent.json().get("reference", ""), "reporter_name": name}


async def _baseline_submission(client: httpx.AsyncClient, tally: Tally, name: str) -> dict[str, str] | None:
    sent = await _request(client, tally, "POST", "/submit", 201, json={"answers": {**ANSWERS, "reporter_name": name}})
    if sent is None:
        return None
    return {"id": sent.json()["id"], "reference": sent.json()["reference"], "reporter_name": name}


async def _client(number: int, config: dict[str, Any], tally: Tally, deadline: float) -> None:
    headers = {
        "Authorization": f"Bearer {config['token']}",
        "Host": config["host"],
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": f"10.80.{number // 250}.{number % 250 + 1}",
    }
    submit = {
        "one_call": _one_call_submission,
        "three_calls": _govserve_submission,
        "baseline": _baseline_submission,
    }[config["mode"]]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=config["url"], headers=headers, limits=limits, timeout=60) as client:
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            name = f"Reporter {config['mode']} {number}-{sequence}"
            started = time.perf_counter()
            try:
                done = await submit(client, tally, name)
            except httpx.HTTPError as error:
                tally.failed(type(error).__name__)
                continue
            if done is not None and tally.measuring:
                tally.acknowledged.append(done)
                tally.submission_seconds.append(time.perf_counter() - started)
            elif done is not None:
                tally.warmup_acknowledged.append(done)  # not counted, but verified with the others


async def run(config: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then measure for ``config["seconds"]``; return the figures."""
    tally = Tally()
    warm_until = time.monotonic() + config["warmup_seconds"]
    deadline = warm_until + config["seconds"]

    async def switch() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, warm_until - time.monotonic()))
        tally.measuring = True
        return time.perf_counter(), time.process_time()

    switcher = asyncio.create_task(switch())
    await asyncio.gather(*(_client(number, config, tally, deadline) for number in range(config["clients"])))
    measured_from, cpu_from = await switcher
    elapsed = time.perf_counter() - measured_from
    return {
        "mode": config["mode"],
        "clients": config["clients"],
        "seconds": round(elapsed, 2),
        "submissions": len(tally.acknowledged),
        "submissions_per_second": round(len(tally.acknowledged) / elapsed, 1),
        "submission_latency_ms": _percentiles(tally.submission_seconds),
        "request_latency_ms": _percentiles(tally.request_seconds),
        "failures": tally.failures,
        "load_generator_cpu_seconds": round(time.process_time() - cpu_from, 2),
        "acknowledged": tally.acknowledged,
        "warmup_acknowledged": tally.warmup_acknowledged,
    }


def main(config_path: str, out_path: str) -> int:
    """Run the load described in ``config_path``; write the figures to ``out_path``."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    result = asyncio.run(run(config))
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
