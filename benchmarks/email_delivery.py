"""Platform email: messages queued per second (render + seal + store + enqueue) and delivered per second.

Each database runs in its own subprocess with production settings
(``config.settings.production``, random keys, a temporary SQLite file in WAL
mode or a temporary PostgreSQL database) and a real SMTP server (aiosmtpd) on
loopback. Queueing is timed as services do it: one ``email_send`` per
transaction. Delivery is timed through the job runner with one worker
(``run_pending``, the code ``govserve worker`` runs). Verified: the server
received every message exactly once, each with the Message-ID derived from its
idempotency key, and every row and job ended ``sent``/``succeeded``.

    python -m benchmarks.run_all email_delivery
    GOVSERVE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres  (admin URL; "" skips PostgreSQL)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULT_MARKER = "BENCH-RESULT "
MESSAGES = 500


def _child() -> None:
    """Run inside the subprocess: migrate, queue, deliver, verify, print one JSON result line."""
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection, transaction  # noqa: PLC0415

    from govserve.core.jobs import run_pending  # noqa: PLC0415
    from govserve.core.models import JobRecord, JobState  # noqa: PLC0415
    from govserve.notifications.email import PlatformTemplate, email_send, message_id_for  # noqa: PLC0415
    from govserve.notifications.models import EmailStatus, OutboundEmail  # noqa: PLC0415
    from govserve.notifications.testing import smtp_sink  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    keys = [f"bench-sign-in:{index}" for index in range(MESSAGES)]
    with smtp_sink(port=int(os.environ["BENCH_SMTP_PORT"])) as sink:
        started = time.perf_counter()
        for index, key in enumerate(keys):
            with transaction.atomic():
                email_send(
                    to=f"citizen.{index}@example.org",
                    template=PlatformTemplate.SIGN_IN_LINK,
                    context={
                        "service_name": "Westmoor City Council",
                        "sign_in_url": f"https://bench.govserve.example/sign-in/link/{secrets.token_urlsafe(32)}",
                        "expiry_minutes": "15",
                    },
                    language="cy" if index % 2 else "en",
                    idempotency_key=key,
                    owner=f"citizen:bench-{index}",
                    purpose="sign_in",
                )
        queue_seconds = time.perf_counter() - started
        started = time.perf_counter()
        attempts = run_pending()
        deliver_seconds = time.perf_counter() - started
        received = list(sink.received)

    assert attempts == MESSAGES, f"{attempts} attempts for {MESSAGES} messages"
    message_ids = sorted(str(r.message["Message-ID"]) for r in received)
    assert message_ids == sorted(message_id_for(key) for key in keys), "a message is missing, doubled or mislabelled"
    assert OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == MESSAGES, "not every message is sent"
    assert JobRecord.objects.filter(state=JobState.SUCCEEDED).count() == MESSAGES, "not every job succeeded"
    figures = {
        "database": connection.vendor,
        "messages": MESSAGES,
        "queued_per_second": round(MESSAGES / queue_seconds, 1),
        "queue_ms_per_message": round(queue_seconds / MESSAGES * 1000, 2),
        "delivered_per_second_one_worker": round(MESSAGES / deliver_seconds, 1),
        "deliver_ms_per_message": round(deliver_seconds / MESSAGES * 1000, 2),
    }
    sys.stdout.write(RESULT_MARKER + json.dumps(figures) + "\n")


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_child(database_url: str) -> dict[str, Any]:
    port = _free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PUBLIC_BASE_URL": "https://bench.govserve.example",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}?timeout=10",
        "BENCH_SMTP_PORT": str(port),
        "GOVSERVE_KEYS": f"bench:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}",
        "GOVSERVE_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
        "LOG_LEVEL": "WARNING",
    }
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", "from benchmarks.email_delivery import _child; _child()"],
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        msg = f"email benchmark child failed ({completed.returncode}): {completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return result


def _postgres(admin_url: str) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    name = f"gs_bench_email_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = admin_url.rsplit("/", 1)[0]
        return _run_child(f"{base}/{name}")
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
    figures: dict[str, Any] = {"machine": _machine()}
    with tempfile.TemporaryDirectory(prefix="gs-bench-email-") as directory:
        figures["sqlite"] = _run_child(f"sqlite:///{Path(directory) / 'bench.sqlite3'}")
    admin_url = os.environ.get("GOVSERVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    figures["postgresql"] = _postgres(admin_url) if admin_url else {"skipped": "GOVSERVE_BENCH_POSTGRES_URL is empty"}
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
