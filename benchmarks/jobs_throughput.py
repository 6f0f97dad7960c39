"""Background jobs: jobs per second through one and two workers; outbox commit-to-start latency.

Every run uses a fresh migrated database (a temporary SQLite file in WAL mode,
or a temporary PostgreSQL database) and real processes with production
settings (``config.settings.production``, JSON logs at INFO): ``govserve
worker`` processes and a separate business process that enqueues jobs inside
its transactions, exactly as a web request does.

- Throughput: the workers are started and idle; one transaction commits
  ``THROUGHPUT_JOBS`` no-op jobs; jobs per second = jobs / (last attempt
  finished - first attempt started), from the attempt rows, so process start-up
  is not counted. Also the workers' CPU time per job (``/proc``), which other
  load on the machine affects far less than wall-clock rates.
- Latency: two idle workers; the business process commits one job per
  transaction, 20 a second; latency = the attempt's start (worker clock) - the
  wall-clock time at which the business transaction's COMMIT returned (same
  machine). PostgreSQL workers wake on NOTIFY; SQLite workers poll every 0.1 s.

Verified after every run: each job ran exactly once (its one log line; one
attempt row; state succeeded), no worker logged an error.

    python -m benchmarks.run_all jobs_throughput
    GOVSERVE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres  (admin URL; "" skips PostgreSQL)
    GOVSERVE_BENCH_JOBS=2000  (jobs per throughput run)
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOVSERVE = str(ROOT / ".venv" / "bin" / "govserve")
THROUGHPUT_JOBS = int(os.environ.get("GOVSERVE_BENCH_JOBS", "2000"))
LATENCY_JOBS = 200
WORKER_MODULE = ("--with-module", "benchmarks._jobs_bench_tasks")
STATES_SQL = "SELECT state, COUNT(*) FROM core_jobrecord GROUP BY state"
DEFAULT_POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def _environment(database_url: str, log_path: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "GOVSERVE_KEYS": f"bench:{secrets.token_urlsafe(32)}",
            "GOVSERVE_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
            "LOG_LEVEL": "INFO",
            "GOVSERVE_BENCH_JOBS_LOG": str(log_path),
            "PYTHONPATH": str(ROOT),
        }
    )
    return environment


@dataclass
class Database:
    """A fresh migrated database for one run, and raw access to it for the measurements."""

    vendor: str
    url: str
    directory: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.directory / "jobs.log"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.vendor == "sqlite":
            with closing(sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)) as conn:
                return conn.execute(sql).fetchall()
        import psycopg  # noqa: PLC0415

        with closing(psycopg.connect(self.url)) as conn:
            return conn.execute(sql).fetchall()

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        with (self.directory / f"{name}.err").open("wb") as stderr:
            process = subprocess.Popen(
                command,
                env=_environment(self.url, self.log_path),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.processes.append(process)
        return process

    def stderr(self, name: str) -> str:
        return (self.directory / f"{name}.err").read_text(encoding="utf-8", errors="replace")

    def start_workers(self, count: int) -> list[str]:
        names = [f"worker{i}" for i in range(1, count + 1)]
        for name in names:
            self.start(
                name,
                [GOVSERVE, "worker", "--skip-checks", "--no-schedules", "--worker-id", name, *WORKER_MODULE],
            )
        deadline = time.monotonic() + 120
        while not all('"event": "worker.started"' in self.stderr(name) for name in names):
            if time.monotonic() > deadline:
                msg = "workers did not start: " + " | ".join(self.stderr(name)[-500:] for name in names)
                raise RuntimeError(msg)
            time.sleep(0.1)
        time.sleep(0.5)  # past the first poll: every worker is idle and waiting
        return names

    def produce(self, mode: str, count: int) -> dict[str, float]:
        out = self.directory / f"commits-{mode}.json"
        producer = self.start(
            f"producer-{mode}", [sys.executable, "-m", "benchmarks._jobs_bench_producer", mode, str(count), str(out)]
        )
        if producer.wait(timeout=600) != 0:
            raise RuntimeError(self.stderr(f"producer-{mode}")[-2000:])
        commits: dict[str, float] = json.loads(out.read_text(encoding="utf-8"))["commits"]
        return commits

    def wait_until_done(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.query("SELECT COUNT(*) FROM core_jobrecord WHERE state = 'succeeded'")[0][0] < count:
            if time.monotonic() > deadline:
                msg = f"jobs did not finish: {self.query(STATES_SQL)}"
                raise RuntimeError(msg)
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def attempt_times(self) -> list[tuple[int, dt.datetime, dt.datetime]]:
        """Return (n, started_at, finished_at) of every attempt, as aware UTC datetimes."""
        rows = self.query(
            "SELECT r.kwargs, a.started_at, a.finished_at FROM core_jobattempt a "
            "JOIN core_jobrecord r ON r.id = a.job_id"
        )
        return [(int(_json(kwargs)["n"]), _aware(started), _aware(finished)) for kwargs, started, finished in rows]

    def verify_each_ran_once(self, count: int, worker_names: list[str]) -> None:
        lines = self.log_path.read_text(encoding="ascii").splitlines()
        runs = collections.Counter(int(line.split()[0]) for line in lines)
        if sorted(runs) != list(range(count)) or set(runs.values()) != {1}:
            duplicated = [n for n, times in runs.items() if times > 1]
            msg = f"expected each of {count} jobs to run once: {len(runs)} ran, duplicates {duplicated[:10]}"
            raise AssertionError(msg)
        states = self.query("SELECT state, COUNT(*), MAX(attempts) FROM core_jobrecord GROUP BY state")
        if states != [("succeeded", count, 1)]:
            msg = f"expected {count} jobs succeeded at the first attempt, got {states}"
            raise AssertionError(msg)
        if self.query("SELECT COUNT(*) FROM core_jobattempt")[0][0] != count:
            raise AssertionError("expected one attempt row per job")
        for name in worker_names:
            text = self.stderr(name)
            if "Traceback" in text or '"level": "error"' in text or "database is locked" in text:
                msg = f"{name} logged an error: {text[-2000:]}"
                raise AssertionError(msg)


def _json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def _postgres_admin_url() -> str:
    return os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL)


def _postgres_available() -> bool:
    url = _postgres_admin_url()
    if not url:
        return False
    try:
        import psycopg  # noqa: PLC0415

        with closing(psycopg.connect(url, connect_timeout=3)):
            return True
    except Exception:  # no server: the PostgreSQL figures are skipped, and the figures say so
        return False


def _migrate(url: str, directory: Path) -> None:
    subprocess.run(
        [GOVSERVE, "migrate", "--skip-checks", "-v", "0"],
        env=_environment(url, directory / "unused.log"),
        cwd=ROOT,
        check=True,
        timeout=600,
        capture_output=True,
    )


@contextmanager
def _templates(vendor: str, directory: Path) -> Iterator[str]:
    """Migrate once per backend; yield the template (file path or database name)."""
    if vendor == "sqlite":
        path = directory / "template.sqlite3"
        _migrate(f"sqlite:///{path}", directory)
        yield str(path)
        return
    import psycopg  # noqa: PLC0415

    name = f"gs_bench_jobs_tpl_{uuid.uuid4().hex[:8]}"
    with closing(psycopg.connect(_postgres_admin_url(), autocommit=True)) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        _migrate(_postgres_admin_url().rsplit("/", 1)[0] + f"/{name}", directory)
        yield name
    finally:
        with closing(psycopg.connect(_postgres_admin_url(), autocommit=True)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _fresh(vendor: str, template: str, directory: Path) -> Iterator[Database]:
    run_directory = Path(tempfile.mkdtemp(dir=directory))
    if vendor == "sqlite":
        path = run_directory / "bench.sqlite3"
        shutil.copyfile(template, path)
        database = Database(vendor=vendor, url=f"sqlite:///{path}", directory=run_directory)
        try:
            yield database
        finally:
            database.stop()
        return
    import psycopg  # noqa: PLC0415

    name = f"gs_bench_jobs_{uuid.uuid4().hex[:8]}"
    with closing(psycopg.connect(_postgres_admin_url(), autocommit=True)) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    database = Database(
        vendor=vendor, url=_postgres_admin_url().rsplit("/", 1)[0] + f"/{name}", directory=run_directory
    )
    try:
        yield database
    finally:
        database.stop()
        with closing(psycopg.connect(_postgres_admin_url(), autocommit=True)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _throughput(vendor: str, template: str, directory: Path, workers: int) -> dict[str, float]:
    with _fresh(vendor, template, directory) as database:
        names = database.start_workers(workers)
        worker_pids = [process.pid for process in database.processes]
        cpu_before = sum(_cpu_seconds(pid) for pid in worker_pids)
        database.produce("bulk", THROUGHPUT_JOBS)
        database.wait_until_done(THROUGHPUT_JOBS)
        cpu_used = sum(_cpu_seconds(pid) for pid in worker_pids) - cpu_before
        database.stop()
        database.verify_each_ran_once(THROUGHPUT_JOBS, names)
        times = database.attempt_times()
        span = (max(finished for _, _, finished in times) - min(started for _, started, _ in times)).total_seconds()
        pids = {line.split()[1] for line in database.log_path.read_text(encoding="ascii").splitlines()}
        if len(pids) != workers:
            msg = f"expected all {workers} workers to take part, saw {len(pids)}"
            raise AssertionError(msg)
        return {
            "jobs_per_second": round(THROUGHPUT_JOBS / span, 1),
            "worker_cpu_ms_per_job": round(cpu_used / THROUGHPUT_JOBS * 1000, 2),
        }


def _latency(vendor: str, template: str, directory: Path) -> dict[str, float]:
    with _fresh(vendor, template, directory) as database:
        names = database.start_workers(2)
        commits = database.produce("paced", LATENCY_JOBS)
        database.wait_until_done(LATENCY_JOBS)
        database.stop()
        database.verify_each_ran_once(LATENCY_JOBS, names)
        latencies_ms = sorted(
            (started.timestamp() - commits[str(n)]) * 1000 for n, started, _ in database.attempt_times()
        )
        quantiles = statistics.quantiles(latencies_ms, n=100, method="inclusive")
        return {
            "p50_ms": round(statistics.median(latencies_ms), 1),
            "p95_ms": round(quantiles[94], 1),
            "max_ms": round(latencies_ms[-1], 1),
        }


def main() -> dict[str, Any]:
    """Run every measurement on SQLite and (when reachable) PostgreSQL; return the figures."""
    figures: dict[str, Any] = {"jobs_per_throughput_run": THROUGHPUT_JOBS, "latency_jobs": LATENCY_JOBS}
    vendors = ["sqlite"] + (["postgresql"] if _postgres_available() else [])
    if "postgresql" not in vendors:
        figures["postgresql"] = "skipped: no server at GOVSERVE_BENCH_POSTGRES_URL"
    with tempfile.TemporaryDirectory(prefix="gs-bench-jobs-") as temporary:
        directory = Path(temporary)
        for vendor in vendors:
            with _templates(vendor, directory) as template:
                result: dict[str, Any] = {
                    "1_worker": _throughput(vendor, template, directory, 1),
                    "2_workers": _throughput(vendor, template, directory, 2),
                    "commit_to_start_latency": _latency(vendor, template, directory),
                    "load_average_1min": round(os.getloadavg()[0], 1),
                }
            figures[vendor] = result
            print(json.dumps({vendor: result}), flush=True)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
