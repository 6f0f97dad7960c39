"""Notifications delivered per second by real workers, and outbox commit-to-delivery latency.

Every run uses a fresh migrated database (a temporary SQLite file, or a
temporary PostgreSQL database), production settings (random keys, JSON logs at
WARNING), a real SMTP server (aiosmtpd) on loopback in this process, real
``govserve worker`` processes, and a separate business process that queues
email as services do (``email_send`` inside its own transaction).

- **Throughput** (one worker, then two): the business process queues
  ``MESSAGES`` emails while no worker runs; the workers then start; rate =
  messages / (last message received by the SMTP server - first delivery
  attempt started, from the message rows). Worker start-up is not counted.
- **Commit-to-delivery latency**: two idle workers; the business process
  commits one email per transaction, ``RATE`` a second, and prints when each
  ``COMMIT`` returned; latency = the SMTP server's receipt of the message
  (matched by Message-ID) - that time (one machine, one clock).
- **Verified after every run**: every message received exactly once with the
  Message-ID of its idempotency key, every row ``sent``, every job
  ``succeeded``, and (two workers) both workers delivered.

    python -m benchmarks.run_all notifications
    GOVSERVE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres  (admin URL; "" skips PostgreSQL)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOVSERVE = str(ROOT / ".venv" / "bin" / "govserve")
MESSAGES = 300
LATENCY_MESSAGES = 100
RATE = 5.0
MARKER = "BENCH "


def _producer(prefix: str, count: int, rate: float) -> None:
    """Run in the business process: queue ``count`` emails, one per transaction, ``rate`` a second (0: at once)."""
    import django  # noqa: PLC0415

    django.setup()
    from django.db import transaction  # noqa: PLC0415

    from govserve.notifications.email import PlatformTemplate, email_send  # noqa: PLC0415

    for index in range(count):
        started = time.monotonic()
        with transaction.atomic():
            email = email_send(
                to=f"citizen.{index}@example.org",
                template=PlatformTemplate.SIGN_IN_LINK,
                context={
                    "service_name": "Westmoor City Council",
                    "sign_in_url": f"https://bench.govserve.example/sign-in/link/{secrets.token_urlsafe(32)}",
                    "expiry_minutes": "15",
                },
                language="cy" if index % 2 else "en",
                idempotency_key=f"{prefix}:{index}",
                owner=f"citizen:bench-{prefix}-{index}",
                purpose="sign_in",
            )
        sys.stdout.write(f"{MARKER}{email.message_id} {time.time():.6f}\n")
        sys.stdout.flush()
        if rate:
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))


class Run:
    """One database, its environment, the SMTP sink and the processes started on it."""

    def __init__(self, database_url: str, smtp_port: int) -> None:
        self.database_url = database_url
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PUBLIC_BASE_URL": "https://bench.govserve.example",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=10",
            "GOVSERVE_KEYS": f"bench:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}",
            "GOVSERVE_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.workers: list[subprocess.Popen[bytes]] = []

    def migrate(self) -> None:
        subprocess.run(
            [GOVSERVE, "migrate", "--skip-checks", "-v", "0"], env=self.environment, cwd=ROOT, check=True, timeout=600
        )

    def produce(self, prefix: str, count: int, rate: float) -> dict[str, float]:
        """Queue ``count`` emails in a business process; return {Message-ID: commit time}."""
        completed = subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
                "-c",
                f"from benchmarks.notifications import _producer; _producer({prefix!r}, {count}, {rate})",
            ],
            env=self.environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if completed.returncode != 0:
            msg = f"producer failed: {completed.stderr[-3000:]}"
            raise RuntimeError(msg)
        commits = {}
        for line in completed.stdout.splitlines():
            if line.startswith(MARKER):
                message_id, moment = line.removeprefix(MARKER).split()
                commits[message_id] = float(moment)
        return commits

    def start_workers(self, count: int) -> None:
        for number in range(count):
            self.workers.append(
                subprocess.Popen(
                    [GOVSERVE, "worker", "--skip-checks", "--worker-id", f"bench-w{number + 1}", "--no-schedules"],
                    env=self.environment,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(timeout=60)
        self.workers = []

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.database_url.startswith("sqlite"):
            import sqlite3  # noqa: PLC0415

            with sqlite3.connect(self.database_url.removeprefix("sqlite:///"), timeout=30) as connection:
                return connection.execute(sql).fetchall()
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql).fetchall()


def _wait_for(sink: Any, count: int, *, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.received) < count:
        if time.monotonic() > deadline:
            msg = f"only {len(sink.received)} of {count} messages arrived"
            raise RuntimeError(msg)
        time.sleep(0.05)


def _verify(run: Run, sink: Any, commits: dict[str, float], workers: int) -> None:
    received = [str(item.message["Message-ID"]) for item in sink.received]
    if sorted(received) != sorted(commits):
        msg = "a message is missing, doubled or has a Message-ID that is not its idempotency key's"
        raise RuntimeError(msg)
    prefix_rows = run.query(
        "SELECT COUNT(*) FROM notifications_outboundemail WHERE status <> 'sent'"
        " UNION ALL SELECT COUNT(*) FROM core_jobrecord WHERE state <> 'succeeded'"
    )
    if any(row[0] for row in prefix_rows):
        msg = f"not every message is sent and every job succeeded: {prefix_rows}"
        raise RuntimeError(msg)
    if workers > 1:
        used = run.query("SELECT COUNT(DISTINCT worker_id) FROM core_jobattempt")
        if used[0][0] < workers:
            msg = f"only {used[0][0]} of {workers} workers delivered"
            raise RuntimeError(msg)


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        from datetime import datetime  # noqa: PLC0415

        return datetime.fromisoformat(value).timestamp()
    return float(value.timestamp())


def _throughput(database_url: str, workers: int) -> dict[str, Any]:
    from govserve.notifications.testing import free_port, smtp_sink  # noqa: PLC0415

    port = free_port()
    run = Run(database_url, port)
    run.migrate()
    with smtp_sink(port=port) as sink:
        commits = run.produce(f"tp{workers}", MESSAGES, 0)
        run.start_workers(workers)
        try:
            _wait_for(sink, MESSAGES)
            time.sleep(1)  # let the last job record its outcome
        finally:
            run.stop_workers()
        _verify(run, sink, commits, workers)
        [(first_attempt,)] = run.query("SELECT MIN(last_attempt_at) FROM notifications_outboundemail")
        last_received = max(item.received_at for item in sink.received)
    elapsed = last_received - _seconds(first_attempt)
    return {"workers": workers, "messages": MESSAGES, "per_second": round(MESSAGES / elapsed, 1)}


def _latency(database_url: str) -> dict[str, Any]:
    from govserve.notifications.testing import free_port, smtp_sink  # noqa: PLC0415

    port = free_port()
    run = Run(database_url, port)
    run.migrate()
    with smtp_sink(port=port) as sink:
        run.start_workers(2)
        try:
            time.sleep(5)  # the workers are up and idle
            commits = run.produce("lat", LATENCY_MESSAGES, RATE)
            _wait_for(sink, LATENCY_MESSAGES)
            time.sleep(1)
        finally:
            run.stop_workers()
        _verify(run, sink, commits, 1)
        latencies = sorted(
            (item.received_at - commits[str(item.message["Message-ID"])]) * 1000 for item in sink.received
        )
    return {
        "messages": LATENCY_MESSAGES,
        "rate_per_second": RATE,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "max_ms": round(latencies[-1], 1),
    }


def _engine(make_url: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for workers in (1, 2):
        with make_url() as url:
            figures[f"throughput_{workers}_worker{'s' if workers > 1 else ''}"] = _throughput(url, workers)
    with make_url() as url:
        figures["commit_to_delivery"] = _latency(url)
    return figures


class _Sqlite:
    def __enter__(self) -> str:
        self.directory = tempfile.TemporaryDirectory(prefix="gs-bench-notify-")
        return f"sqlite:///{Path(self.directory.name) / 'bench.sqlite3'}"

    def __exit__(self, *exc: object) -> None:
        self.directory.cleanup()


class _Postgres:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = ""

    def __enter__(self) -> str:
        import psycopg  # noqa: PLC0415

        self.name = f"gs_bench_notify_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        return f"{self.admin_url.rsplit('/', 1)[0]}/{self.name}"

    def __exit__(self, *exc: object) -> None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _machine() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith("Model name")), "")
    return f"{model}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"


def main() -> dict[str, Any]:
    """Measure on SQLite (always) and PostgreSQL (unless GOVSERVE_BENCH_POSTGRES_URL is empty); print and return."""
    figures: dict[str, Any] = {"machine": _machine()}
    figures["sqlite"] = _engine(_Sqlite)
    admin_url = os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    figures["postgresql"] = (
        _engine(lambda: _Postgres(admin_url)) if admin_url else {"skipped": "GOVSERVE_BENCH_POSTGRES_URL is empty"}
    )
    figures["load_average_at_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
