"""A govserve deployment for one run: a fresh database, the examples published, signed-in citizens, the server.

:func:`deployed` migrates the database, creates the institutions and one
citizen with a password per simulated client (``database.py prepare``),
publishes the examples with ``govserve publish examples/``, starts
``govserve serve --workers 2`` and signs every citizen in through the real
password sign-in pages; it stops the server on the way out.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.journey import database
from benchmarks.journey.plan import variant_of
from benchmarks.journey.server import ROOT, Server, govserve_start, module_child, production_environment
from benchmarks.journey.walker import Citizen, Site, sign_in

SIGN_IN_CONCURRENCY = 4


@dataclass
class Deployment:
    """The server of a run, its environment, and its citizens (signed in: their cookies hold the session)."""

    server: Server
    env: dict[str, str]
    directory: Path
    citizens: list[Citizen]
    citizen_ids: list[str]
    setup_seconds: float
    sign_in_peak_memory: dict[str, int]

    @property
    def site(self) -> Site:
        """Return where the server listens and the host name it answers to."""
        return Site(port=self.server.port, host=self.server.host)


def database_child(action: str, env: dict[str, str], directory: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Run ``benchmarks.journey.database ACTION`` with the server's environment; return its result."""
    return module_child(
        "benchmarks.journey.database", action, env, directory, request, marker=database.RESULT_MARKER, timeout=600
    )


async def _sign_in_all(site: Site, citizens: list[Citizen]) -> None:
    limit = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def one(citizen: Citizen) -> None:
        async with limit:
            await sign_in(site, citizen)

    await asyncio.gather(*(one(citizen) for citizen in citizens))


def citizens_new(count: int) -> list[Citizen]:
    """Return ``count`` citizens, each with a generated password, their own client address and walk."""
    return [
        Citizen(
            number=number,
            email=f"citizen{number}@bench.govserve.localhost",
            password=secrets.token_urlsafe(18),
            ip=f"10.77.{number // 250}.{number % 250 + 1}",
            variant=variant_of(number),
        )
        for number in range(count)
    ]


@contextmanager
def deployed(*, database_url: str, directory: Path, clients: int) -> Iterator[Deployment]:
    """Set up a fresh database at ``database_url``, serve it, sign ``clients`` citizens in; stop the server after.

    The server's workers are sampled for memory from before the sign-ins on
    (:meth:`Server.start_sampling`); the peak during the sign-ins is in
    ``sign_in_peak_memory`` and the server's peaks start again after them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    env = production_environment(database_url=database_url, var_dir=directory)
    citizens = citizens_new(clients)
    started = time.perf_counter()
    prepared = database_child(
        "prepare", env, directory, {"citizens": [{"email": c.email, "password": c.password} for c in citizens]}
    )
    published = subprocess.run(
        [str(Path(sys.executable).parent / "govserve"), "publish", "examples/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if published.returncode != 0:
        msg = f"govserve publish examples/ failed: {published.stdout[-2000:]} {published.stderr[-2000:]}"
        raise RuntimeError(msg)
    server = govserve_start(env=env, log=directory / "server.log")
    try:
        deployment = Deployment(
            server=server,
            env=env,
            directory=directory,
            citizens=citizens,
            citizen_ids=prepared["citizen_ids"],
            setup_seconds=0.0,
            sign_in_peak_memory={},
        )
        # The workers' memory is sampled from here on; the peak of the sign-ins (password hashing) is kept apart.
        server.start_sampling()
        asyncio.run(_sign_in_all(deployment.site, citizens))
        deployment.sign_in_peak_memory = server.peaks_restart()
        deployment.setup_seconds = round(time.perf_counter() - started, 1)
        yield deployment
    finally:
        server.stop()
