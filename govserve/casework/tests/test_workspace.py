"""What staff do on files and queues: visibility, claiming, assigning, team leaders, notes, messages, corrections."""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.accounts.models import Institution, RoleAssignment, SupplierScope
from govserve.audit.models import AuditEntry
from govserve.casework import errors, selectors, services
from govserve.casework.models import (
    AssistedApplication,
    CaseEvent,
    Correction,
    CounterRecord,
    Message,
    Note,
    Task,
    TaskStatus,
)
from govserve.casework.permissions import TEAM_LEADER_ROLE
from govserve.casework.tests.support import (
    file_of,
    newborn_submitted,
    open_task,
    staff,
    unit_of,
)
from govserve.core import clock
from govserve.journeys.models import Answer, ApplicationStatus, Channel
from govserve.journeys.tests.support import NEWBORN, example_text, publish_text
from govserve.journeys.tests.test_services import fill_newborn, submit, upload_required

pytestmark = pytest.mark.usefixtures("examples")

REGISTRAR = ("civil-registry", "registrar")


# --- Visibility ---------------------------------------------------------------------------------------


def test_staff_of_another_institution_get_not_found_for_the_task_and_the_file() -> None:
    application, _ = newborn_submitted()
    task = open_task(application)
    outsider = staff(("city-council", "registrar"), ("city-council", "licensing-officer"))

    with pytest.raises(errors.TaskNotFoundError) as missing_task:
        services.task_claim(user=outsider, task_id=task.id)
    with pytest.raises(errors.CaseFileNotFoundError) as missing_file:
        selectors.file_view(user=outsider, file_id=file_of(application).id)
    with pytest.raises(errors.TaskNotFoundError) as unknown:
        services.task_claim(user=outsider, task_id="00000000-0000-0000-0000-000000000000")

    assert missing_task.value.message == unknown.value.message  # no hint that it exists
    assert missing_task.value.status == missing_file.value.status == 404
    assert selectors.task_queue(user=outsider, view="all").total == 0
    with pytest.raises(errors.CaseFileNotFoundError):
        selectors.file_for_reference(user=outsider, reference=application.reference)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING
    assert not AuditEntry.objects.filter(action="casework.file.viewed").exists()


def test_an_account_without_roles_or_deactivated_sees_nothing() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    registrar.is_active = False
    registrar.save()

    assert selectors.task_queue(user=registrar, view="all").total == 0
    with pytest.raises(errors.TaskNotFoundError):
        services.task_claim(user=registrar, task_id=open_task(application).id)


def test_the_file_view_shows_only_the_answers_the_role_sees_and_audits_the_read() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    visitor = staff(("health-agency", "health-visitor"))
    services.decision_record(
        user=registrar, task_id=open_task(application).id, decision="approve", data={"register_entry_number": ["E1"]}
    )
    case_file = file_of(application)

    as_registrar = selectors.file_view(user=registrar, file_id=case_file.id)
    as_visitor = selectors.file_view(user=visitor, file_id=case_file.id, purpose="print")

    registrar_fields = {row.field_id for row in as_registrar.answers}
    visitor_fields = {row.field_id for row in as_visitor.answers}
    assert "extra_certificates" in registrar_fields  # the registrar sees everything (no `sees`)
    assert "extra_certificates" not in visitor_fields
    assert visitor_fields <= {
        "baby_given_names",
        "baby_family_name",
        "baby_date_of_birth",
        "baby_sex",
        "mother_full_name",
        "mother_date_of_birth",
        "mother_nhs_number",
        "home_address",
        "optional_registrations",
        "contact_phone",
    }
    assert "baby_given_names" in visitor_fields
    assert as_visitor.may_act is True
    assert as_registrar.may_act is False
    assert as_registrar.seen_as_role_id == "registrar"
    assert [row.value for row in as_visitor.processing] == ["E1"]
    assert [(row.requirement_id, row.delivery) for row in as_visitor.documents][-1] == (
        "registration-signature",
        "sign_in_person",
    )
    viewed = AuditEntry.objects.filter(action="casework.file.viewed").order_by("id")
    assert [(entry.actor_id, entry.details["purpose"]) for entry in viewed] == [
        (str(registrar.pk), "view"),
        (str(visitor.pk), "print"),
    ]


# --- Claim, assign, release -----------------------------------------------------------------------------


def test_a_claimed_task_cannot_be_claimed_by_someone_else_and_a_stale_form_is_refused() -> None:
    application, _ = newborn_submitted()
    first, second = staff(REGISTRAR), staff(REGISTRAR)
    task = open_task(application)

    claimed = services.task_claim(user=first, task_id=task.id, version=task.version)

    assert claimed.version == task.version + 1
    assert services.task_claim(user=first, task_id=task.id).assignee_id == first.pk  # again: no change
    with pytest.raises(errors.TaskAlreadyClaimedError):
        services.task_claim(user=second, task_id=task.id, version=claimed.version)
    with pytest.raises(errors.TaskChangedError):
        services.task_release(user=first, task_id=task.id, version=task.version)
    with pytest.raises(errors.NotAssigneeError):
        services.decision_record(
            user=second, task_id=task.id, decision="approve", data={"register_entry_number": ["1"]}
        )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PROGRESS
    assert AuditEntry.objects.filter(action="casework.task.claimed").count() == 1


def test_release_puts_the_task_back_in_the_pool_and_only_the_assignee_may() -> None:
    application, _ = newborn_submitted()
    first, second = staff(REGISTRAR), staff(REGISTRAR)
    task = open_task(application)
    services.task_claim(user=first, task_id=task.id)

    with pytest.raises(errors.NotAssigneeError):
        services.task_release(user=second, task_id=task.id)
    released = services.task_release(user=first, task_id=task.id)

    assert (released.status, released.assignee_id) == (TaskStatus.PENDING, None)
    assert [row.task_id for row in selectors.task_queue(user=second, view="pool").rows] == [task.id]


def test_assigning_needs_a_colleague_who_holds_the_role() -> None:
    application, _ = newborn_submitted()
    registrar, colleague = staff(REGISTRAR), staff(REGISTRAR)
    visitor = staff(("health-agency", "health-visitor"))
    task = open_task(application)

    with pytest.raises(errors.AssigneeNotEligibleError):
        services.task_assign(user=registrar, task_id=task.id, assignee_id=visitor.pk)
    with pytest.raises(errors.AssigneeNotEligibleError):
        services.task_assign(user=registrar, task_id=task.id, assignee_id="not-a-uuid")
    assigned = services.task_assign(user=registrar, task_id=task.id, assignee_id=colleague.pk)

    assert (assigned.status, assigned.assignee_id) == (TaskStatus.CLAIMED, colleague.pk)
    assert [row.task_id for row in selectors.task_queue(user=colleague, view="mine").rows] == [task.id]
    assert selectors.task_queue(user=registrar, view="pool").total == 0
    with pytest.raises(errors.NotTeamLeaderError):
        services.task_assign(user=registrar, task_id=task.id, assignee_id=registrar.pk)


def test_a_supplier_whose_access_names_other_services_is_refused_as_assignee_saying_why() -> None:
    # given a registrar of a supplier whose access reaches only the street light service
    application, _ = newborn_submitted()
    registrar, vendor = staff(REGISTRAR), staff(REGISTRAR)
    vendor.is_supplier = True
    vendor.access_expires_at = clock.now() + dt.timedelta(days=30)
    vendor.save()
    SupplierScope.objects.create(user=vendor, services=["report-street-light"]).institutions.set(
        [Institution.objects.get(code="civil-registry")]
    )

    # when a colleague assigns them a birth registration
    with pytest.raises(errors.AssigneeNotEligibleError) as refused:
        services.task_assign(user=registrar, task_id=open_task(application).id, assignee_id=vendor.pk)

    # then the refusal says why, and the task is still in the pool
    assert refused.value.message == (
        "This person works for a supplier whose access does not include this service: "
        "choose someone else who holds this task's role"
    )
    assert open_task(application).status == TaskStatus.PENDING


def test_where_claiming_is_off_work_is_assigned_by_the_team_leader() -> None:
    publish_text(example_text(NEWBORN).replace("flow:\n  roles:\n", "flow:\n  claiming: false\n  roles:\n"), "nb.yaml")
    application, _ = newborn_submitted()
    unit = unit_of("civil-registry")
    registrar = staff(REGISTRAR, unit=unit)
    leader = staff(("civil-registry", TEAM_LEADER_ROLE), unit=unit)
    task = open_task(application)

    with pytest.raises(errors.ClaimingDisabledError):
        services.task_claim(user=registrar, task_id=task.id)
    with pytest.raises(errors.ClaimingDisabledError):
        services.decision_record(user=registrar, task_id=task.id, decision="approve")
    with pytest.raises(errors.NotTeamLeaderError):
        services.task_assign(user=registrar, task_id=task.id, assignee_id=registrar.pk)
    services.task_assign(user=leader, task_id=task.id, assignee_id=registrar.pk)
    result = services.decision_record(
        user=registrar, task_id=task.id, decision="approve", data={"register_entry_number": ["E7"]}
    )

    assert result.next_task is not None


def test_team_leaders_see_their_units_queues_and_reassign_in_bulk() -> None:
    applications = [newborn_submitted()[0] for _ in range(3)]
    unit = unit_of("civil-registry")
    first = staff(REGISTRAR, unit=unit)
    second = staff(REGISTRAR, unit=unit)
    leader = staff(("civil-registry", TEAM_LEADER_ROLE), unit=unit)
    other_leader = staff(("city-council", TEAM_LEADER_ROLE), unit=unit_of("city-council"))
    tasks = [open_task(application) for application in applications]
    services.task_claim(user=first, task_id=tasks[0].id)
    services.task_claim(user=first, task_id=tasks[1].id)

    stats = selectors.team_stats(user=leader)
    moved = services.tasks_reassign(user=leader, task_ids=[tasks[0].id, tasks[1].id], assignee_id=second.pk)

    assert [(row.role_id, row.pending, row.claimed) for row in stats] == [("registrar", 1, 2)]
    assert moved == 2
    assert sorted(row.task_id for row in selectors.task_queue(user=second, view="mine").rows) == sorted(
        [tasks[0].id, tasks[1].id]
    )
    assert selectors.team_stats(user=other_leader) == []
    with pytest.raises(errors.TaskNotFoundError):
        services.tasks_reassign(user=other_leader, task_ids=[tasks[2].id], assignee_id=None)
    with pytest.raises(errors.NotTeamLeaderError):
        services.tasks_reassign(user=first, task_ids=[tasks[2].id], assignee_id=None)
    with pytest.raises(errors.NotTeamLeaderError):
        selectors.team_stats(user=first)
    assert AuditEntry.objects.filter(action="casework.tasks.bulk_reassigned").count() == 1


def test_bulk_reassignment_is_all_or_nothing() -> None:
    applications = [newborn_submitted()[0] for _ in range(2)]
    leader = staff(("civil-registry", TEAM_LEADER_ROLE))
    registrar = staff(REGISTRAR)
    tasks = [open_task(application) for application in applications]
    services.decision_record(user=registrar, task_id=tasks[1].id, decision="reject", reason="Duplicate registration")

    with pytest.raises(errors.TaskClosedError):
        services.tasks_reassign(user=leader, task_ids=[tasks[0].id, tasks[1].id], assignee_id=registrar.pk)

    assert Task.objects.get(pk=tasks[0].pk).status == TaskStatus.PENDING


# --- Queues -----------------------------------------------------------------------------------------------


def test_the_queue_filters_by_reference_service_status_and_date() -> None:
    applications = [newborn_submitted()[0] for _ in range(3)]
    registrar = staff(REGISTRAR)
    services.task_claim(user=registrar, task_id=open_task(applications[0]).id)
    wanted = applications[2].reference

    by_reference = selectors.task_queue(user=registrar, view="all", reference=wanted.lower().replace("-", " "))
    claimed = selectors.task_queue(user=registrar, view="all", status="claimed")
    wrong_service = selectors.task_queue(user=registrar, view="all", service_id="street-trading-licence")
    nonsense = selectors.task_queue(user=registrar, view="bogus")
    submitted_on = applications[0].submitted_at.date() if applications[0].submitted_at else None
    same_day = selectors.task_queue(user=registrar, view="all", submitted_from=submitted_on, submitted_to=submitted_on)
    paged = selectors.task_queue(user=registrar, view="all", per_page=2, page=2, sort="-submitted_at")

    assert [row.reference for row in by_reference.rows] == [wanted]
    assert [row.reference for row in claimed.rows] == [applications[0].reference]
    assert wrong_service.total == nonsense.total == 0
    assert same_day.total == 3
    assert (paged.total, len(paged.rows), paged.has_next, paged.rows[0].reference) == (
        3,
        1,
        False,
        applications[0].reference,
    )
    assert by_reference.rows[0].role_name == "Registrar"
    assert selectors.task_queue(user=registrar, view="all", overdue=True).total == 0


# --- Notes, messages, corrections, counter records, assisted digital ------------------------------


def test_notes_are_sealed_and_never_reach_the_applicant() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    case_file = file_of(application)

    with pytest.raises(errors.NoteInvalidError):
        services.note_add(user=registrar, file_id=case_file.id, body="   ")
    services.note_add(user=registrar, file_id=case_file.id, body="Called the hospital: confirmed")

    note = Note.objects.get(case_file=case_file)
    assert b"hospital" not in bytes(note.body_sealed)
    assert [row.body for row in selectors.file_view(user=registrar, file_id=case_file.id).notes] == [
        "Called the hospital: confirmed"
    ]
    assert not CaseEvent.objects.filter(case_file=case_file, kind="note_added", applicant_visible=True).exists()


def test_messages_go_both_ways_and_the_applicant_may_start_only_where_allowed() -> None:
    publish_text(
        example_text(NEWBORN).replace(
            "flow:\n  roles:\n", "flow:\n  messages:\n    applicant_can_start: false\n  roles:\n"
        ),
        "nb.yaml",
    )
    application, person = newborn_submitted()
    registrar = staff(REGISTRAR)
    case_file = file_of(application)

    with pytest.raises(errors.MessageNotAllowedError):
        services.message_send_applicant(application=application, actor=person.actor, body="Hello?")
    services.message_send_staff(user=registrar, file_id=case_file.id, body="Which hospital was it?")
    services.message_send_applicant(application=application, actor=person.actor, body="Westmoor General")
    with pytest.raises(errors.MessageInvalidError):
        services.message_send_staff(user=registrar, file_id=case_file.id, body="x" * 5001)

    thread = selectors.applicant_messages(application)
    assert [(message.from_applicant, message.body) for message in thread] == [
        (False, "Which hospital was it?"),
        (True, "Westmoor General"),
    ]
    assert Message.objects.filter(case_file=case_file).count() == 2
    assert all(b"Westmoor" not in bytes(message.body_sealed) for message in Message.objects.all())


def test_a_correction_keeps_the_original_and_is_shown_to_both_sides() -> None:
    text = example_text(NEWBORN).replace(
        "      sla_working_days: 5\n", "      sla_working_days: 5\n      corrects: [baby_given_names]\n", 1
    )
    publish_text(text, "nb.yaml")
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    case_file = file_of(application)
    services.task_claim(user=registrar, task_id=open_task(application).id)

    with pytest.raises(errors.CorrectionNotPermittedError):
        services.correction_make(
            user=registrar,
            file_id=case_file.id,
            field_id="extra_certificates",
            data={"extra_certificates": ["3"]},
            reason="Asked",
        )
    with pytest.raises(errors.CorrectionInvalidError):
        services.correction_make(
            user=registrar,
            file_id=case_file.id,
            field_id="baby_given_names",
            data={"baby_given_names": [""]},
            reason="Typo",
        )
    services.correction_make(
        user=registrar,
        file_id=case_file.id,
        field_id="baby_given_names",
        data={"baby_given_names": ["Augusta Ada Byron"]},
        reason="Spelling confirmed by phone",
    )

    view = selectors.file_view(user=registrar, file_id=case_file.id)
    row = next(row for row in view.answers if row.field_id == "baby_given_names")
    assert (row.corrected_from, row.value) == ("Augusta Ada", "Augusta Ada Byron")
    shown = selectors.applicant_corrections(application)
    assert [(c.field_id, c.original, c.corrected) for c in shown] == [
        ("baby_given_names", "Augusta Ada", "Augusta Ada Byron")
    ]
    assert Correction.objects.count() == 1
    assert Answer.objects.filter(application=application, field_id="baby_given_names").count() == 1


def test_a_signature_in_person_is_recorded_once_and_uploads_are_not_counter_documents() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    case_file = file_of(application)
    services.task_claim(user=registrar, task_id=open_task(application).id)

    record = services.counter_record(
        user=registrar, file_id=case_file.id, requirement_id="registration-signature", note="Signed at the desk"
    )
    with pytest.raises(errors.CounterRecordInvalidError):
        services.counter_record(user=registrar, file_id=case_file.id, requirement_id="registration-signature")
    with pytest.raises(errors.CounterRecordInvalidError):
        services.counter_record(user=registrar, file_id=case_file.id, requirement_id="birth-notification")

    assert record.kind == "signed"
    assert CounterRecord.objects.count() == 1
    row = next(
        row
        for row in selectors.file_view(user=registrar, file_id=case_file.id).documents
        if row.requirement_id == "registration-signature"
    )
    assert (row.counter_kind, row.counter_note) == ("signed", "Signed at the desk")


def test_staff_not_working_on_the_file_cannot_record_at_the_counter() -> None:
    application, _ = newborn_submitted()
    registrar, other = staff(REGISTRAR), staff(REGISTRAR)
    case_file = file_of(application)
    services.task_claim(user=registrar, task_id=open_task(application).id)

    with pytest.raises(errors.NotAssigneeError):
        services.counter_record(user=other, file_id=case_file.id, requirement_id="registration-signature")

    assert not CounterRecord.objects.exists()


def test_assisted_digital_starts_and_submits_through_the_same_journey() -> None:
    registrar = staff(REGISTRAR)
    outsider = staff(("city-council", "licensing-officer"))

    with pytest.raises(errors.AssistedStartInvalidError) as wrong_service:
        services.assisted_application_start(user=outsider, service_id=NEWBORN, citizen_email="anne@example.org")
    with pytest.raises(errors.AssistedStartInvalidError) as bad_email:
        services.assisted_application_start(user=registrar, service_id=NEWBORN, citizen_email="not an email")
    started = services.assisted_application_start(user=registrar, service_id=NEWBORN, citizen_email="anne@example.org")
    person = services.assisted_applicant(user=registrar, application_id=started.application.id)
    fill_newborn(started.application, person)
    upload_required(started.application, person, "mother-identity-document", "birth-notification")
    sent = submit(started.application, person).application

    assert (wrong_service.value.extra["field"], bad_email.value.extra["field"]) == ("service", "email")
    assert started.citizen_created is True
    assert sent.channel == Channel.ASSISTED
    assert sent.status == ApplicationStatus.SUBMITTED
    assert open_task(sent).role_id == "registrar"
    assert AssistedApplication.objects.get(application=sent).staff_user == registrar
    assert AuditEntry.objects.filter(action="casework.assisted.started").count() == 1
    with pytest.raises(errors.CaseFileNotFoundError):
        services.assisted_applicant(user=registrar, application_id=sent.id)  # sent: no longer to fill in
    with pytest.raises(errors.CaseFileNotFoundError):
        services.assisted_applicant(user=outsider, application_id=started.application.id)
    # The same citizen again: found, not created.
    again = services.assisted_application_start(user=registrar, service_id=NEWBORN, citizen_email="ANNE@example.org")
    assert again.citizen_created is False
    assert again.application.citizen_id == sent.citizen_id


def test_the_expected_decision_date_follows_the_current_task() -> None:
    from govserve.journeys.selectors import expected_decision_date, state_load  # noqa: PLC0415

    application, _ = newborn_submitted()

    expected = expected_decision_date(application, state_load(application))

    assert expected == file_of(application).expected_decision_on
    assert expected is not None


def test_role_assignment_in_an_inactive_institution_gives_no_access() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    Institution.objects.filter(code="civil-registry").update(is_active=False)

    with pytest.raises(errors.TaskNotFoundError):
        services.task_claim(user=registrar, task_id=open_task(application).id)
    assert RoleAssignment.objects.filter(user=registrar).count() == 1


def test_a_big_queue_is_counted_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        newborn_submitted()
    registrar = staff(REGISTRAR)
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)

    queue = selectors.task_queue(user=registrar, view="pool", per_page=1)

    assert (queue.total, queue.total_capped, len(queue.rows), queue.has_next) == (2, True, 1, True)


def test_malformed_ids_and_oversized_text_are_typed_refusals_that_change_nothing() -> None:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    task = open_task(application)
    case_file = file_of(application)

    with pytest.raises(errors.TaskNotFoundError):
        services.task_claim(user=registrar, task_id="not-a-uuid")
    with pytest.raises(errors.CaseFileNotFoundError):
        selectors.file_view(user=registrar, file_id="../../etc/passwd")
    with pytest.raises(errors.CaseFileNotFoundError):
        services.note_add(user=registrar, file_id="123", body="x")
    with pytest.raises(errors.ReasonRequiredError) as too_long:
        services.decision_record(user=registrar, task_id=task.id, decision="reject", reason="x" * 5001)
    with pytest.raises(errors.NoteInvalidError):
        services.note_add(user=registrar, file_id=case_file.id, body="x" * 10_001)
    with pytest.raises(errors.ProcessingFieldsInvalidError):
        services.processing_values_save(user=registrar, task_id=task.id, data={"register_entry_number": ["x" * 5000]})

    assert too_long.value.message == "The reason must be 5,000 characters or fewer"
    assert too_long.value.status == 422
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING
    assert not Note.objects.exists()
    assert (
        not AuditEntry.objects.filter(action__startswith="casework.", outcome="success")
        .exclude(action="casework.file.opened")
        .exists()
    )
