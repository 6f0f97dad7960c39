"""Live databases for worker tests: real files (SQLite, WAL) or real databases (PostgreSQL).

Worker tests start real ``govserve worker`` processes, which cannot see the
test runner's in-memory SQLite database or its uncommitted test transaction.
``live_database`` gives each such test its own migrated database, of the
backend the suite runs on (``DATABASE_URL``), copied from a template migrated
once per session.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[3]
GOVSERVE = str(ROOT / ".venv" / "bin" / "govserve")
PYTHON = sys.executable


def _base_url() -> str:
    return os.environ.get("DATABASE_URL", "")


def _is_postgres() -> bool:
    return _base_url().startswith(("postgres://", "postgresql://"))


def _pg_admin() -> psycopg.Connection[Any]:
    config = dj_database_url.parse(_base_url())
    return psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 5432),
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _pg_url(name: str) -> str:
    config = dj_database_url.parse(_base_url())
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    return f"postgres://{config['USER']}{password}@{config['HOST']}:{config['PORT'] or 5432}/{name}"


def _pg_name(suffix: str) -> str:
    base = str(dj_database_url.parse(_base_url())["NAME"])
    return f"{base}_{suffix}"[:63]


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(ROOT)}
    )
    environment.update(extra)
    return environment


def _migrate(database_url: str) -> None:
    subprocess.run(
        [GOVSERVE, "migrate", "--skip-checks", "-v", "0"],
        env=_environment(database_url),
        cwd=ROOT,
        check=True,
        timeout=180,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def _live_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate a template database once per session; yield its file path or database name."""
    if _is_postgres():
        # One template per pytest-xdist worker: each creates and drops its own.
        name = _pg_name(f"live_tpl_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
        with closing(_pg_admin()) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        _migrate(_pg_url(name))
        yield name
        with closing(_pg_admin()) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("live") / "template.sqlite3"
        _migrate(f"sqlite:///{path}")
        yield str(path)


@dataclass
class LiveDatabase:
    """A migrated database that subprocesses share; ``query`` reads it directly."""

    url: str
    vendor: str
    directory: Path
    sqlite_path: Path | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.directory / "jobs.log"

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``%s`` placeholders) on a connection of its own and return the rows."""
        if self.sqlite_path is not None:
            with closing(sqlite3.connect(self.sqlite_path, timeout=30)) as conn:
                return conn.execute(sql.replace("%s", "?"), tuple(params)).fetchall()
        with closing(psycopg.connect(self.url)) as conn:
            return conn.execute(sql, tuple(params)).fetchall()

    def environment(self, **extra: str) -> dict[str, str]:
        return _environment(self.url, GOVSERVE_TEST_JOBS_LOG=str(self.log_path), LOG_LEVEL="INFO", **extra)

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        """Start ``command`` with this database; its stderr goes to ``<name>.err`` in the directory."""
        stderr = (self.directory / f"{name}.err").open("wb")
        process = subprocess.Popen(command, env=self.environment(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        stderr.close()
        self.processes.append(process)
        return process

    def start_worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        return self.start(
            name,
            [GOVSERVE, "worker", "--skip-checks", "--interval", "0.05", "--worker-id", name, *extra],
        )

    def wait_until_started(self, *names: str, timeout: float = 60.0) -> None:
        """Wait until each named worker has logged ``worker.started`` (it polls from then on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all("worker.started" in self.stderr(name) for name in names):
                return
            time.sleep(0.05)
        msg = f"workers {names} did not start in {timeout} s"
        raise AssertionError(msg)

    def stderr(self, name: str) -> str:
        return (self.directory / f"{name}.err").read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[list[str]]:
        if not self.log_path.exists():
            return []
        return [line.split() for line in self.log_path.read_text(encoding="utf-8").splitlines()]

    def wait_for_log(self, predicate: Any, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.log_lines()):
                return
            time.sleep(0.05)
        msg = f"timed out waiting for the job log; it has {len(self.log_lines())} lines"
        raise AssertionError(msg)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def live_database(_live_template: str, tmp_path: Path) -> Iterator[LiveDatabase]:
    """Yield a fresh migrated database (file or PostgreSQL database) that worker subprocesses use."""
    if _is_postgres():
        name = _pg_name(f"live_{uuid.uuid4().hex[:8]}")
        with closing(_pg_admin()) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_live_template}"')
        database = LiveDatabase(url=_pg_url(name), vendor="postgresql", directory=tmp_path)
        try:
            yield database
        finally:
            database.stop_all()
            with closing(_pg_admin()) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "live.sqlite3"
        shutil.copyfile(_live_template, path)
        database = LiveDatabase(url=f"sqlite:///{path}", vendor="sqlite", directory=tmp_path, sqlite_path=path)
        try:
            yield database
        finally:
            database.stop_all()
