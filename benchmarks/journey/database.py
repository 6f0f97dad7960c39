"""The benchmark's database work, run in a child process with the server's production environment.

``python -m benchmarks.journey.database prepare IN.json`` migrates the fresh
database, creates the institutions the example services name, and creates
one citizen account with a password per simulated client; it prints the
citizens' ids.

``python -m benchmarks.journey.database verify IN.json`` checks the database
against what the load generators saw: every submission they were told of is
submitted, with exactly the answers of its walk, each unsealing to that
citizen's answer; applications, submissions and feedback the generators did
not hear about stay within the number of requests cut off in flight (a
citizen still waiting for an answer when a phase had to stop: the server
may have acted on it unheard); and no answer, nor the
uploaded document, is anywhere in clear: not in the database file (SQLite,
WAL checkpointed) or its dump (PostgreSQL), not in the file store. It
prints the figures and exits 1 when a check fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULT_MARKER = "JOURNEY-DB "
INSTITUTIONS = {
    "city-council": "Westmoor City Council",
    "health-agency": "National Health Registration Agency",
    "civil-registry": "Civil Registration Office",
}


def prepare(request: dict[str, Any]) -> dict[str, Any]:
    """Migrate, create the institutions and the citizens (``request["citizens"]``: email, password)."""
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from govserve.accounts import citizens  # noqa: PLC0415
    from govserve.accounts.models import Institution  # noqa: PLC0415

    if connection.vendor == "sqlite":
        # Setting up is not measured: the migrations' hundreds of commits need not wait for the disk each time.
        options = connection.settings_dict["OPTIONS"]
        options["init_command"] = options["init_command"].replace("synchronous=FULL", "synchronous=OFF")
        connection.close()
    call_command("migrate", verbosity=0)
    for code, name in INSTITUTIONS.items():
        Institution.objects.get_or_create(code=code, defaults={"name": name})
    ids = []
    for entry in request["citizens"]:
        citizen = citizens.citizen_create(email=entry["email"])
        citizens.citizen_password_set(citizen=citizen, password=entry["password"])
        ids.append(str(citizen.id))
    return {"citizen_ids": ids}


def _database_bytes() -> bytes:
    """Return every byte the database holds: the SQLite file after a WAL checkpoint, or a PostgreSQL dump."""
    from django.db import connection  # noqa: PLC0415

    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(settings_dict["NAME"])
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", os.environ["DATABASE_URL"]],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return dump.stdout


def _files_bytes(root: Path) -> list[tuple[str, bytes]]:
    return [(str(path.relative_to(root)), path.read_bytes()) for path in sorted(root.rglob("*")) if path.is_file()]


def verify(request: dict[str, Any]) -> dict[str, Any]:  # noqa: PLR0912, PLR0915 - one list of checks, read top down
    """Check the database against the generators' tally; return the figures and the problems found."""
    from django.conf import settings  # noqa: PLC0415

    from benchmarks.journey.plan import DOCUMENT_TEXT, PLAINTEXT_MARKERS, SERVICE_ID, variants  # noqa: PLC0415
    from govserve.documents.models import Document  # noqa: PLC0415
    from govserve.journeys.answers import answers_load  # noqa: PLC0415
    from govserve.journeys.models import Answer, Application, ApplicationStatus, Feedback  # noqa: PLC0415
    from govserve.journeys.selectors import compiled_for  # noqa: PLC0415

    problems: list[str] = []
    bound = int(request["in_flight_bound"])
    number_of = {citizen_id: number for number, citizen_id in enumerate(request["citizen_ids"])}
    plans = variants()
    applications = Application.objects.filter(service_id=SERVICE_ID)
    by_status: dict[str, int] = {}
    for status in applications.values_list("status", flat=True):
        by_status[status] = by_status.get(status, 0) + 1
    acknowledged_list: list[str] = request["submitted"]
    acknowledged = set(acknowledged_list)
    if len(acknowledged) != len(acknowledged_list):
        problems.append(f"{len(acknowledged_list) - len(acknowledged)} application(s) acknowledged as sent twice")
    submitted = {
        str(pk) for pk in applications.filter(status=ApplicationStatus.AWAITING_PAYMENT).values_list("id", flat=True)
    }
    missing = acknowledged - submitted
    if missing:
        problems.append(f"{len(missing)} acknowledged submission(s) not submitted in the database, e.g. {min(missing)}")
    unacknowledged = len(submitted - acknowledged)
    if unacknowledged > bound:
        problems.append(f"{unacknowledged} submitted application(s) no generator heard of (bound {bound})")
    extra_applications = applications.count() - int(request["starts"])
    if not 0 <= extra_applications <= bound:
        problems.append(f"{applications.count()} applications for {request['starts']} acknowledged starts")
    extra_feedback = Feedback.objects.filter(service_id=SERVICE_ID).count() - int(request["feedback"])
    if not 0 <= extra_feedback <= bound:
        problems.append(f"{extra_feedback} feedback answers more than acknowledged (bound {bound})")

    checked_answers = 0
    for application in applications.filter(id__in=acknowledged).select_related("citizen"):
        number = number_of.get(str(application.citizen_id))
        if number is None:
            problems.append(f"{application.id} belongs to no citizen of the run")
            continue
        plan = plans[request["variants"][number]]
        fields = set(Answer.objects.filter(application=application).values_list("field_id", flat=True))
        if fields != plan.answer_fields:
            problems.append(f"{application.id}: answers {sorted(fields ^ plan.answer_fields)} differ from the walk")
            continue
        answers = answers_load(application, compiled_for(application).definition)
        expected = {
            "full_name": f"Ada Lovelace {number}",
            "email": f"ada.lovelace.{number}@example.org",
            "trading_type": "food" if plan.name == "food" else "goods",
            "days_per_week": 5,
        }
        for field_id, value in expected.items():
            if answers.get(field_id) != value:
                problems.append(f"{application.id}: {field_id} unsealed to {answers.get(field_id)!r}, not {value!r}")
        if [item.get("assistant_name") for item in answers.get("assistants") or []] != ["Grace Hopper"]:
            problems.append(f"{application.id}: the assistants are not the one added")
        documents = Document.objects.filter(owner=application.crypto_owner, removed_at__isnull=True).count()
        if documents != 1 + plan.documents:
            problems.append(f"{application.id}: {documents} documents, not {1 + plan.documents}")
        checked_answers += len(fields)

    database = _database_bytes()
    for marker in PLAINTEXT_MARKERS:
        if marker in database:
            problems.append(f"{marker.decode()!r} is in the database in clear")
    storages: dict[str, Any] = settings.STORAGES
    media = Path(storages["default"]["OPTIONS"]["location"])
    stored = _files_bytes(media)
    for name, content in stored:
        if DOCUMENT_TEXT.encode() in content or b"JFIF" in content[:64]:
            problems.append(f"the stored object {name} is a document in clear")
    return {
        "applications_by_status": by_status,
        "submitted_in_database": len(submitted),
        "submissions_acknowledged": len(acknowledged_list),
        "submitted_not_acknowledged": unacknowledged,
        "applications_not_acknowledged": extra_applications,
        "answers_checked": checked_answers,
        "applications_checked": len(acknowledged),
        "database_bytes_scanned": len(database),
        "stored_objects_scanned": len(stored),
        "problems": problems,
    }


def main(action: str, path: str) -> int:
    """Run ``prepare`` or ``verify`` with the JSON request in ``path``; print the result line; 1 on problems."""
    import django  # noqa: PLC0415

    django.setup()
    request = json.loads(Path(path).read_text(encoding="utf-8"))
    result = prepare(request) if action == "prepare" else verify(request)
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    return 1 if result.get("problems") else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
