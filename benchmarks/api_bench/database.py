"""Set-up and verification of the API submission benchmark, run in a child process with production settings.

    python -m benchmarks.api_bench.database prepare|verify REQUEST.json

``prepare``: migrate, the examples' institutions, ``govserve publish
examples/``, one API client (rate limit out of the way) with a token of the
scopes the submissions need; prints the token. ``verify``: for the
submissions the load generator was told of, checks the database (each one
submitted through the API, with the answers it sent unsealing to the sent
values, none of them in clear in the answer rows), seals the audit chain and
verifies it, and counts the outbox rows; prints what it found.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

RESULT_MARKER = "API-BENCH-RESULT "
INSTITUTIONS = {
    "city-council": "Westmoor City Council",
    "health-agency": "National Health Registration Agency",
    "civil-registry": "Civil Registration Office",
}
SCOPES = ["services:read", "applications:read", "applications:write"]
SAMPLE = 25


def prepare(request: dict[str, Any]) -> dict[str, Any]:
    """Migrate, publish the examples, make the benchmark's API client and token; return the token."""
    from django.core.management import call_command  # noqa: PLC0415

    from govserve.accounts.models import Institution  # noqa: PLC0415
    from govserve.api.services import api_client_create, api_token_issue  # noqa: PLC0415
    from govserve.audit.actors import Actor  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    for code, name in INSTITUTIONS.items():
        Institution.objects.get_or_create(code=code, defaults={"name": name})
    call_command("publish", "examples/", verbosity=0)
    actor = Actor.system("cli")
    client = api_client_create(name="api-benchmark", actor=actor, rate_limit_per_minute=100_000)
    issued = api_token_issue(client=client, scopes=SCOPES, actor=actor)
    return {"token": issued.text, "client_id": str(client.id)}


def verify(request: dict[str, Any]) -> dict[str, Any]:
    """Check every acknowledged submission in the database, the audit chain and the outbox."""
    from django.core.management import call_command  # noqa: PLC0415
    from django.db.models import Count  # noqa: PLC0415

    from govserve.audit.models import AuditEntry  # noqa: PLC0415
    from govserve.core.models import JobRecord  # noqa: PLC0415
    from govserve.journeys.answers import answers_load  # noqa: PLC0415
    from govserve.journeys.models import Answer, Application  # noqa: PLC0415
    from govserve.journeys.selectors import compiled_for  # noqa: PLC0415
    from govserve.notifications.models import OutboundEmail  # noqa: PLC0415

    acknowledged: list[dict[str, str]] = json.loads(Path(request["acknowledged"]).read_text(encoding="utf-8"))
    problems: list[str] = []
    ids = [entry["id"] for entry in acknowledged]
    found = dict(Application.objects.filter(id__in=ids).values_list("id", "status"))
    not_submitted = [i for i in ids if str(found.get(_uuid(i), "")) != "submitted"]
    if not_submitted:
        problems.append(f"{len(not_submitted)} acknowledged submissions are not submitted: {not_submitted[:3]}")
    submitted_total = Application.objects.filter(status="submitted").count()
    if submitted_total != len(ids):
        problems.append(f"{submitted_total} submitted applications, {len(ids)} acknowledged")
    channels = dict(Application.objects.filter(id__in=ids).values_list("channel").annotate(n=Count("id")))
    if channels != {"api": len(ids)}:
        problems.append(f"channels {channels}")

    checked = 0
    for entry in random.Random(7).sample(acknowledged, min(SAMPLE, len(acknowledged))):
        application = Application.objects.get(id=entry["id"])
        answers = answers_load(application, compiled_for(application).definition)
        if answers.get("reporter_name") != entry["reporter_name"]:
            problems.append(f"{entry['id']}: reporter_name {answers.get('reporter_name')!r}")
        for sealed in Answer.objects.filter(application=application).values_list("value_sealed", flat=True):
            if entry["reporter_name"].encode() in bytes(sealed):
                problems.append(f"{entry['id']}: an answer is stored in clear")
        checked += 1

    call_command("audit", "seal", verbosity=0)
    try:
        call_command("audit", "verify", verbosity=0)
        audit_ok = True
    except SystemExit as exit_:
        audit_ok = exit_.code in (0, None)
    if not audit_ok:
        problems.append("audit verify failed")
    entries = AuditEntry.objects.count()
    outbox = JobRecord.objects.count()
    emails = OutboundEmail.objects.count()
    per_submission = {"outbox_jobs": outbox / max(len(ids), 1), "emails": emails / max(len(ids), 1)}
    if emails < len(ids):
        problems.append(f"{emails} emails queued for {len(ids)} submissions")
    return {
        "acknowledged": len(ids),
        "submitted_in_database": submitted_total,
        "answers_unsealed_and_checked": checked,
        "audit_entries": entries,
        "audit_verified": audit_ok,
        "outbox_jobs": outbox,
        "emails_queued": emails,
        "per_submission": {name: round(value, 2) for name, value in per_submission.items()},
        "problems": problems,
    }


def _uuid(text: str) -> Any:
    import uuid  # noqa: PLC0415

    return uuid.UUID(text)


def main(action: str, path: str) -> int:
    """Run ``action`` with the request in ``path``; print its result after RESULT_MARKER."""
    import django  # noqa: PLC0415

    django.setup()
    request = json.loads(Path(path).read_text(encoding="utf-8"))
    result = {"prepare": prepare, "verify": verify}[action](request)
    sys.stdout.write(RESULT_MARKER + json.dumps(result, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
