"""Uploads: the cost of one upload (checks, scan, seal, store) and one download, per file size and scanner.

Each database runs in its own subprocess with production settings
(``config.settings.production``, random keys, a temporary SQLite file or a
temporary PostgreSQL database, a temporary ``MEDIA_ROOT``). Each upload goes
to a new application (so it also creates that application's data key, as a
first upload does). Scanners: the built-in test scanner, and a real clamd
(started here with the shipped EICAR-only signatures, so its figure is the
protocol and streaming cost, not the cost of the full public signature set).
Verified: every upload is stored clean, its stored object is not the
plaintext, and it opens back to the exact bytes through the audited
download selector.

    python -m benchmarks.run_all uploads
    GOVSERVE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres  (admin URL; "" skips PostgreSQL)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULT_MARKER = "BENCH-RESULT "
ROOT = Path(__file__).resolve().parent.parent
SIGNATURES = ROOT / "scripts" / "clamd_test_signatures"
ROUNDS = {"pdf_200kb": 30, "jpeg_photo": 15, "pdf_20mb": 4}


def _files() -> dict[str, bytes]:
    import io  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    from govserve.documents.tests import samples  # noqa: PLC0415

    # A phone-photo-like JPEG: 12 megapixels of smooth random texture (real photos compress about as well).
    photo = Image.frombytes("RGB", (800, 600), os.urandom(800 * 600 * 3)).resize((4000, 3000), Image.Resampling.BICUBIC)
    output = io.BytesIO()
    photo.save(output, format="JPEG", quality=85)
    text_page = b"BT /F1 10 Tf 72 700 Td (" + b"Lorem ipsum dolor sit amet " * 20 + b") Tj ET\n"
    return {
        "pdf_200kb": samples.pdf_document(raw_content=text_page * 360),
        "jpeg_photo": output.getvalue(),
        "pdf_20mb": samples.pdf_document(raw_content=text_page * 36_000),
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _measure(scanner_url: str, files: dict[str, bytes]) -> dict[str, Any]:
    from django.conf import settings  # noqa: PLC0415
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    from govserve.audit.actors import Actor  # noqa: PLC0415
    from govserve.documents.models import ScanState  # noqa: PLC0415
    from govserve.documents.policies import OwnerAccess  # noqa: PLC0415
    from govserve.documents.selectors import document_open  # noqa: PLC0415
    from govserve.documents.services import document_upload  # noqa: PLC0415

    settings.GOVSERVE_SCANNER = scanner_url
    storages: dict[str, Any] = settings.STORAGES
    media = Path(storages["default"]["OPTIONS"]["location"])
    figures: dict[str, Any] = {}
    for name, data in files.items():
        upload_ms: list[float] = []
        open_ms: list[float] = []
        for _ in range(ROUNDS[name]):
            owner = f"application:{uuid.uuid4()}"
            uploaded = SimpleUploadedFile(f"{name}.bin", data)
            started = time.perf_counter()
            document = document_upload(
                owner=owner,
                slot="evidence",
                uploaded_file=uploaded,
                allowed_types=["pdf", "jpg"],
                max_size_bytes=25 * 1024 * 1024,
                actor=Actor.system("benchmark"),
            )
            upload_ms.append((time.perf_counter() - started) * 1000)
            assert document.scan_state == ScanState.CLEAN, f"{name}: scanned {document.scan_state}"
            stored = (media / document.storage_name).read_bytes()
            assert data[64:4096] not in stored, f"{name}: plaintext in the stored object"
            started = time.perf_counter()
            opened = document_open(viewers=[OwnerAccess(owner=owner)], document_id=document.id)
            open_ms.append((time.perf_counter() - started) * 1000)
            assert opened.content == data, f"{name}: the download is not the upload"
        figures[name] = {
            "bytes": len(data),
            "uploads": len(upload_ms),
            "upload_ms_median": round(statistics.median(upload_ms), 1),
            "upload_ms_p95": round(_percentile(upload_ms, 0.95), 1),
            "upload_mb_per_s": round(len(data) / 1e6 / (statistics.median(upload_ms) / 1000), 1),
            "download_ms_median": round(statistics.median(open_ms), 1),
            "stages_ms": _stages(data),
        }
    return figures


def _stages(data: bytes) -> dict[str, float]:
    """Return the median time (3 runs) of each CPU stage of an upload, without the database or the scanner."""
    from govserve.documents.sanity import file_sanity_check  # noqa: PLC0415
    from govserve.documents.scanning.test_scanner import EicarTestScanner  # noqa: PLC0415
    from govserve.documents.services import _chunks  # noqa: PLC0415
    from govserve.documents.sniffing import file_kind_sniff  # noqa: PLC0415
    from govserve.privacy.crypto import seal  # noqa: PLC0415

    def timed(action: Any) -> float:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            action()
            runs.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(runs), 1)

    kind = file_kind_sniff(data, allowed_types=["pdf", "jpg"])
    owner = f"application:{uuid.uuid4()}"
    from django.db import transaction  # noqa: PLC0415

    with transaction.atomic():
        seal(owner=owner, field="warm", plaintext=b"x")
    return {
        "sniff": timed(lambda: file_kind_sniff(data, allowed_types=["pdf", "jpg"])),
        "sanity": timed(lambda: file_sanity_check(data, kind)),
        "test_scan": timed(lambda: EicarTestScanner().scan(_chunks(data), timeout=60)),
        "seal": timed(lambda: seal(owner=owner, field="documents.x.file", plaintext=data)),
    }


def _child() -> None:
    """Run inside the subprocess: migrate, measure each scanner, print one JSON result line."""
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    files = _files()
    result: dict[str, Any] = {"database": connection.vendor}
    for label, url in json.loads(os.environ["BENCH_SCANNERS"]).items():
        result[label] = _measure(url, files)
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")


def _run_child(database_url: str, scanners: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gs-bench-media-") as media:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": media,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "GOVSERVE_KEYS": f"bench:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}",
            "GOVSERVE_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
            "BENCH_SCANNERS": json.dumps(scanners),
            "LOG_LEVEL": "WARNING",
        }
        completed = subprocess.run(
            [sys.executable, "-c", "from benchmarks.uploads import _child; _child()"],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        msg = f"uploads benchmark child failed ({completed.returncode}): {completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return result


@contextmanager
def _clamd() -> Iterator[str | None]:
    """Start clamd with the shipped EICAR-only signatures on a free port; yield its URL (None without clamd)."""
    binary = shutil.which("clamd") or ("/usr/sbin/clamd" if os.access("/usr/sbin/clamd", os.X_OK) else None)
    if binary is None:
        yield None
        return
    from govserve.documents.scanning.clamd import ClamdScanner  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="gs-bench-clamd-") as workdir, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        config = Path(workdir) / "clamd.conf"
        config.write_text(
            f"Foreground yes\nDatabaseDirectory {SIGNATURES}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n"
            f"LogFile {workdir}/clamd.log\nStreamMaxLength 30M\nMaxThreads 4\n",
            encoding="utf-8",
        )
        process = subprocess.Popen(
            [binary, "--foreground", f"--config-file={config}"],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            scanner = ClamdScanner(host="127.0.0.1", port=port)
            deadline = time.monotonic() + 60
            while not scanner.ping(timeout=1):
                if process.poll() is not None or time.monotonic() > deadline:
                    msg = "clamd did not start for the benchmark"
                    raise RuntimeError(msg)
                time.sleep(0.1)
            yield f"clamd://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=15)


def _postgres(admin_url: str, scanners: dict[str, str]) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    name = f"gs_bench_uploads_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return _run_child(f"{admin_url.rsplit('/', 1)[0]}/{name}", scanners)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _machine() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith("Model name")), "")
    return f"{model}, {os.cpu_count()} cores"


def main() -> dict[str, Any]:
    """Measure on SQLite (always) and PostgreSQL (unless GOVSERVE_BENCH_POSTGRES_URL is empty); print and return."""
    figures: dict[str, Any] = {"machine": _machine(), "load_average": [round(x, 1) for x in os.getloadavg()]}
    with _clamd() as clamd_url:
        scanners = {"test_scanner": "test"}
        if clamd_url is not None:
            scanners["clamd_eicar_only"] = clamd_url
        else:
            figures["clamd"] = "skipped: clamd is not installed (scripts/system_deps.sh installs it)"
        with tempfile.TemporaryDirectory(prefix="gs-bench-uploads-") as directory:
            figures["sqlite"] = _run_child(f"sqlite:///{Path(directory) / 'bench.sqlite3'}", scanners)
        admin_url = os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        figures["postgresql"] = (
            _postgres(admin_url, scanners) if admin_url else {"skipped": "GOVSERVE_BENCH_POSTGRES_URL is empty"}
        )
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
