"""The flow engine through the services, on the published examples: approve, reject, send back, bots."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from govserve.accounts.working_days import working_days_add
from govserve.audit.models import AuditEntry
from govserve.casework import errors, services
from govserve.casework.models import (
    CaseEvent,
    CaseFile,
    Decision,
    FileOutcome,
    FileState,
    Message,
    ProcessingValue,
    Task,
    TaskKind,
    TaskStatus,
)
from govserve.casework.tests.support import (
    file_of,
    light_submitted,
    newborn_submitted,
    open_task,
    staff,
    statuses,
    trading_paid,
)
from govserve.core import clock
from govserve.core.jobs import run_pending
from govserve.journeys import errors as journey_errors
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.resubmission import (
    ApplicationNotResubmittableError,
    application_resubmit,
    sent_back_answers_save,
)
from govserve.journeys.tests.support import STREET_LIGHT, example_text, publish_text
from govserve.privacy.crypto import unseal_text

pytestmark = pytest.mark.usefixtures("examples")

REGISTRAR = ("civil-registry", "registrar")
HEALTH_VISITOR = ("health-agency", "health-visitor")
REPAIRED = {"repair_notes": ["Lamp replaced, wiring made safe"]}


def test_submission_opens_the_file_with_the_first_role_task_due_by_its_sla() -> None:
    application, _ = newborn_submitted()

    case_file = file_of(application)
    task = open_task(application)
    assert case_file.state == FileState.OPEN
    assert case_file.current_role_id == "registrar"
    assert case_file.reference == application.reference
    assert (task.role_id, task.kind, task.status, task.institution.code) == (
        "registrar",
        TaskKind.HUMAN,
        TaskStatus.PENDING,
        "civil-registry",
    )
    assert task.due_on is not None
    assert case_file.expected_decision_on is not None
    assert case_file.expected_decision_on > task.due_on  # the health visitor's 3 days come after
    assert application.status == ApplicationStatus.SUBMITTED
    assert AuditEntry.objects.filter(action="casework.file.opened", subject_id=str(case_file.id)).count() == 1
    assert list(CaseEvent.objects.filter(case_file=case_file).values_list("kind", flat=True)) == [
        "file_opened",
        "task_created",
    ]


def test_a_submission_writes_its_file_once_in_its_first_state_and_reads_the_calendar_once() -> None:
    # given a street light report ready to send (a bot's task first, the engineer's 5 working days ahead)
    with CaptureQueriesContext(connection) as queries:
        application, _ = light_submitted()

    # then the file was inserted with its first state and never updated in that transaction
    statements = [query["sql"] for query in queries]
    file_writes = [sql for sql in statements if sql.startswith(("INSERT", "UPDATE")) and '"casework_casefile"' in sql]
    assert len(file_writes) == 1
    assert file_writes[0].startswith('INSERT INTO "casework_casefile"')
    assert len([sql for sql in statements if '"accounts_institutionholiday"' in sql]) == 1
    case_file = file_of(application)
    task = open_task(application)
    assert (case_file.state, case_file.current_role_id, task.role_id, task.kind) == (
        FileState.OPEN,
        "triage-bot",
        "triage-bot",
        TaskKind.BOT,
    )
    today = clock.now().date()
    engineer = task.institution
    assert case_file.expected_decision_on == working_days_add(engineer, today, 5)
    assert list(CaseEvent.objects.filter(case_file=case_file).order_by("id").values_list("kind", flat=True)) == [
        "file_opened",
        "task_created",
    ]


def test_opening_the_file_of_a_locked_application_that_has_one_returns_it_and_writes_nothing() -> None:
    # given a sent report with its file, locked in a transaction as the submission holds it
    application, _ = light_submitted()
    opened = file_of(application)
    events_before = CaseEvent.objects.count()
    audit_before = AuditEntry.objects.count()
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        locked.status = ApplicationStatus.SUBMITTED  # as the submission leaves it

        # when the file is opened again (the journey's hook path)
        again = services.file_open(locked, locked=True)
        files = CaseFile.objects.filter(application=application).count()  # PostgreSQL: still a usable transaction

    # then the same file, and nothing written
    assert again.pk == opened.pk
    assert files == 1
    assert (CaseEvent.objects.count(), AuditEntry.objects.count()) == (events_before, audit_before)
    assert Task.objects.filter(case_file=opened).count() == 1


def test_a_flow_where_no_role_applies_closes_the_file_approved_at_once() -> None:
    # given a street light definition whose two roles apply to private lights only
    text = example_text("report-street-light")
    for role in ("triage-bot", "street-lighting-engineer"):
        text = text.replace(f"    - id: {role}\n", f"    - id: {role}\n      when: private_light\n")
    publish_text(text, "light.yaml")

    # when a report of a public light is sent
    application, _ = light_submitted()

    # then the file was opened and closed approved in the submission, both roles recorded as skipped
    case_file = file_of(application)
    assert (case_file.state, case_file.outcome, case_file.current_role_id) == (
        FileState.CLOSED,
        FileOutcome.APPROVED,
        "",
    )
    assert case_file.closed_at is not None
    assert case_file.expected_decision_on is None
    assert not Task.objects.filter(case_file=case_file).exists()
    events = CaseEvent.objects.filter(case_file=case_file).order_by("id")
    assert [(event.kind, event.role_id) for event in events] == [
        ("file_opened", ""),
        ("role_skipped", "triage-bot"),
        ("role_skipped", "street-lighting-engineer"),
        ("file_closed", ""),
    ]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    opened = AuditEntry.objects.get(action="casework.file.opened", subject_id=str(case_file.id))
    assert opened.details["first_role"] is None


def test_the_newborn_approve_path_goes_through_both_roles_to_approved() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    visitor = staff(HEALTH_VISITOR)
    first = open_task(application)

    services.task_claim(user=registrar, task_id=first.id)
    result = services.decision_record(
        user=registrar,
        task_id=first.id,
        decision="approve",
        data={"register_entry_number": ["B-2026-000123"]},
    )

    assert result.next_task is not None
    assert (result.next_task.role_id, result.next_task.institution.code) == ("health-visitor", "health-agency")
    assert result.application_status == ApplicationStatus.IN_PROGRESS
    stored = ProcessingValue.objects.get(case_file=result.case_file, role_id="registrar")
    assert stored.field_id == "register_entry_number"
    assert b"B-2026" not in bytes(stored.value_sealed)
    second = result.next_task
    with pytest.raises(errors.ProcessingFieldsInvalidError) as refused:
        services.decision_record(user=visitor, task_id=second.id, decision="approve", data={})
    assert [error.code for error in refused.value.extra["errors"]] == ["required"]
    assert Task.objects.get(pk=second.pk).status == TaskStatus.PENDING

    visit = clock.now().date() + dt.timedelta(days=2)
    final = services.decision_record(
        user=visitor,
        task_id=second.id,
        decision="approve",
        data={
            "first_visit_date-day": [str(visit.day)],
            "first_visit_date-month": [str(visit.month)],
            "first_visit_date-year": [str(visit.year)],
        },
    )

    application.refresh_from_db()
    case_file = CaseFile.objects.get(pk=final.case_file.pk)
    assert final.next_task is None
    assert application.status == ApplicationStatus.APPROVED
    assert (case_file.state, case_file.outcome, case_file.current_role_id) == (
        FileState.CLOSED,
        FileOutcome.APPROVED,
        "",
    )
    assert case_file.closed_at is not None
    assert statuses(application)[-3:] == [
        ("submitted", "draft", "submitted"),
        ("status_changed", "submitted", "in_progress"),
        ("status_changed", "in_progress", "approved"),
    ]
    changes = application.events.filter(kind="status_changed")
    assert set(changes.values_list("actor_kind", flat=True)) == {"user"}
    assert AuditEntry.objects.filter(action="casework.decision.recorded").count() == 2
    assert AuditEntry.objects.filter(action="casework.file.closed").count() == 1


def test_a_rejection_needs_a_reason_and_ends_the_file() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    task = open_task(application)
    services.task_claim(user=registrar, task_id=task.id)

    with pytest.raises(errors.ReasonRequiredError):
        services.decision_record(user=registrar, task_id=task.id, decision="reject", reason="   ")
    result = services.decision_record(
        user=registrar, task_id=task.id, decision="reject", reason="The birth was registered elsewhere"
    )

    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert result.case_file.outcome == FileOutcome.REJECTED
    decision = Decision.objects.get(task=task)
    assert decision.reason_sealed is not None
    assert (
        unseal_text(owner=application.crypto_owner, field=decision.reason_field, sealed=decision.reason_sealed)
        == "The birth was registered elsewhere"
    )
    assert not Task.objects.filter(case_file=result.case_file, status__in=["pending", "claimed"]).exists()


def test_send_back_flags_answers_and_the_resubmitted_file_returns_to_the_same_role() -> None:
    application, person = newborn_submitted()
    registrar = staff(REGISTRAR)
    task = open_task(application)
    services.task_claim(user=registrar, task_id=task.id)

    services.decision_record(
        user=registrar,
        task_id=task.id,
        decision="send_back",
        reason="The given names do not match the hospital notification",
        message="Please check the spelling of the baby's given names.",
        flagged_fields=["baby_given_names"],
    )

    application.refresh_from_db()
    case_file = file_of(application)
    assert application.status == ApplicationStatus.SENT_BACK
    assert (case_file.state, case_file.return_to_role_id, case_file.sent_back_fields) == (
        FileState.SENT_BACK,
        "registrar",
        ["baby_given_names"],
    )
    assert Message.objects.filter(case_file=case_file, sender="staff").count() == 1
    assert not Task.objects.filter(case_file=case_file, status__in=["pending", "claimed"]).exists()
    # The applicant may change the flagged answer only.
    with pytest.raises(journey_errors.PageNotFoundError):
        sent_back_answers_save(
            application_id=application.id,
            applicant=person,
            page_id="certificates",
            data={"extra_certificates": ["5"]},
            language="en",
        )
    changed = sent_back_answers_save(
        application_id=application.id,
        applicant=person,
        page_id="baby",
        data={"baby_given_names": ["Augusta Ada"], "baby_family_name": ["Changed"]},
        language="en",
    )
    assert changed == ["baby_given_names"]

    resent = application_resubmit(
        application_id=application.id, applicant=person, declaration_accepted=True, language="en"
    )

    assert resent.status == ApplicationStatus.IN_PROGRESS
    case_file.refresh_from_db()
    again = open_task(application)
    assert (again.role_id, again.status) == ("registrar", TaskStatus.PENDING)
    assert (case_file.state, case_file.return_to_role_id, case_file.sent_back_fields) == (FileState.OPEN, "", [])
    assert statuses(application)[-2:] == [
        ("status_changed", "in_progress", "sent_back"),
        ("submitted", "sent_back", "in_progress"),
    ]
    with pytest.raises(ApplicationNotResubmittableError):
        application_resubmit(application_id=application.id, applicant=person, declaration_accepted=True, language="en")


def test_send_back_to_the_applicant_needs_a_flag_and_flags_must_be_the_applications() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    task = open_task(application)

    with pytest.raises(errors.FlagsInvalidError):
        services.decision_record(user=registrar, task_id=task.id, decision="send_back", reason="Wrong")
    with pytest.raises(errors.FlagsInvalidError) as unknown:
        services.decision_record(
            user=registrar, task_id=task.id, decision="send_back", reason="Wrong", flagged_fields=["no_such_field"]
        )
    with pytest.raises(errors.FlagsInvalidError):
        services.decision_record(
            user=registrar,
            task_id=task.id,
            decision="approve",
            data={"register_entry_number": ["1"]},
            flagged_fields=["baby_given_names"],
        )

    assert unknown.value.extra["unknown"] == ["no_such_field"]
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING
    assert not Decision.objects.exists()


def test_an_internal_send_back_returns_the_file_to_the_named_role() -> None:
    application, _ = trading_paid()
    officer = staff(("city-council", "licensing-officer"))
    manager = staff(("city-council", "licensing-manager"))
    first = open_task(application)
    services.decision_record(user=officer, task_id=first.id, decision="approve", data={"pitch_inspected": ["yes"]})
    second = open_task(application)
    assert second.role_id == "licensing-manager"

    result = services.decision_record(
        user=manager, task_id=second.id, decision="send_back", reason="Inspect the pitch again"
    )

    assert result.next_task is not None
    assert result.next_task.role_id == "licensing-officer"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PROGRESS


def test_a_decision_the_role_does_not_allow_is_refused() -> None:
    application, _ = trading_paid()
    officer = staff(("city-council", "licensing-officer"))
    task = open_task(application)

    with pytest.raises(errors.DecisionNotAllowedError):
        services.decision_record(user=officer, task_id=task.id, decision="escalate")

    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


def test_an_application_waiting_for_payment_has_no_file_until_it_is_paid() -> None:
    from govserve.journeys.models import Application  # noqa: PLC0415

    application, _ = trading_paid()

    assert open_task(application).role_id == "licensing-officer"
    unpaid = Application.objects.exclude(pk=application.pk).filter(status="awaiting_payment")
    assert not CaseFile.objects.filter(application__in=unpaid).exists()


def test_the_bot_decides_in_the_worker_through_the_same_decision_service() -> None:
    application, _ = light_submitted()
    bot_task = open_task(application)
    assert bot_task.kind == TaskKind.BOT

    ran = run_pending(raise_errors=True)

    assert ran >= 1
    decision = Decision.objects.get(task=bot_task)
    assert (decision.decision, decision.automatic, decision.rule_result, decision.decided_by) == (
        "approve",
        True,
        True,
        None,
    )
    engineer_task = open_task(application)
    assert engineer_task.role_id == "street-lighting-engineer"
    entry = AuditEntry.objects.get(action="casework.decision.recorded", subject_id=str(bot_task.id))
    assert (entry.actor_kind, entry.actor_id) == ("system", "casework.bot")
    application.refresh_from_db()
    assert statuses(application)[-1] == ("status_changed", "submitted", "in_progress")
    assert application.events.order_by("id").values_list("actor_kind", flat=True).last() == "system"
    # Running the job again changes nothing.
    assert services.decision_record_automatic(task_id=bot_task.id) is None


def test_a_bot_rule_that_is_false_records_on_false() -> None:
    publish_text(example_text(STREET_LIGHT).replace('rule: "!private_light"', "rule: exposed_wires"), "light.yaml")
    application, _ = light_submitted({"problem": {"problem": ["damaged"], "exposed_wires": ["no"]}})

    run_pending(raise_errors=True)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert file_of(application).outcome == FileOutcome.REJECTED
    assert Decision.objects.get(case_file__application=application).rule_result is False


def test_staff_cannot_decide_or_claim_a_bot_task() -> None:
    application, _ = light_submitted()
    engineer = staff(("city-council", "triage-bot"))
    task = open_task(application)

    with pytest.raises(errors.ClaimingDisabledError):
        services.task_claim(user=engineer, task_id=task.id)
    with pytest.raises(errors.DecisionNotAllowedError):
        services.decision_record(user=engineer, task_id=task.id, decision="approve")


def test_a_role_whose_when_is_false_is_skipped_and_recorded() -> None:
    text = example_text("register-newborn").replace(
        "      institution: health-agency\n      sla_working_days: 3\n",
        "      institution: health-agency\n      when: extra_certificates > 5\n      sla_working_days: 3\n",
    )
    publish_text(text, "newborn.yaml")
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    task = open_task(application)

    result = services.decision_record(
        user=registrar, task_id=task.id, decision="approve", data={"register_entry_number": ["B-1"]}
    )

    assert result.next_task is None
    assert result.case_file.outcome == FileOutcome.APPROVED
    skipped = CaseEvent.objects.get(case_file=result.case_file, kind="role_skipped")
    assert (skipped.role_id, skipped.details) == ("health-visitor", {"reason": "when_false"})


def test_withdrawal_cancels_the_open_task_and_closes_the_file() -> None:
    from govserve.journeys import services as journeys  # noqa: PLC0415

    application, person = newborn_submitted()
    registrar = staff(REGISTRAR)
    task = open_task(application)
    services.task_claim(user=registrar, task_id=task.id)

    journeys.application_withdraw(application_id=application.id, applicant=person)

    task.refresh_from_db()
    case_file = file_of(application)
    assert task.status == TaskStatus.CANCELLED
    assert (case_file.state, case_file.outcome) == (FileState.CLOSED, FileOutcome.WITHDRAWN)
    with pytest.raises(errors.TaskClosedError):
        services.decision_record(user=registrar, task_id=task.id, decision="approve")


def test_final_approval_calls_the_results_hook_once_and_a_failing_hook_rolls_the_decision_back() -> None:
    from govserve.audit.actors import Actor  # noqa: PLC0415
    from govserve.casework import hooks  # noqa: PLC0415

    calls: list[tuple[str, str]] = []

    def results_issue(application: Application, *, actor: Actor) -> None:
        calls.append((application.status, actor.kind.value))

    class ResultsBrokenError(errors.FileNotOpenError):
        code = "results_broken"

    def broken(application: Application, *, actor: Actor) -> None:
        raise ResultsBrokenError("The result could not be issued")

    application, _ = light_submitted()
    run_pending(raise_errors=True)
    engineer = staff(("city-council", "street-lighting-engineer"))
    task = open_task(application)
    hooks.file_approved_hook_register(broken)
    try:
        with pytest.raises(ResultsBrokenError):
            services.decision_record(user=engineer, task_id=task.id, decision="approve", data=REPAIRED)
    finally:
        hooks.hook_unregister(broken)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING
    assert not Decision.objects.filter(task=task).exists()

    hooks.file_approved_hook_register(results_issue)
    try:
        services.decision_record(user=engineer, task_id=task.id, decision="approve", data=REPAIRED)
    finally:
        hooks.hook_unregister(results_issue)

    assert calls == [("approved", "user")]


def test_applicant_visible_events_reach_the_notification_hook_inside_the_transaction() -> None:
    from govserve.casework import hooks  # noqa: PLC0415

    seen: list[str] = []

    def notify(event: CaseEvent) -> None:
        seen.append(event.kind)

    hooks.case_event_hook_register(notify)
    try:
        application, _ = newborn_submitted()
        registrar = staff(REGISTRAR)
        services.note_add(user=registrar, file_id=file_of(application).id, body="Internal only")
        services.decision_record(
            user=registrar, task_id=open_task(application).id, decision="reject", reason="Not eligible"
        )
    finally:
        hooks.hook_unregister(notify)

    assert seen == ["file_closed"]  # the note never; the rejection once


def test_the_reason_behind_a_send_back_or_a_closing_decision_is_given_for_notifications() -> None:
    from govserve.casework import selectors  # noqa: PLC0415

    first, _ = newborn_submitted()
    second, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    services.decision_record(
        user=registrar,
        task_id=open_task(first).id,
        decision="send_back",
        reason="The names differ",
        flagged_fields=["baby_given_names"],
    )
    services.decision_record(
        user=registrar, task_id=open_task(second).id, decision="reject", reason="Registered already"
    )

    sent_back = CaseEvent.objects.get(case_file__application=first, kind="sent_back")
    closed = CaseEvent.objects.get(case_file__application=second, kind="file_closed")
    opened = CaseEvent.objects.get(case_file__application=second, kind="file_opened")
    assert selectors.decision_reason_for_applicant(sent_back) == "The names differ"
    assert selectors.decision_reason_for_applicant(closed) == "Registered already"
    assert selectors.decision_reason_for_applicant(opened) == ""


def test_the_file_view_lists_what_the_deliveries_provider_gives() -> None:
    from govserve.casework import hooks, selectors  # noqa: PLC0415

    def deliveries(application: Application) -> list[object]:
        return [("email", application.reference)]

    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    hooks.deliveries_provider_register(deliveries)
    try:
        view = selectors.file_view(user=registrar, file_id=file_of(application).id)
    finally:
        hooks.hook_unregister(deliveries)

    assert view.deliveries[-1] == ("email", application.reference)  # after the providers registered at start


def test_a_bot_that_sends_back_flags_the_answers_its_rule_reads() -> None:
    text = (
        example_text(STREET_LIGHT)
        .replace('rule: "!private_light"', "rule: exposed_wires")
        .replace("on_false: reject", "on_false: send_back")
        .replace(
            "        approve: next\n        reject: end\n",
            "        approve: next\n        reject: end\n        send_back: applicant\n",
            1,
        )
    )
    publish_text(text, "light.yaml")
    application, person = light_submitted({"problem": {"problem": ["damaged"], "exposed_wires": ["no"]}})

    run_pending(raise_errors=True)

    application.refresh_from_db()
    case_file = file_of(application)
    assert application.status == ApplicationStatus.SENT_BACK
    assert (case_file.return_to_role_id, case_file.sent_back_fields) == ("triage-bot", ["exposed_wires"])
    # The applicant changes the answer and sends it again: the bot decides again, and approves.
    sent_back_answers_save(
        application_id=application.id,
        applicant=person,
        page_id="problem",
        data={"problem": ["damaged"], "exposed_wires": ["yes"]},
        language="en",
    )
    application_resubmit(application_id=application.id, applicant=person, declaration_accepted=True, language="en")
    run_pending(raise_errors=True)
    assert open_task(application).role_id == "street-lighting-engineer"


def test_a_flagged_document_is_replaced_and_the_resubmission_records_the_new_file() -> None:
    from govserve.journeys.models import ApplicationDocument  # noqa: PLC0415
    from govserve.journeys.resubmission import sent_back_document_upload  # noqa: PLC0415
    from govserve.journeys.tests.conftest import pdf_upload  # noqa: PLC0415

    application, person = newborn_submitted()
    registrar = staff(REGISTRAR)
    before = ApplicationDocument.objects.get(application=application, requirement_id="birth-notification").document_id
    services.decision_record(
        user=registrar,
        task_id=open_task(application).id,
        decision="send_back",
        reason="The notification is unreadable",
        flagged_documents=["birth-notification"],
    )

    with pytest.raises(journey_errors.PageNotFoundError):
        sent_back_document_upload(
            application_id=application.id,
            applicant=person,
            requirement_id="mother-identity-document",
            upload=pdf_upload(),
        )
    replaced = sent_back_document_upload(
        application_id=application.id,
        applicant=person,
        requirement_id="birth-notification",
        upload=pdf_upload("notification.pdf", "Birth notification, readable"),
    )
    application_resubmit(application_id=application.id, applicant=person, declaration_accepted=True, language="en")

    after = ApplicationDocument.objects.get(application=application, requirement_id="birth-notification").document_id
    assert after == replaced
    assert before is not None


def test_withdrawing_a_sent_back_application_closes_its_file_and_ends_the_thread() -> None:
    from govserve.journeys import services as journeys  # noqa: PLC0415

    application, person = newborn_submitted()
    registrar = staff(REGISTRAR)
    services.decision_record(
        user=registrar,
        task_id=open_task(application).id,
        decision="send_back",
        reason="Check the names",
        flagged_fields=["baby_given_names"],
    )

    journeys.application_withdraw(application_id=application.id, applicant=person)

    case_file = file_of(application)
    assert (case_file.state, case_file.outcome) == (FileState.CLOSED, FileOutcome.WITHDRAWN)
    with pytest.raises(errors.FileNotOpenError):
        services.message_send_applicant(application=application, actor=person.actor, body="Sorry")
    with pytest.raises(errors.FileNotOpenError):
        services.message_send_staff(user=registrar, file_id=case_file.id, body="Noted")
    with pytest.raises(ApplicationNotResubmittableError):
        application_resubmit(application_id=application.id, applicant=person, declaration_accepted=True, language="en")
