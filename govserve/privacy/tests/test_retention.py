"""Retention: the dry run, the run (what goes, what stays, the statistics, the audit), drafts' expiry."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from govserve.audit.models import AuditEntry
from govserve.audit.sealer import seal_pending
from govserve.audit.verify import verify_chain
from govserve.casework import services as casework
from govserve.casework.models import CaseFile, Decision, Message, Task
from govserve.casework.tests.support import open_task, staff
from govserve.core import clock
from govserve.core.jobs import registered_schedules, run_pending
from govserve.documents.models import Document
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.models import Answer, Application, ApplicationEvent, ApplicationFee, ApplicationStatus
from govserve.journeys.tests.conftest import _fresh_compiled_cache, jpeg_upload, media_root  # noqa: F401
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    STREET_LIGHT,
    applicant,
    example_text,
    examples_publish,
    publish_text,
)
from govserve.notifications.models import OutboundEmail
from govserve.privacy.models import DataKey, RetentionRecord
from govserve.privacy.retention import period_before, retention_dry_run, retention_run
from govserve.privacy.testing import plaintext_scan
from govserve.privacy.tests.retention_support import row_counts, stored_files

pytestmark = pytest.mark.django_db

ENGINEER = ("city-council", "street-lighting-engineer")
REPAIRED = {"repair_notes": ["Lamp replaced, wiring made safe"]}


def light_report(name: str, email: str, details: str) -> tuple[Application, Applicant]:
    """Submit an anonymous street light report with these personal values and a photo; return it."""
    started = journeys.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email=email
    )
    application = started.application
    person = applicant(None, application.id)
    forms: dict[str, Any] = {
        **LIGHT_FORMS,
        "location": {**LIGHT_FORMS["location"], "location_details": [details]},
        "your-details": {**LIGHT_FORMS["your-details"], "reporter_name": [name], "reporter_email": [email]},
    }
    for page_id in LIGHT_PATH:
        journeys.page_answers_save(
            application_id=application.id,
            applicant=person,
            page_id=page_id,
            data=forms[page_id],
            files={"photo": jpeg_upload()} if page_id == "photo" else None,
            language="en",
        )
    sent = journeys.application_submit(
        application_id=application.id,
        applicant=person,
        idempotency_key=f"submit-{application.id}",
        language="en",
        declaration_accepted=True,
    ).application
    return sent, person


def decide(application: Application, decision: str, message: str) -> None:
    """Let the bot triage, then an engineer write to the applicant and decide."""
    run_pending(raise_errors=True)
    engineer = staff(ENGINEER)
    task = open_task(application)
    casework.message_send_staff(user=engineer, file_id=task.case_file_id, body=message)
    extra: dict[str, Any] = {"data": REPAIRED} if decision == "approve" else {"reason": f"Refused: {message}"}
    casework.decision_record(user=engineer, task_id=task.id, decision=decision, **extra)
    run_pending(raise_errors=True)


def close_long_ago(application: Application, *, years: int) -> None:
    """Move the closure of ``application``'s file ``years`` back (as if it had closed then)."""
    then = clock.now() - dt.timedelta(days=366 * years)
    CaseFile.objects.filter(application=application).update(closed_at=then)
    Application.objects.filter(pk=application.pk).update(withdrawn_at=then) if application.withdrawn_at else None


def key_header(application: Application) -> bytes:
    """Return the first bytes of every value sealed under ``application``'s data key (version || key id)."""
    key = DataKey.objects.get(owner=application.crypto_owner)
    return b"\x01" + key.id.bytes


def statistics() -> dict[str, Any]:
    """Return what the performance figures are computed from: decisions, statuses, outcomes, fees, tasks."""
    return {
        "decisions": sorted(Decision.objects.values_list("decision", "role_id", "automatic", "decided_at")),
        "statuses": sorted(Counter(Application.objects.values_list("service_id", "status")).items()),
        "submitted": sorted(Application.objects.values_list("reference", "submitted_at")),
        "outcomes": sorted(CaseFile.objects.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n")),
        "closed": sorted(CaseFile.objects.values_list("reference", "opened_at", "closed_at")),
        "fees": ApplicationFee.objects.aggregate(total=Sum("amount_minor")),
        "tasks": sorted(Task.objects.values_list("role_id", "status", "decision", "decided_at")),
    }


@pytest.fixture
def three_files(request: pytest.FixtureRequest, media_root: Path) -> dict[str, Any]:  # noqa: F811
    """Publish the examples; submit three reports: one closed 3 years ago, one closed today, one open.

    Parametrized indirectly with a retention action, the street light service is published again with it.
    """
    examples_publish()
    action = getattr(request, "param", None)
    if action is not None:
        text = example_text(STREET_LIGHT).replace("retention: P2Y", f"retention: P2Y\nretention_action: {action}")
        publish_text(text, "light.yaml")
    old, _ = light_report(
        "Xanthippe Quillfeather-Oduya", "xanthippe.q.retention@example.org", "Behind 17 Larkspur Mews"
    )
    decide(old, "approve", "We will repair the lamp outside 17 Larkspur Mews tomorrow")
    recent, _ = light_report("Bartholomew Ndiaye-Kowalczyk", "bartholomew.nk@example.org", "Opposite 4 Tamarind Row")
    decide(recent, "reject", "Tamarind Row lamps belong to the housing association")
    still_open, _ = light_report("Genoveva Ashdown-Mbeki", "genoveva.am@example.org", "Next to 9 Quince Court")
    run_pending(raise_errors=True)
    close_long_ago(old, years=3)  # the example's retention is P2Y
    return {
        "old": old,
        "recent": recent,
        "open": still_open,
        "old_values": [
            "Xanthippe Quillfeather-Oduya",
            "xanthippe.q.retention@example.org",
            "Behind 17 Larkspur Mews",
            "17 Larkspur Mews tomorrow",
        ],
        "media": media_root,
    }


def test_period_before_counts_years_months_weeks_and_days_and_clamps_month_ends() -> None:
    moment = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
    assert period_before(moment, "P2Y") == dt.datetime(2024, 3, 31, 12, tzinfo=dt.UTC)
    assert period_before(moment, "P1M") == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)
    assert period_before(moment, "P13M") == dt.datetime(2025, 2, 28, 12, tzinfo=dt.UTC)
    assert period_before(moment, "P1Y1M1W1D") == dt.datetime(2025, 2, 20, 12, tzinfo=dt.UTC)
    assert period_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), "P1M") == dt.datetime(2025, 12, 15, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="ISO 8601"):
        period_before(moment, "P")
    with pytest.raises(ValueError, match="ISO 8601"):
        period_before(moment, "6 years")


def test_the_dry_run_lists_what_would_go_and_changes_nothing(three_files: dict[str, Any]) -> None:
    media = three_files["media"]
    rows_before, files_before = row_counts(), stored_files(media)
    audit_before = AuditEntry.objects.count()

    out = StringIO()
    call_command("privacy", "retention", "--dry-run", "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["dry_run"] is True
    assert report["files"] == 1
    [light] = report["services"]
    assert light["service"] == STREET_LIGHT
    assert light["retention"] == ["P2Y"]
    assert (light["files"], light["anonymised"], light["deleted"]) == (1, 1, 0)
    assert light["answers"] == Answer.objects.filter(application=three_files["old"]).count() > 0
    assert light["documents"] == 1
    assert light["messages"] == 1
    assert light["notifications"] == OutboundEmail.objects.filter(owner=three_files["old"].crypto_owner).count() > 0
    closed = CaseFile.objects.get(application=three_files["old"]).closed_at
    assert closed is not None
    assert light["oldest_closed_at"] == closed.isoformat()
    assert row_counts() == rows_before
    assert stored_files(media) == files_before
    assert AuditEntry.objects.count() == audit_before
    text = StringIO()
    call_command("privacy", "retention", "--dry-run", stdout=text)
    assert f"{STREET_LIGHT} (retention P2Y): 1 files would go (1 anonymised, 0 deleted)" in text.getvalue()
    assert f"oldest closed on {closed.date().isoformat()}" in text.getvalue()


def test_the_run_removes_exactly_the_expired_file_and_keeps_the_statistics(three_files: dict[str, Any]) -> None:
    old, recent, still_open = three_files["old"], three_files["recent"], three_files["open"]
    media = three_files["media"]
    header = key_header(old)
    before = plaintext_scan([header], directories=[media])
    assert before.findings, "the scan must see the old file's sealed values before the run"
    assert any(f.where.startswith(str(media)) or "media" in f.where for f in before.findings)
    others = {
        app.pk: (
            Answer.objects.filter(application=app).count(),
            Document.objects.filter(owner=app.crypto_owner).count(),
        )
        for app in (recent, still_open)
    }
    stats_before = statistics()

    report = retention_run()

    assert report.files == 1
    assert RetentionRecord.objects.get().application_id == old.pk
    assert not Answer.objects.filter(application=old).exists()
    assert not Document.objects.filter(owner=old.crypto_owner).exists()
    assert not Message.objects.filter(case_file__application=old).exists()
    assert DataKey.objects.get(owner=old.crypto_owner).destroyed_at is not None
    emails = OutboundEmail.objects.filter(owner=old.crypto_owner)
    assert emails.exists()
    assert all(bytes(e.body_sealed) == b"" and e.content_removed_at for e in emails)
    old.refresh_from_db()
    assert (old.status, old.citizen_id, old.contact_email_sealed) == (ApplicationStatus.APPROVED, None, None)
    # Nothing of the old file's sealed values is left, in any table or in the upload directory.
    after = plaintext_scan([header, *three_files["old_values"]], directories=[media])
    assert after.clean, after.findings
    # The other files are untouched.
    for app in (recent, still_open):
        assert (
            Answer.objects.filter(application=app).count(),
            Document.objects.filter(owner=app.crypto_owner).count(),
        ) == others[app.pk]
        assert DataKey.objects.get(owner=app.crypto_owner).destroyed_at is None
    assert statistics() == stats_before
    # One audit entry for the file, without personal data, and the chain verifies.
    entry = AuditEntry.objects.get(action="privacy.file.anonymised")
    assert entry.subject_id == str(old.pk)
    assert entry.details["reason"] == "retention"
    assert entry.details["documents"] == 1
    seal_pending()
    assert verify_chain().intact

    # Idempotent: a second run finds nothing, changes nothing.
    rows, files = row_counts(), stored_files(media)
    assert retention_run().files == 0
    assert row_counts() == rows
    assert stored_files(media) == files
    assert AuditEntry.objects.filter(action="privacy.file.anonymised").count() == 1


@pytest.mark.parametrize("three_files", ["delete"], indirect=True)
def test_delete_also_removes_the_descriptive_rows(three_files: dict[str, Any]) -> None:
    old = three_files["old"]
    assert old.version_number == 2

    dry = retention_dry_run()
    assert (dry.services[STREET_LIGHT].deleted, dry.services[STREET_LIGHT].anonymised) == (1, 0)
    report = retention_run()

    assert report.services[STREET_LIGHT].deleted == 1
    assert not ApplicationEvent.objects.filter(application=old).exists()
    assert AuditEntry.objects.filter(action="privacy.file.deleted", subject_id=str(old.pk)).exists()
    assert Decision.objects.filter(case_file__application=old).count() == 2


def test_the_retention_job_is_scheduled_daily() -> None:
    schedule = registered_schedules()["privacy.retention.run"]
    assert schedule.every == dt.timedelta(days=1)


def test_an_expired_draft_loses_its_answers_uploads_and_stored_files(media_root: Path) -> None:  # noqa: F811
    examples_publish()
    started = journeys.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="draft.only@example.org"
    )
    draft = started.application
    person = applicant(None, draft.id)
    for page_id in LIGHT_PATH[:4]:
        journeys.page_answers_save(
            application_id=draft.id,
            applicant=person,
            page_id=page_id,
            data=LIGHT_FORMS[page_id],
            files={"photo": jpeg_upload()} if page_id == "photo" else None,
            language="en",
        )
    assert Answer.objects.filter(application=draft).exists()
    assert stored_files(media_root)
    header = b"\x01" + DataKey.objects.get(owner=draft.crypto_owner).id.bytes
    assert not plaintext_scan([header], directories=[media_root]).clean
    run_pending(raise_errors=True)  # the emailed link to resume the draft goes out

    journeys.drafts_expire(now=clock.now() + dt.timedelta(days=400))
    run_pending(raise_errors=True)  # the documents' purge jobs delete the stored objects

    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.EXPIRED
    assert not Answer.objects.filter(application=draft).exists()
    assert stored_files(media_root) == []
    assert DataKey.objects.get(owner=draft.crypto_owner).destroyed_at is not None
    # Unreadable, but still there: the resume email's sealed content. The retention run empties it.
    [left] = {finding.where.split(" column")[0] for finding in plaintext_scan([header]).findings}
    assert left == "table notifications_outboundemail"
    assert retention_dry_run(now=clock.now() + dt.timedelta(days=4000)).files == 0  # drafts are not its files
    assert retention_run().expired_drafts_notifications == 1
    assert plaintext_scan([header, "draft.only@example.org"], directories=[media_root]).clean


def test_the_definition_refuses_an_unknown_retention_action_and_the_diff_names_a_change() -> None:
    from govserve.catalogue.definitions.loader import load_definition_text  # noqa: PLC0415
    from govserve.catalogue.diff import definition_changes, render_changes  # noqa: PLC0415

    text = example_text(STREET_LIGHT)
    default = load_definition_text(text, filename="light.yaml").definition
    deleting = load_definition_text(
        text.replace("retention: P2Y", "retention: P2Y\nretention_action: delete"), filename="light.yaml"
    ).definition
    refused = load_definition_text(
        text.replace("retention: P2Y", "retention: P2Y\nretention_action: purge"), filename="light.yaml"
    )

    assert default is not None
    assert default.retention_action == "anonymise"
    assert deleting is not None
    assert deleting.retention_action == "delete"
    assert refused.definition is None
    [problem] = refused.problems
    assert "retention_action" in problem.format()
    assert "purge" in problem.format()
    assert render_changes(definition_changes(default, deleting)) == (
        "Service: retention action changed from 'anonymise' to 'delete'"
    )


def test_staff_still_open_the_anonymised_file_without_an_error(three_files: dict[str, Any]) -> None:
    from govserve.casework.tests.test_views import person, signed_in  # noqa: PLC0415

    old = three_files["old"]
    case_file = CaseFile.objects.get(application=old)
    client = signed_in(person(ENGINEER))
    assert "Xanthippe Quillfeather-Oduya" in client.get(f"/staff/files/{case_file.pk}/").content.decode()
    retention_run()

    response = client.get(f"/staff/files/{case_file.pk}/")
    printed = client.get(f"/staff/files/{case_file.pk}/print")

    assert response.status_code == 200
    assert printed.status_code == 200
    page = response.content.decode()
    assert old.reference in page
    for value in three_files["old_values"]:
        assert value not in page


def test_a_draft_versions_policy_is_read_from_its_source() -> None:
    from govserve.catalogue.errors import VersionNotFoundError  # noqa: PLC0415
    from govserve.catalogue.services import DefinitionSource, version_draft_save  # noqa: PLC0415
    from govserve.privacy.retention import version_policy  # noqa: PLC0415

    examples_publish()
    text = example_text(STREET_LIGHT).replace("retention: P2Y", "retention: P30D\nretention_action: delete")
    draft = version_draft_save(source=DefinitionSource(name="light.yaml", text=text), actor=None)

    policy = version_policy(STREET_LIGHT, draft.number)

    assert (policy.retention, policy.action) == ("P30D", "delete")
    assert version_policy(STREET_LIGHT, 1).retention == "P2Y"
    with pytest.raises(VersionNotFoundError):
        version_policy(STREET_LIGHT, 99)
