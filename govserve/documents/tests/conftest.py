"""Fixtures of the documents tests: a private MEDIA_ROOT, the test scanner, and a REAL clamd.

``clamd_daemon`` starts Debian's ``clamd`` (package clamav-daemon, installed
by scripts/system_deps.sh) in the foreground with the shipped EICAR-only
signature database (scripts/clamd_test_signatures/), listening on a free
loopback TCP port and on a unix socket, waits for PING/PONG and stops it
after the session. When clamd is missing or does not start, every test that
uses it FAILS (it never skips): a green run means a real daemon was scanned.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from govserve.accounts.citizens import citizen_create
from govserve.accounts.models import Citizen
from govserve.audit.actors import Actor
from govserve.documents.scanning.clamd import ClamdScanner
from govserve.privacy.crypto import data_key_cache_clear

REPOSITORY = Path(__file__).resolve().parents[3]
SIGNATURES = REPOSITORY / "scripts" / "clamd_test_signatures"
CLAMD_START_SECONDS = 60.0


@pytest.fixture(autouse=True)
def _clean_data_key_cache() -> Iterator[None]:
    # Test transactions roll back: a data key cached by one test must not outlive it.
    data_key_cache_clear()
    yield
    data_key_cache_clear()


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    """Point the default storage at a fresh directory: what a test writes is all there is."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    settings.GOVSERVE_SCANNER = "test"
    return root


def stored_files(root: Path) -> list[Path]:
    """Return every file under ``root`` (the stored objects)."""
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def citizen(db: None) -> Citizen:
    return citizen_create(email=f"applicant-{uuid.uuid4().hex[:8]}@example.org")


@pytest.fixture
def owner() -> str:
    return f"application:{uuid.uuid4()}"


@pytest.fixture
def actor(citizen: Citizen) -> Actor:
    return Actor.for_citizen(citizen.id)


def upload(data: bytes, name: str = "evidence.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    """Return an uploaded file as govserve's upload handler hands it to a view.

    The content type is only the browser's claim; ``govserve_raw_name`` is the
    name exactly as sent (Django's ``name`` has paths and unprintables cut).
    """
    uploaded = SimpleUploadedFile(name, data, content_type=content_type)
    uploaded.govserve_raw_name = name  # type: ignore[attr-defined]
    return uploaded


# --- A real clamd -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClamdDaemon:
    """A running clamd: its TCP and unix-socket addresses as GOVSERVE_SCANNER values."""

    port: int
    socket_path: Path
    log_path: Path

    @property
    def tcp_url(self) -> str:
        return f"clamd://127.0.0.1:{self.port}"

    @property
    def unix_url(self) -> str:
        return f"unix://{self.socket_path}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _clamd_binary() -> str:
    found = shutil.which("clamd") or next(
        (candidate for candidate in ("/usr/sbin/clamd", "/usr/bin/clamd") if os.access(candidate, os.X_OK)), None
    )
    if found is None:
        pytest.fail(
            "clamd is not installed: the ClamAV tests need a real daemon. Run scripts/system_deps.sh as root "
            "(it installs Debian's clamav-daemon), or `apt-get install clamav-daemon`."
        )
    return found


@pytest.fixture(scope="session")
def clamd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdDaemon]:
    """Start clamd with the EICAR-only signatures; fail (never skip) when it cannot run."""
    binary = _clamd_binary()
    # A short directory: unix socket paths are limited to ~100 bytes.
    workdir = Path(tmp_path_factory.mktemp("clamd"))
    port = _free_port()
    daemon = ClamdDaemon(port=port, socket_path=workdir / "clamd.sock", log_path=workdir / "clamd.log")
    config = workdir / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"DatabaseDirectory {SIGNATURES}",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"LocalSocket {daemon.socket_path}",
                f"LogFile {daemon.log_path}",
                "LogTime yes",
                "StreamMaxLength 30M",
                "MaxThreads 4",
                "",
            ]
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "--foreground", f"--config-file={config}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    scanner = ClamdScanner(host="127.0.0.1", port=port)
    deadline = time.monotonic() + CLAMD_START_SECONDS
    try:
        while not scanner.ping(timeout=1.0):
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
                log = daemon.log_path.read_text(encoding="utf-8", errors="replace") if daemon.log_path.exists() else ""
                pytest.fail(f"clamd did not answer PING (exit {process.poll()}):\n{output[-3000:]}\n{log[-3000:]}")
            time.sleep(0.1)
        yield daemon
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()


@pytest.fixture
def clamd_tcp(clamd_daemon: ClamdDaemon, settings: Any) -> ClamdDaemon:
    """Scan uploads through the real clamd over TCP."""
    settings.GOVSERVE_SCANNER = clamd_daemon.tcp_url
    return clamd_daemon


@pytest.fixture
def unreachable_scanner(settings: Any) -> str:
    """Configure a clamd address where nothing listens (a closed loopback port)."""
    url = f"clamd://127.0.0.1:{_free_port()}"
    settings.GOVSERVE_SCANNER = url
    return url
