"""The operator workspace pages (issue 5): queues, the file, decisions, notes, messages, counter, team, search.

Staff sign in through the real pages (password, then a TOTP code) on a client
that enforces CSRF and posts only the tokens the pages rendered. Bad input is
tested as carefully as good: another institution's file and a made-up id are
the same 404; a stale or already-claimed task is a clear 409 page; nothing
changes on a refusal.
"""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts.models import Institution, User
from govserve.accounts.tests.conftest import fresh_code
from govserve.accounts.tests.factories import STAFF_PASSWORD, device_create
from govserve.audit.models import AuditEntry
from govserve.casework.models import CaseFile, CounterRecord, Message, Note, Task, TaskStatus
from govserve.casework.tests.support import file_of, open_task, staff, trading_paid
from govserve.casework.views.queues import results_heading
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import STREET_TRADING, Browser, example_text, publish_text

pytestmark = pytest.mark.usefixtures("examples")

OFFICER_ROLE = ("city-council", "licensing-officer")
MANAGER_ROLE = ("city-council", "licensing-manager")
LEADER_ROLE = ("city-council", "team-leader")


def person(*roles: tuple[str, str], name: str | None = None) -> User:
    """Create a staff member holding ``roles``, with a password and an authenticator app."""
    user = staff(*roles, name=name)
    user.set_password(STAFF_PASSWORD)
    user.save()
    device_create(user=user)
    return user


def signed_in(user: User) -> Browser:
    """Return a CSRF-enforcing client on which ``user`` signed in through the real pages."""
    client = Browser()
    client.get("/staff/sign-in")
    response = client.post("/staff/sign-in", {"username": user.username, "password": STAFF_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    client.get("/staff/sign-in/code")
    response = client.post("/staff/sign-in/code", {"code": fresh_code(TOTPDevice.objects.get(user=user))})
    assert response.status_code == 302, response.content.decode()[:2000]
    client.get("/staff/queues/")  # the signed-in session's CSRF token (sign-in rotates it)
    return client


def text_of(response: Any) -> str:
    """Return the page's text without tags, spaces collapsed (for exact phrases)."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def error_summary(response: Any) -> list[str]:
    """Return the texts of the error summary's links."""
    html = response.content.decode()
    block = re.search(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', html, flags=re.DOTALL)
    if block is None:
        return []
    links = re.findall(r"<a [^>]*>(.*?)</a>", block.group(1), flags=re.DOTALL)
    return [html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", item).split())) for item in links]


@pytest.fixture
def officer() -> User:
    return person(OFFICER_ROLE, name="olive")


@pytest.fixture
def paid() -> Application:
    application, _who = trading_paid()
    return application


@pytest.fixture
def other_council() -> Institution:
    return Institution.objects.create(code="other-council", name="Other Council")


# --- access -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/staff/queues/", "/staff/my-tasks/", "/staff/team/", "/staff/search/"])
def test_the_workspace_sends_people_who_are_not_signed_in_to_sign_in(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/sign-in?next={path.replace('/', '%2F')}"


def test_a_file_page_sends_an_anonymous_visitor_to_sign_in_and_reveals_nothing(paid: Application) -> None:
    response = Client().get(f"/staff/files/{file_of(paid).id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in?next=")


# --- queues -----------------------------------------------------------------------------------------------


def test_the_pool_lists_the_waiting_task_with_a_claim_button_and_the_staff_navigation(
    officer: User, paid: Application
) -> None:
    client = signed_in(officer)

    response = client.get("/staff/queues/")

    assert response.status_code == 200
    page = text_of(response)
    assert "<title>Queues \N{EN DASH} govserve staff</title>" in response.content.decode()
    assert "Signed in as Olive" in page
    for item in ("Queues", "My tasks", "Team", "Search", "Sign out"):
        assert item in page
    assert "1 task" in page
    assert paid.reference in page
    assert "Apply for a street trading licence" in page
    assert "Licensing officer" in page
    task = open_task(paid)
    assert f'action="/staff/tasks/{task.id}/claim"' in response.content.decode()
    assert response["Cache-Control"] == "no-store, private" or "no-store" in response["Cache-Control"]


def test_staff_of_another_institution_see_an_empty_queue_and_a_404_for_the_file(
    paid: Application, other_council: Institution
) -> None:
    stranger = person(("other-council", "licensing-officer"), name="stranger")
    client = signed_in(stranger)

    queue = client.get("/staff/queues/")
    missing = client.get(f"/staff/files/{uuid.uuid4()}/")
    theirs = client.get(f"/staff/files/{file_of(paid).id}/")

    assert paid.reference not in text_of(queue)
    assert "There are no tasks waiting in your queues." in text_of(queue)
    assert theirs.status_code == missing.status_code == 404
    # The same page for a file that exists elsewhere and one that does not: no hint.
    assert text_of(theirs).replace(str(file_of(paid).id), "") == text_of(missing).replace(
        missing.request["PATH_INFO"].split("/")[3], ""
    )
    assert not AuditEntry.objects.filter(action="casework.file.viewed").exists()


def test_claiming_moves_the_task_to_my_tasks_with_a_banner(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    client.get("/staff/queues/")
    task = open_task(paid)

    response = client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version, "next": "/staff/queues/"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/queues/"
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED
    assert task.assignee_id == officer.pk
    queue = text_of(client.get("/staff/queues/"))
    assert f"You claimed {paid.reference}." in queue
    assert paid.reference not in queue.replace(f"You claimed {paid.reference}.", "")
    mine = client.get("/staff/my-tasks/")
    assert paid.reference in text_of(mine)
    assert f'action="/staff/tasks/{task.id}/release"' in mine.content.decode()


def test_a_second_claim_of_the_same_task_is_a_clear_409_and_changes_nothing(officer: User, paid: Application) -> None:
    colleague = person(OFFICER_ROLE, name="colin")
    first, second = signed_in(officer), signed_in(colleague)
    first.get("/staff/queues/")
    second.get("/staff/queues/")
    task = open_task(paid)
    first.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})

    response = second.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})

    assert response.status_code == 409
    page = text_of(response)
    assert "Someone else has already claimed this task" in page or "This task has changed since you opened it" in page
    assert "Nothing has been changed." in page
    task.refresh_from_db()
    assert task.assignee_id == officer.pk


def test_releasing_puts_the_task_back_in_the_pool(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    client.get("/staff/queues/")
    task = open_task(paid)
    client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})
    client.get("/staff/my-tasks/")
    task.refresh_from_db()

    response = client.post(f"/staff/tasks/{task.id}/release", {"version": task.version})

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING
    assert task.assignee_id is None
    assert f"You released {paid.reference}. It is back in the queue." in text_of(client.get("/staff/my-tasks/"))


def test_a_claim_of_a_made_up_task_is_the_404_page(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    client.get("/staff/queues/")

    response = client.post_crafted(f"/staff/tasks/{uuid.uuid4()}/claim", {"version": "1"})

    assert response.status_code == 404
    assert open_task(paid).status == TaskStatus.PENDING


def test_the_queue_filters_by_reference_and_shows_a_bad_date_without_failing(officer: User, paid: Application) -> None:
    client = signed_in(officer)

    found = client.get("/staff/queues/", {"reference": paid.reference.lower()})
    other = client.get("/staff/queues/", {"reference": "ZZZZ"})
    bad = client.get(
        "/staff/queues/",
        {"submitted_from-day": "31", "submitted_from-month": "2", "submitted_from-year": "2026", "sort": "nonsense"},
    )

    assert paid.reference in text_of(found)
    assert "No tasks match these filters." in text_of(other)
    assert bad.status_code == 400
    assert error_summary(bad) == ["The first submission date must be a real date, like 27 3 2026"]
    assert 'id="submitted_from-error"' in bad.content.decode()
    assert 'value="31"' in bad.content.decode()
    assert paid.reference in text_of(bad)


def test_the_overdue_filter_and_a_page_past_the_end(officer: User, paid: Application) -> None:
    client = signed_in(officer)

    overdue = client.get("/staff/queues/", {"overdue": "1"})
    far = client.get("/staff/queues/", {"page": "999"})
    junk = client.get("/staff/queues/", {"page": "x"})

    assert "No tasks match these filters." in text_of(overdue)
    assert far.status_code == 200
    assert junk.status_code == 200
    assert paid.reference in text_of(junk)


# --- the file ---------------------------------------------------------------------------------------------


def test_the_file_page_shows_summary_answers_documents_fees_history_and_audits_the_read(
    officer: User, paid: Application
) -> None:
    client = signed_in(officer)
    case_file = file_of(paid)

    response = client.get(f"/staff/files/{case_file.id}/")

    assert response.status_code == 200
    page = text_of(response)
    assert f"Application {paid.reference}" in page
    assert "Apply for a street trading licence" in page
    assert "Ada Lovelace" in page  # an answer the licensing officer sees
    assert "Cut flowers and bouquets" in page
    assert "12 Analytical Row" not in page  # the home address is not in the officer's `sees`
    assert "Proof of public liability insurance" in page
    assert "Signed licence conditions" in page
    assert "£300" in page
    assert "Internal notes are never shown to the applicant." in page
    assert "File opened" in page
    deliveries = re.search(
        r'<table class="govuk-table" id="deliveries">(.*?)</table>', response.content.decode(), re.DOTALL
    )
    assert deliveries is not None
    assert "Application received" in deliveries.group(1)
    assert "Email" in deliveries.group(1)
    html = response.content.decode()
    assert re.search(r'href="/documents/[0-9a-f-]{36}"', html)
    assert AuditEntry.objects.filter(action="casework.file.viewed", subject_id=str(case_file.id)).count() == 1


def test_the_printable_version_has_the_file_without_forms(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    case_file = file_of(paid)

    response = client.get(f"/staff/files/{case_file.id}/print")

    assert response.status_code == 200
    html = response.content.decode()
    assert paid.reference in text_of(response)
    assert 'method="post" action="/staff/files/' not in html
    assert "Record decision" not in html
    entry = AuditEntry.objects.get(action="casework.file.viewed", subject_id=str(case_file.id))
    assert entry.details["purpose"] == "print"


def test_a_note_is_added_and_an_empty_one_is_refused_with_the_error_pattern(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    case_file = file_of(paid)
    task = open_task(paid)
    client.get("/staff/queues/")
    client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})
    client.get(f"/staff/files/{case_file.id}/")

    empty = client.post(f"/staff/files/{case_file.id}/notes", {"note": "   "})
    added = client.post(f"/staff/files/{case_file.id}/notes", {"note": "Pitch checked with highways."})

    assert empty.status_code == 400
    assert error_summary(empty) == ["Enter the note"]
    assert "<title>Error:" in empty.content.decode()
    assert added.status_code == 302
    assert Note.objects.filter(case_file=case_file).count() == 1
    page = text_of(client.get(f"/staff/files/{case_file.id}/"))
    assert "Pitch checked with highways." in page
    assert "Your note has been added." in page


def test_a_message_to_the_applicant_is_sent_and_shown(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    case_file = file_of(paid)
    task = open_task(paid)
    client.get("/staff/queues/")
    client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})
    client.get(f"/staff/files/{case_file.id}/")

    response = client.post(f"/staff/files/{case_file.id}/messages", {"message": "Which days will you trade?"})

    assert response.status_code == 302
    assert Message.objects.filter(case_file=case_file, sender="staff").count() == 1
    assert "Which days will you trade?" in text_of(client.get(f"/staff/files/{case_file.id}/"))


def test_someone_who_does_not_work_the_task_cannot_post_a_note(officer: User, paid: Application) -> None:
    manager = person(MANAGER_ROLE, name="manny")
    client = signed_in(manager)

    response = client.post_crafted(f"/staff/files/{file_of(paid).id}/notes", {"note": "Let me in"})

    assert response.status_code == 404
    assert not Note.objects.exists()


# --- decisions --------------------------------------------------------------------------------------------


def _claimed(client: Browser, paid: Application) -> Task:
    task = open_task(paid)
    client.get("/staff/queues/")
    client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})
    task.refresh_from_db()
    return task


def test_the_decision_form_offers_only_the_roles_decisions_and_its_processing_fields(
    officer: User, paid: Application
) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)

    response = client.get(f"/staff/tasks/{task.id}/decision")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'name="decision" type="radio" value="([a-z_]+)"', html) == ["approve", "reject", "send_back"]
    assert "Has the pitch been inspected?" in html
    assert f'name="version" value="{task.version}"' in html


def test_approval_is_refused_while_a_required_processing_field_is_empty(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")

    response = client.post(f"/staff/tasks/{task.id}/decision", {"decision": "approve", "version": task.version})

    assert response.status_code == 400
    summary = error_summary(response)
    assert len(summary) == 1
    assert "pitch" in summary[0].lower()
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED


def test_approving_moves_the_file_to_the_manager(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")

    response = client.post(
        f"/staff/tasks/{task.id}/decision",
        {"decision": "approve", "pitch_inspected": "yes", "reason": "", "version": task.version},
    )

    assert response.status_code == 302
    assert response["Location"] == "/staff/my-tasks/"
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    following = open_task(paid)
    assert following.role_id == "licensing-manager"
    assert f"You approved {paid.reference}." in text_of(client.get("/staff/my-tasks/"))
    manager = signed_in(person(MANAGER_ROLE, name="manny"))
    manager_page = manager.get(f"/staff/files/{file_of(paid).id}/").content.decode()
    details = re.search(r'id="processing-details">(.*?)</dl>', manager_page, re.DOTALL)
    assert details is not None
    assert " ".join(re.sub(r"<[^>]+>", " ", details.group(1)).split()) == (
        "Has the pitch been inspected? Licensing officer Yes"
    )


def test_rejecting_without_a_reason_is_an_error_and_changes_nothing(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")

    response = client.post(f"/staff/tasks/{task.id}/decision", {"decision": "reject", "version": task.version})

    assert response.status_code == 400
    assert len(error_summary(response)) == 1
    assert 'href="#reason"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED


def test_no_decision_chosen_is_an_error(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")

    response = client.post(f"/staff/tasks/{task.id}/decision", {"version": task.version})

    assert response.status_code == 400
    assert error_summary(response) == ["Select a decision"]


def test_sending_back_with_flags_and_a_message_waits_for_the_applicant(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")

    response = client.post(
        f"/staff/tasks/{task.id}/decision",
        {
            "decision": "send_back",
            "reason": "The description is too short",
            "flagged_fields": ["goods_description"],
            "flagged_documents": ["public-liability-insurance"],
            "message": "Describe the flowers you will sell and upload a current certificate.",
            "version": task.version,
        },
    )

    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.status == ApplicationStatus.SENT_BACK
    case_file = CaseFile.objects.get(pk=file_of(paid).pk)
    assert case_file.sent_back_fields == ["goods_description"]
    page = text_of(client.get(f"/staff/files/{case_file.id}/"))
    assert "Flagged for correction" in page
    assert "This application is waiting for the applicant to correct it." in page


def test_a_stale_decision_form_is_a_clear_409(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")

    response = client.post(
        f"/staff/tasks/{task.id}/decision",
        {"decision": "approve", "pitch_inspected": "yes", "version": task.version - 1},
    )

    assert response.status_code == 409
    assert "This task has changed since you opened it" in text_of(response)
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED


def test_a_decided_task_cannot_be_decided_again(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")
    client.post(
        f"/staff/tasks/{task.id}/decision", {"decision": "approve", "pitch_inspected": "yes", "version": task.version}
    )

    again = client.get(f"/staff/tasks/{task.id}/decision")

    assert again.status_code == 409
    assert "This task has already been decided" in text_of(again)


def test_a_colleagues_claimed_task_cannot_be_decided(officer: User, paid: Application) -> None:
    colleague = person(OFFICER_ROLE, name="colin")
    client = signed_in(officer)
    task = _claimed(client, paid)
    other = signed_in(colleague)

    response = other.post_crafted(
        f"/staff/tasks/{task.id}/decision", {"decision": "approve", "pitch_inspected": "yes", "version": task.version}
    )

    assert response.status_code == 403
    assert "This task is not assigned to you" in text_of(response)
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED


def test_a_team_leader_opening_a_colleagues_claimed_task_is_told_why_and_cannot_decide(
    officer: User, paid: Application
) -> None:
    leader = person(LEADER_ROLE, name="lena")
    client = signed_in(officer)
    task = _claimed(client, paid)
    boss = signed_in(leader)
    file_page = boss.get(f"/staff/files/{file_of(paid).id}/")

    form = boss.get(f"/staff/tasks/{task.id}/decision")
    decided = boss.post_crafted(
        f"/staff/tasks/{task.id}/decision", {"decision": "approve", "pitch_inspected": "yes", "version": task.version}
    )

    assert file_page.status_code == 200  # the application itself, read-only
    assert f"/staff/tasks/{task.id}/decision" not in file_page.content.decode()
    assert form.status_code == 403
    assert "This task is not assigned to you" in text_of(form)
    assert "This task is assigned to someone else: only they can work on it" in text_of(form)
    assert f'href="/staff/files/{file_of(paid).id}/"' in form.content.decode()
    assert 'id="decision-form"' not in form.content.decode()
    assert decided.status_code == 403
    assert "This task is not assigned to you" in text_of(decided)
    task.refresh_from_db()
    assert (task.status, task.assignee_id, task.decision) == (TaskStatus.CLAIMED, officer.pk, "")


def test_a_team_leader_without_the_role_is_told_to_assign_a_waiting_task(officer: User, paid: Application) -> None:
    leader = person(LEADER_ROLE, name="lena")
    task = open_task(paid)

    form = signed_in(leader).get(f"/staff/tasks/{task.id}/decision")

    assert form.status_code == 403
    assert "Only staff who hold this task's role can work on it" in text_of(form)
    assert 'id="decision-form"' not in form.content.decode()
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.PENDING, None)


def test_a_role_holder_may_open_the_form_of_a_waiting_task_to_decide_it_directly(
    officer: User, paid: Application
) -> None:
    task = open_task(paid)

    form = signed_in(officer).get(f"/staff/tasks/{task.id}/decision")

    assert form.status_code == 200
    assert 'id="decision-form"' in form.content.decode()


# --- counter work -----------------------------------------------------------------------------------------


def test_a_signature_made_at_the_counter_is_recorded_once(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    case_file = file_of(paid)
    _claimed(client, paid)

    form = client.get(f"/staff/files/{case_file.id}/counter")
    wrong = client.post(f"/staff/files/{case_file.id}/counter", {"requirement": "public-liability-insurance"})
    done = client.post(
        f"/staff/files/{case_file.id}/counter", {"requirement": "licence-declaration", "note": "Badge 0042"}
    )

    assert form.status_code == 200
    assert "Signed licence conditions" in text_of(form)
    assert wrong.status_code == 400
    assert error_summary(wrong) == ["Select the document presented or signed"]
    assert done.status_code == 302
    record = CounterRecord.objects.get(case_file=case_file)
    assert (record.requirement_id, record.kind) == ("licence-declaration", "signed")
    after = text_of(client.get(f"/staff/files/{case_file.id}/counter"))
    assert "Everything this application needs at the counter has been recorded." in after


# --- team and search --------------------------------------------------------------------------------------


def test_the_team_page_says_it_is_for_team_leaders(officer: User, paid: Application) -> None:
    response = signed_in(officer).get("/staff/team/")
    assert response.status_code == 200
    assert "This page is for team leaders." in text_of(response)


def test_a_team_leader_sees_queue_sizes_and_reassigns_in_bulk(officer: User, paid: Application) -> None:
    leader = person(LEADER_ROLE, name="lena")
    client = signed_in(leader)

    page = client.get("/staff/team/")
    nothing = client.post("/staff/team/", {"assignee": ""})
    task = open_task(paid)
    moved = client.post("/staff/team/", {"tasks": [str(task.id)], "assignee": str(officer.pk)})

    assert page.status_code == 200
    assert "Queue sizes" in text_of(page)
    assert "Licensing officer" in text_of(page)
    assert nothing.status_code == 400
    assert error_summary(nothing) == ["Select the tasks to reassign", "Select who to give the tasks to"]
    assert moved.status_code == 302
    task.refresh_from_db()
    assert task.assignee_id == officer.pk
    assert "1 task reassigned." in text_of(client.get("/staff/team/"))


def test_a_tampered_bulk_reassignment_changes_nothing(officer: User, paid: Application) -> None:
    leader = person(LEADER_ROLE, name="lena")
    client = signed_in(leader)
    client.get("/staff/team/")

    response = client.post("/staff/team/", {"tasks": ["not-a-uuid"], "assignee": "also-not"})

    assert response.status_code == 400
    assert error_summary(response) == [
        "Select the tasks to reassign from the list",
        "Select who to give the tasks to from the list",
    ]
    assert open_task(paid).assignee_id is None


def test_search_opens_a_visible_file_and_says_nothing_about_others(
    officer: User, paid: Application, other_council: Institution
) -> None:
    client = signed_in(officer)
    stranger = signed_in(person(("other-council", "licensing-officer"), name="stranger"))

    found = client.get("/staff/search/", {"reference": f" {paid.reference.lower()} "})
    hidden = stranger.get("/staff/search/", {"reference": paid.reference})
    empty = client.get("/staff/search/", {"reference": ""})

    assert found.status_code == 302
    assert found["Location"] == f"/staff/files/{file_of(paid).id}/"
    assert hidden.status_code == 404
    assert error_summary(hidden) == [f"No application found with reference {paid.reference}"]
    assert empty.status_code == 400
    assert error_summary(empty) == ["Enter a reference"]


def test_assigning_to_a_colleague_and_a_tampered_assignee(officer: User, paid: Application) -> None:
    colleague = person(OFFICER_ROLE, name="colin")
    client = signed_in(officer)
    case_file = file_of(paid)
    task = open_task(paid)
    page = client.get(f"/staff/files/{case_file.id}/")
    assert f'value="{colleague.pk}"' in page.content.decode()

    tampered = client.post(f"/staff/tasks/{task.id}/assign", {"assignee": "x", "version": task.version})
    assigned = client.post(f"/staff/tasks/{task.id}/assign", {"assignee": str(colleague.pk), "version": task.version})

    assert tampered.status_code == 302
    assert assigned.status_code == 302
    task.refresh_from_db()
    assert task.assignee_id == colleague.pk


def test_the_workspace_speaks_welsh(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    client.get("/language/cy?next=/staff/queues/")

    response = client.get("/staff/queues/")

    assert '<html lang="cy"' in response.content.decode()
    page = text_of(response)
    assert "Ciwiau" in page
    assert "Fy nhasgau" in page
    assert "Wedi mewngofnodi fel Olive" in page
    assert "1 dasg" in page


# --- assisted digital ---------------------------------------------------------------------------------------


def test_an_operator_starts_an_assisted_application_for_a_citizen(officer: User) -> None:
    client = signed_in(officer)
    form = client.get("/staff/assisted/")
    assert 'value="street-trading-licence"' in form.content.decode()

    response = client.post(
        "/staff/assisted/",
        {"service": "street-trading-licence", "email": "grace@example.org", "application_language": "cy"},
    )

    assert response.status_code == 302
    application = Application.objects.get()
    assert (application.channel, application.language, application.status) == ("assisted", "cy", "draft")
    assert response["Location"] == f"/staff/assisted/{application.id}"
    onward = client.get(response["Location"])
    assert onward.status_code == 302
    assert onward["Location"] == f"/apply/{application.id}/"


def test_an_assisted_start_with_bad_input_starts_nothing(officer: User) -> None:
    client = signed_in(officer)
    client.get("/staff/assisted/")

    empty = client.post("/staff/assisted/", {"service": "", "email": ""})
    other = client.post("/staff/assisted/", {"service": "register-newborn", "email": "not-an-email"})

    assert empty.status_code == 400
    assert error_summary(empty) == [
        "Select the service the citizen is applying for",
        "Enter the citizen's email address",
    ]
    assert other.status_code == 400
    assert error_summary(other)[0] == "Select the service the citizen is applying for"
    assert not Application.objects.exists()


def test_another_operators_assisted_application_is_not_found(officer: User) -> None:
    client = signed_in(officer)
    client.get("/staff/assisted/")
    client.post("/staff/assisted/", {"service": "street-trading-licence", "email": "grace@example.org"})
    application = Application.objects.get()
    colleague = signed_in(person(OFFICER_ROLE, name="colin"))

    response = colleague.get(f"/staff/assisted/{application.id}")

    assert response.status_code == 404


# --- results ----------------------------------------------------------------------------------------------


def _approved(officer: User, paid: Application) -> Browser:
    """Approve ``paid`` as the officer, then as a manager; return the manager's client."""
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")
    client.post(
        f"/staff/tasks/{task.id}/decision", {"decision": "approve", "pitch_inspected": "yes", "version": task.version}
    )
    manager = signed_in(person(MANAGER_ROLE, name="manny"))
    task = _claimed(manager, paid)
    manager.get(f"/staff/tasks/{task.id}/decision")
    response = manager.post(f"/staff/tasks/{task.id}/decision", {"decision": "approve", "version": task.version})
    assert response.status_code == 302, text_of(response)[:2000]
    return manager


def test_the_issued_licence_is_listed_and_revoked_with_a_reason(officer: User, paid: Application) -> None:
    from govserve.casework.results.models import IssuedResult  # noqa: PLC0415 - the results app's own model

    manager = _approved(officer, paid)
    paid.refresh_from_db()
    assert paid.status == ApplicationStatus.APPROVED
    result = IssuedResult.objects.get(application=paid)
    case_file = file_of(paid)

    page = text_of(manager.get(f"/staff/files/{case_file.id}/"))
    form = manager.get(f"/staff/files/{case_file.id}/results/{result.id}/revoke")
    empty = manager.post(f"/staff/files/{case_file.id}/results/{result.id}/revoke", {"reason": " "})
    done = manager.post(f"/staff/files/{case_file.id}/results/{result.id}/revoke", {"reason": "Pitch withdrawn"})
    again = manager.get(f"/staff/files/{case_file.id}/results/{result.id}/revoke")

    assert "Street trading licence" in page
    assert result.number in page
    assert form.status_code == 200
    assert empty.status_code == 400
    assert error_summary(empty) == ["Enter why the result is revoked"]
    assert done.status_code == 302
    result.refresh_from_db()
    assert result.revoked_at is not None
    assert again.status_code == 409


def test_revoking_asks_for_password_and_code_again_after_five_minutes(
    officer: User, paid: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govserve.casework.results.models import IssuedResult  # noqa: PLC0415 - the results app's own model

    manager = _approved(officer, paid)
    result = IssuedResult.objects.get(application=paid)
    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=6)
    monkeypatch.setattr("govserve.core.clock.now", lambda: later)

    response = manager.get(f"/staff/files/{file_of(paid).id}/results/{result.id}/revoke")

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/confirm-it-is-you?next=")


def test_a_made_up_result_is_not_found(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    response = client.get(f"/staff/files/{file_of(paid).id}/results/{uuid.uuid4()}/revoke")
    assert response.status_code == 404


# --- corrections ------------------------------------------------------------------------------------------


def _with_corrections() -> None:
    text = example_text(STREET_TRADING).replace(
        "      sees: [full_name,", "      corrects: [goods_description]\n      sees: [full_name,", 1
    )
    publish_text(text, f"{STREET_TRADING}.yaml")


def test_an_answer_the_role_may_correct_is_corrected_and_shown_original_to_corrected(officer: User) -> None:
    _with_corrections()
    application, _who = trading_paid()
    client = signed_in(officer)
    _claimed(client, application)
    case_file = file_of(application)
    page = client.get(f"/staff/files/{case_file.id}/")
    url = f"/staff/files/{case_file.id}/answers/goods_description/correct"
    assert f'href="{url}"' in page.content.decode()
    client.get(url)

    no_reason = client.post(url, {"goods_description": "Cut flowers, bouquets and wreaths", "reason": ""})
    invalid = client.post(url, {"goods_description": "x" * 501, "reason": "Phoned the applicant"})
    done = client.post(
        url, {"goods_description": "Cut flowers, bouquets and wreaths", "reason": "Phoned the applicant"}
    )

    assert no_reason.status_code == 400
    assert error_summary(no_reason) == ["Enter why you are correcting this answer"]
    assert invalid.status_code == 400
    assert len(error_summary(invalid)) == 1
    assert 'href="#goods_description"' in invalid.content.decode()
    assert done.status_code == 302
    after = text_of(client.get(f"/staff/files/{case_file.id}/"))
    assert "Corrected" in after
    assert "Original answer: Cut flowers and bouquets" in after
    assert "corrected to: Cut flowers, bouquets and wreaths" in after


def test_an_answer_the_role_may_not_correct_has_no_correction_page(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    _claimed(client, paid)

    response = client.get(f"/staff/files/{file_of(paid).id}/answers/full_name/correct")

    assert response.status_code == 404


# --- claiming switched off, team leaders on the file page ----------------------------------------------------


def test_without_claiming_the_pool_offers_no_claim_and_a_leader_assigns(officer: User) -> None:
    publish_text(
        example_text(STREET_TRADING).replace("flow:\n  roles:", "flow:\n  claiming: false\n  roles:", 1),
        f"{STREET_TRADING}.yaml",
    )
    application, _who = trading_paid()
    task = open_task(application)
    client = signed_in(officer)

    pool = client.get("/staff/queues/")
    claim = client.post_crafted(f"/staff/tasks/{task.id}/claim", {"version": str(task.version)})
    leader = signed_in(person(LEADER_ROLE, name="lena"))
    file_page = leader.get(f"/staff/files/{file_of(application).id}/")
    assigned = leader.post(f"/staff/tasks/{task.id}/assign", {"assignee": str(officer.pk), "version": task.version})

    assert "Assigned by a team leader" in text_of(pool)
    assert f"/staff/tasks/{task.id}/claim" not in pool.content.decode()
    assert claim.status_code == 409
    assert "Tasks of this service are assigned, not claimed" in text_of(claim)
    assert f'action="/staff/tasks/{task.id}/assign"' in file_page.content.decode()
    assert assigned.status_code == 302
    task.refresh_from_db()
    assert task.assignee_id == officer.pk
    mine = signed_in(officer).get(f"/staff/files/{file_of(application).id}/")
    assert f'href="/staff/tasks/{task.id}/decision"' in mine.content.decode()


def test_a_team_leader_releases_a_colleagues_task_from_the_file_page(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    leader = signed_in(person(LEADER_ROLE, name="lena"))
    page = leader.get(f"/staff/files/{file_of(paid).id}/")
    assert f'action="/staff/tasks/{task.id}/release"' in page.content.decode()

    response = leader.post(f"/staff/tasks/{task.id}/release", {"version": task.version})

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.PENDING, None)


def test_a_queue_counted_to_its_cap_says_more_than() -> None:
    assert results_heading(10_000, capped=True) == "More than 10,000 tasks"
    assert results_heading(1, capped=False) == "1 task"
    assert results_heading(2_500, capped=False) == "2,500 tasks"


def test_sending_back_without_any_flag_is_an_error_and_changes_nothing(officer: User, paid: Application) -> None:
    client = signed_in(officer)
    task = _claimed(client, paid)
    client.get(f"/staff/tasks/{task.id}/decision")

    response = client.post(
        f"/staff/tasks/{task.id}/decision",
        {"decision": "send_back", "reason": "Needs changes", "version": task.version},
    )
    tampered = client.post(
        f"/staff/tasks/{task.id}/decision",
        {"decision": "send_back", "reason": "x", "flagged_fields": ["no_such_field"], "version": task.version},
    )
    not_allowed = client.post(
        f"/staff/tasks/{task.id}/decision", {"decision": "escalate", "reason": "x", "version": task.version}
    )

    assert response.status_code == tampered.status_code == not_allowed.status_code == 400
    assert len(error_summary(response)) == 1
    assert len(error_summary(tampered)) == 1
    assert 'href="#flagged_fields"' in tampered.content.decode()
    assert 'href="#decision"' in not_allowed.content.decode()
    paid.refresh_from_db()
    assert paid.status != ApplicationStatus.SENT_BACK
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED


def test_after_sending_an_assisted_application_the_operator_sees_only_its_confirmation(officer: User) -> None:
    from govserve.casework import services  # noqa: PLC0415 - the engine's services build the answers
    from govserve.journeys import services as journeys  # noqa: PLC0415
    from govserve.journeys.tests.support import LIGHT_FORMS, LIGHT_PATH, STREET_LIGHT  # noqa: PLC0415

    client = signed_in(officer)
    client.get("/staff/assisted/")
    client.post("/staff/assisted/", {"service": STREET_LIGHT, "email": "charles@example.org"})
    application = Application.objects.get()
    client.get(f"/staff/assisted/{application.id}")
    helper = services.assisted_applicant(user=officer, application_id=application.id)
    for page_id in LIGHT_PATH:
        journeys.page_answers_save(
            application_id=application.id, applicant=helper, page_id=page_id, data=LIGHT_FORMS[page_id], language="en"
        )
    journeys.application_submit(
        application_id=application.id,
        applicant=helper,
        idempotency_key="assisted-0001",
        language="en",
        declaration_accepted=True,
    )

    confirmation = client.get(f"/apply/{application.id}/confirmation")
    feedback = client.post_crafted(f"/apply/{application.id}/confirmation", {"rating": "5"})
    answers = client.get(f"/apply/{application.id}/check-answers")

    assert confirmation.status_code == 200
    assert application.reference in text_of(confirmation)
    assert feedback.status_code in {403, 404}
    assert answers.status_code in {403, 404}
