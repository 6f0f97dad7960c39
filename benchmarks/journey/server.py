"""The servers under test: govserve as production runs it, the baseline page, and what their workers use.

govserve runs as ``govserve serve --workers 2`` (gunicorn, sync workers, the
flags of :func:`govserve.catalogue.management.commands.serve.gunicorn_command`)
with ``config.settings.production`` and an environment made for the run
(:func:`production_environment`): a generated ``SECRET_KEY`` and keys, https
behind one TLS proxy (the load generators play the proxy), the deployment
checks passing. The baseline page (``../shared/bench/baseline_page.py``) is
served by the same gunicorn command with its own application.

Workers are the children of the gunicorn master. Their memory is the
proportional set size from ``/proc/<pid>/smaps_rollup``; the CPU the server
used is the master's own and its reaped children's (workers recycled after
``--max-requests``) plus the live workers' (``/proc/<pid>/stat``).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASELINE_DIR = ROOT.parent / "shared" / "bench"
PUBLIC_HOST = "journey-bench.govserve.localhost"
WORKERS = 2
READY_SECONDS = 120
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HEAVY_LIBRARIES = ("weasyprint", "libpango", "pyarrow", "libarrow", "duckdb")


def free_port() -> int:
    """Return a TCP port free on the loopback interface right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def production_environment(*, database_url: str, var_dir: Path) -> dict[str, str]:
    """Return the environment of a production govserve for this run: new secrets, https behind one proxy.

    ``EMAIL_URL`` names an SMTP relay on a loopback port where nothing
    listens: the deployment checks refuse ``log://``, and no ``govserve
    worker`` runs during the benchmark, so the emails a submission queues
    stay queued (in the database, as the outbox keeps them).
    """
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith(("GOVSERVE_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GOVSERVE_KEYS": f"bench:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}",
        "GOVSERVE_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
        # Results are signed with an Ed25519 key (its 32-byte seed); the deployment checks refuse none.
        "GOVSERVE_RESULT_SIGNING_KEYS": f"bench:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}",
        "GOVSERVE_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "DEBUG": "false",
        "ALLOWED_HOSTS": PUBLIC_HOST,
        "PUBLIC_BASE_URL": f"https://{PUBLIC_HOST}",
        "BEHIND_TLS_PROXY": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURITY_TXT_CONTACT": f"mailto:security@{PUBLIC_HOST}",
        "EMAIL_URL": f"smtp://127.0.0.1:{free_port()}",
        "LOG_LEVEL": "WARNING",
        # The code served is the tree this benchmark belongs to (also when run from an export of a commit).
        "PYTHONPATH": str(ROOT),
        # Installed software runs from compiled bytecode (this environment may turn the cache off).
        "PYTHONDONTWRITEBYTECODE": "",
    }


def _ready(port: int, path: str, host: str) -> str | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own loopback http URL
            return None if response.status == 200 else f"answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"answered {error.code}"
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return str(error)


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    return text[text.rindex(")") + 2 :].split()


def children_of(pid: int) -> list[int]:
    """Return the pids whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return sorted(found)


def memory_of(pid: int) -> dict[str, int]:
    """Return the memory of process ``pid`` in bytes, from ``/proc/<pid>/smaps_rollup``.

    ``Pss`` (proportional set size) is ``Pss_Anon`` (the process's own heap:
    anonymous pages, shared only copy-on-write with its gunicorn master and
    siblings) plus ``Pss_File`` (its share of the file pages it maps:
    libpython, extension modules). File pages are divided among every
    process on the machine that maps the same files, so ``Pss_File`` is
    lower on a machine where other Python processes of the same venv run,
    and higher on a dedicated server; ``Rss`` (every page counted whole)
    is its upper bound.
    """
    wanted = {"Rss:", "Pss:", "Pss_Anon:", "Pss_File:", "Private_Clean:", "Private_Dirty:"}
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii").splitlines():
        name, _, rest = line.partition(" ")
        if name in wanted:
            found[name.rstrip(":")] = int(rest.split()[0]) * 1024
    if "Pss" not in found:
        msg = f"no Pss line for {pid}"
        raise RuntimeError(msg)
    found["Private"] = found.pop("Private_Clean", 0) + found.pop("Private_Dirty", 0)
    return found


def pss_bytes(pid: int) -> int:
    """Return the proportional set size of process ``pid``."""
    return memory_of(pid)["Pss"]


def heavy_libraries(pid: int) -> list[str]:
    """Return which of the libraries that must load lazily (PDF, Arrow, DuckDB) ``pid`` has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text(encoding="ascii", errors="replace")
    return [name for name in HEAVY_LIBRARIES if name in maps]


def system_cpu_busy_seconds() -> float:
    """Return the CPU seconds the whole machine has been busy since boot (``/proc/stat``, all cores)."""
    values = [int(value) for value in Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class Server:
    """A gunicorn master started for the run; its workers' memory is sampled while it runs."""

    name: str
    port: int
    host: str
    process: subprocess.Popen[bytes]
    log: Path
    worker_count: int = WORKERS
    peak_pss: dict[int, int] = field(default_factory=dict)
    peak_anon: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop_sampling: threading.Event = field(default_factory=threading.Event)
    _sampler: threading.Thread | None = None

    @property
    def master(self) -> int:
        """Return the pid of the gunicorn master."""
        return self.process.pid

    def workers(self) -> list[int]:
        """Return the pids of the live workers."""
        return children_of(self.master)

    def wait_ready(self, path: str) -> None:
        """Wait until ``path`` answers 200 and every worker is up; raise RuntimeError otherwise."""
        deadline = time.monotonic() + READY_SECONDS
        last: str | None = "not asked"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"{self.name} exited with status {self.process.returncode}: {self.log.read_text()[-3000:]}"
                raise RuntimeError(msg)
            last = _ready(self.port, path, self.host)
            if last is None and len(self.workers()) == self.worker_count:
                return
            time.sleep(0.3)
        msg = f"{self.name} was not ready within {READY_SECONDS} s ({last}): {self.log.read_text()[-3000:]}"
        raise RuntimeError(msg)

    def cpu_seconds(self) -> float:
        """Return the CPU the server has used so far: master, reaped workers and live workers."""
        fields = _stat_fields(self.master)
        ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        for pid in self.workers():
            try:
                ticks += sum(int(value) for value in _stat_fields(pid)[11:13])
            except (OSError, IndexError):
                continue  # recycled between the listing and the read: its CPU is in the master's cutime now
        return ticks / CLOCK_TICKS

    def sample_memory(self) -> dict[int, dict[str, int]]:
        """Return each live worker's memory now (see :func:`memory_of`), and remember each worker's peaks."""
        current = {}
        for pid in self.workers():
            try:
                current[pid] = memory_of(pid)
            except (OSError, RuntimeError):
                continue
            with self._lock:
                self.peak_pss[pid] = max(self.peak_pss.get(pid, 0), current[pid]["Pss"])
                self.peak_anon[pid] = max(self.peak_anon.get(pid, 0), current[pid].get("Pss_Anon", 0))
        return current

    def peaks(self) -> dict[str, int]:
        """Return the largest PSS and PSS_Anon of any worker so far, and how many workers were seen."""
        with self._lock:
            return {
                "Pss": max(self.peak_pss.values(), default=0),
                "Pss_Anon": max(self.peak_anon.values(), default=0),
                "workers": len(self.peak_pss),
            }

    def peaks_restart(self) -> dict[str, int]:
        """Return the peaks so far (the largest PSS and PSS_Anon of any worker) and start new ones."""
        peaks = self.peaks()
        with self._lock:
            self.peak_pss.clear()
            self.peak_anon.clear()
        return peaks

    def start_sampling(self, interval: float = 0.25) -> None:
        """Sample the workers' memory every ``interval`` seconds in a thread, until :meth:`stop`."""

        def run() -> None:
            while not self._stop_sampling.wait(interval):
                self.sample_memory()

        self._sampler = threading.Thread(target=run, name=f"pss-{self.name}", daemon=True)
        self._sampler.start()

    def stop(self) -> None:
        """Stop sampling, then stop gunicorn gracefully (SIGTERM), killing it after 30 s."""
        self._stop_sampling.set()
        if self._sampler is not None:
            self._sampler.join()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def govserve_start(*, env: dict[str, str], log: Path, workers: int = WORKERS) -> Server:
    """Start ``govserve serve --workers 2`` (or ``workers``) on a free loopback port (deployment checks included)."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "govserve"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(name="govserve", port=port, host=PUBLIC_HOST, process=process, log=log, worker_count=workers)
    server.wait_ready("/readyz")
    return server


def baseline_command(port: int) -> list[str]:
    """Return govserve's gunicorn command with the baseline page as the application (same flags, same server).

    Only govserve's own hooks (``--config python:config.gunicorn``) are left out: they warm govserve's caches.
    """
    from govserve.catalogue.management.commands.serve import gunicorn_command  # noqa: PLC0415

    command = gunicorn_command(host="127.0.0.1", port=port, workers=WORKERS)
    command[command.index("config.wsgi:application")] = "baseline_page:application"
    # govserve's hooks (config/gunicorn.py: warming govserve's caches before forking) have nothing to do here.
    hooks = command.index("--config")
    del command[hooks : hooks + 2]
    return [*command, "--chdir", str(BASELINE_DIR)]


def baseline_start(*, directory: Path, log: Path) -> Server:
    """Migrate the baseline's SQLite database in ``directory`` and serve the page like govserve."""
    if not (BASELINE_DIR / "baseline_page.py").is_file():
        msg = f"the baseline page is missing: {BASELINE_DIR / 'baseline_page.py'}"
        raise RuntimeError(msg)
    env = {**os.environ, "BASELINE_DIR": str(directory), "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "-c", "import baseline_page as b; b.migrate()"],
        cwd=BASELINE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            baseline_command(port), cwd=BASELINE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(name="baseline", port=port, host="127.0.0.1", process=process, log=log)
    server.wait_ready("/")
    return server


def machine() -> dict[str, Any]:
    """Return the CPU model and count, memory, and the Python and kernel versions."""
    output = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next((line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith("Model name")), "")
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
    }


def module_child(
    module: str,
    action: str,
    env: dict[str, str],
    directory: Path,
    request: dict[str, Any],
    *,
    marker: str,
    timeout: int,
) -> dict[str, Any]:
    """Run ``python -m MODULE ACTION REQUEST.json`` with ``env``; return the JSON it printed after ``marker``.

    The benchmarks' set-up and verification steps run this way, in a process with the server's
    environment (production settings, the run's keys). Raise RuntimeError when it printed no result.
    """
    path = directory / f"{module.rsplit('.', 1)[-1]}-{action}.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", module, action, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(marker)]
    if not lines:
        msg = f"{module} {action} failed ({completed.returncode}): {completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(marker))
    return result
