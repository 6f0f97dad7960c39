"""Subject access export: the time to export a person with 100 applications (JSON and files; and with the PDF).

The person has 50 street trading applications (answers, a photo and an
insurance PDF each, waiting for payment) and 50 birth registrations (answers,
two PDFs, an open case file read by a registrar: an access each), all made
through the journey's own services, on a temporary SQLite file (WAL, the
production settings) in a subprocess. Each export is verified: 100
applications, every document's file in the bundle, 50 staff accesses.

    python -m benchmarks.run_all subject_access
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULT_MARKER = "BENCH-RESULT "
APPLICATIONS_PER_SERVICE = 50
ROUNDS = 3
ROOT = Path(__file__).resolve().parent.parent


def _person() -> str:
    from govserve.accounts.models import Institution, RoleAssignment, User  # noqa: PLC0415
    from govserve.casework.selectors import file_view  # noqa: PLC0415
    from govserve.casework.tests.support import file_of, newborn_submitted  # noqa: PLC0415
    from govserve.journeys.tests.support import STREET_TRADING, applicant, citizen_new  # noqa: PLC0415
    from govserve.journeys.tests.test_services import fill_trading, start, submit, upload_required  # noqa: PLC0415

    email = "bench.subject@example.org"
    who = applicant(citizen_new(email))
    registrar = User.objects.create(username="bench-registrar", is_active=True)
    RoleAssignment.objects.create(
        user=registrar, institution=Institution.objects.get(code="civil-registry"), role="registrar"
    )
    for number in range(APPLICATIONS_PER_SERVICE):
        trading = start(STREET_TRADING, who)
        fill_trading(trading, who)
        upload_required(trading, who, "public-liability-insurance")
        submit(trading, who, key=f"bench-trading-{number}")
        newborn, _ = newborn_submitted(who)
        file_view(user=registrar, file_id=file_of(newborn).id)
    return email


def _measure(email: str) -> dict[str, Any]:
    from govserve.audit.actors import Actor  # noqa: PLC0415
    from govserve.privacy.crypto import data_key_cache_clear  # noqa: PLC0415
    from govserve.privacy.subject_access import subject_access_export  # noqa: PLC0415

    figures: dict[str, Any] = {}
    for label, with_pdf in (("json_and_files", False), ("with_pdf", True)):
        seconds = []
        for _ in range(ROUNDS):
            data_key_cache_clear()  # cold keys, as for a request that comes once
            started = time.perf_counter()
            export = subject_access_export(email=email, actor=Actor.system("benchmark"), with_pdf=with_pdf)
            bundle = export.zip_bytes()
            seconds.append(time.perf_counter() - started)
            applications = export.data["applications"]
            assert len(applications) == 2 * APPLICATIONS_PER_SERVICE, len(applications)
            paths = [doc["file"] for app in applications for doc in app["documents"]]
            assert all(path in export.files for path in paths), "a document is missing from the bundle"
            assert len(paths) == 4 * APPLICATIONS_PER_SERVICE, len(paths)  # photo + insurance, two newborn PDFs
            assert len(export.data["accesses"]) == APPLICATIONS_PER_SERVICE, len(export.data["accesses"])
            assert not with_pdf or export.pdf.startswith(b"%PDF-")
        figures[label] = {
            "median_s": round(statistics.median(seconds), 2),
            "max_s": round(max(seconds), 2),
            "bundle_bytes": len(bundle),
            "pdf_bytes": len(export.pdf),
        }
    return figures


def _child() -> None:
    """Run inside the subprocess: migrate, build the person, measure, print one JSON result line."""
    import django  # noqa: PLC0415

    django.setup()
    from django.conf import settings  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from govserve.journeys.tests.support import examples_publish  # noqa: PLC0415

    settings.GOVSERVE_SCANNER = "test"
    call_command("migrate", verbosity=0)
    examples_publish()
    started = time.perf_counter()
    email = _person()
    setup_seconds = time.perf_counter() - started
    figures = {"database": connection.vendor, "setup_s": round(setup_seconds, 1), **_measure(email)}
    sys.stdout.write(RESULT_MARKER + json.dumps(figures) + "\n")


def main() -> dict[str, Any]:
    """Run the export benchmark on a temporary SQLite file; return its figures."""
    with tempfile.TemporaryDirectory(prefix="gs-bench-sar-") as directory:
        media = Path(directory) / "media"
        media.mkdir()
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": f"sqlite:///{directory}/bench.sqlite3",
            "MEDIA_ROOT": str(media),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "GOVSERVE_KEYS": f"bench:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}",
            "GOVSERVE_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
            "LOG_LEVEL": "WARNING",
        }
        completed = subprocess.run(
            [sys.executable, "-c", "from benchmarks.subject_access import _child; _child()"],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        msg = f"subject access benchmark child failed ({completed.returncode}): {completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
