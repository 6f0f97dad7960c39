"""The operator and bot side of API v1: queues, a task with its file, claim, release, assign, decide, write.

Every call goes through casework's services as the token's staff account, so
these tests check the API's own part (auth, scopes, bodies, problems) and
that the casework rules show through it unchanged.
"""

from __future__ import annotations

import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts.models import RoleAssignment, User
from govserve.api import errors
from govserve.api.models import TASK_SCOPES, ApiClient, ClientKind
from govserve.api.services import api_bot_client_create, api_operator_token_issue, api_token_issue
from govserve.api.tests.conftest import OPERATOR, Caller, MakeCaller, body
from govserve.api.v1.http import cursor_encode
from govserve.audit.models import AuditEntry
from govserve.casework import selectors
from govserve.casework.models import Note, Task, TaskStatus
from govserve.casework.tests.support import newborn_submitted, open_task, staff, trading_paid
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import examples_publish

OFFICER = ("city-council", "licensing-officer")
REGISTRAR = ("civil-registry", "registrar")
LEADER = ("city-council", "team-leader")


@pytest.fixture
def examples(db: None) -> None:
    examples_publish()


def enrolled(*roles: tuple[str, str]) -> User:
    """Return a staff member holding ``roles`` with a confirmed authenticator app."""
    user = staff(*roles)
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    return user


def operator(user: User, *scopes: str) -> Caller:
    """Return a caller with an operator token of ``user`` (every task scope unless given)."""
    issued = api_operator_token_issue(user=user, actor=OPERATOR, scopes=scopes or TASK_SCOPES)
    return Caller(token=issued.text, client=issued.token.client)


def trading_task() -> tuple[Application, Task]:
    application, _person = trading_paid()
    return application, open_task(application)


def _codes(response: Any) -> tuple[int, str]:
    return response.status_code, body(response).get("code", "")


# --- Tokens -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_operator_token_is_refused_to_a_staff_member_without_mfa(examples: None) -> None:
    # given a staff member who never set up an authenticator app
    user = staff(OFFICER)
    # when a token is asked for them, then it is refused, and no client is made for them
    with pytest.raises(errors.OperatorNotEligibleError, match="has not set up an authenticator app"):
        api_operator_token_issue(user=user, actor=OPERATOR)
    assert not ApiClient.objects.filter(user=user).exists()
    # and the command says so
    with pytest.raises(CommandError, match="has not set up an authenticator app"):
        call_command("api_operator_token_issue", "--user", user.username, stdout=StringIO())


@pytest.mark.django_db
def test_the_command_prints_an_operator_token_once_bound_to_the_staff_member(examples: None) -> None:
    # given an MFA-enrolled staff member with an email address
    user = enrolled(OFFICER)
    user.email = "officer@council.example"
    user.save()
    out = StringIO()
    # when the command issues a token by email address
    call_command("api_operator_token_issue", "--user", "Officer@Council.example", "--days", "7", stdout=out)
    token = out.getvalue().splitlines()[0]
    # then the token works, acting as that staff member, with the task scopes only
    client = ApiClient.objects.get(user=user)
    assert client.kind == ClientKind.OPERATOR
    assert client.tokens.get().scopes == list(TASK_SCOPES)
    assert Caller(token=token, client=client).call("GET", "/api/v1/tasks").status_code == 200
    # and only the digest is stored
    assert token not in str(list(client.tokens.values()))


@pytest.mark.django_db
def test_an_operator_token_carries_only_task_scopes(examples: None) -> None:
    user = enrolled(OFFICER)
    with pytest.raises(errors.TokenRequestInvalidError, match="may carry only tasks:read"):
        api_operator_token_issue(user=user, actor=OPERATOR, scopes=["tasks:read", "applications:write"])


@pytest.mark.django_db
def test_a_deactivated_or_mfa_less_operator_token_stops_at_once(examples: None) -> None:
    # given a working operator token
    user = enrolled(OFFICER)
    caller = operator(user)
    assert caller.call("GET", "/api/v1/tasks").status_code == 200
    # when the staff member's authenticator app is removed, then the next call is refused
    TOTPDevice.objects.filter(user=user).delete()
    assert _codes(caller.call("GET", "/api/v1/tasks")) == (401, "token_account_unusable")
    # and when the app is back but the account is deactivated
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    assert caller.call("GET", "/api/v1/tasks").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = caller.call("GET", "/api/v1/tasks")
    assert _codes(response) == (401, "token_account_unusable")
    assert body(response)["detail"] == "The staff account of this token is deactivated or its access has ended"


@pytest.mark.django_db
def test_a_removed_role_takes_the_tasks_away_at_once(examples: None) -> None:
    # given an officer who can see a task
    _application, task = trading_task()
    user = enrolled(OFFICER)
    caller = operator(user)
    assert caller.call("GET", f"/api/v1/tasks/{task.id}").status_code == 200
    # when the role is removed, then the task is not found and the pool is empty
    RoleAssignment.objects.filter(user=user).delete()
    assert _codes(caller.call("GET", f"/api/v1/tasks/{task.id}")) == (404, "task_not_found")
    assert body(caller.call("GET", "/api/v1/tasks?queue=pool"))["items"] == []


@pytest.mark.django_db
def test_a_partner_token_with_a_task_scope_is_not_an_operator(examples: None, make_caller: MakeCaller) -> None:
    partner = make_caller("tasks:read", "tasks:decide")
    response = partner.call("GET", "/api/v1/tasks")
    assert _codes(response) == (403, "operator_required")


# --- Scopes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "method", "path", "payload"),
    [
        ("tasks:read", "GET", "/api/v1/tasks", None),
        ("tasks:read", "GET", "/api/v1/tasks/{task}", None),
        ("tasks:read", "GET", "/api/v1/tasks/{task}/assignees", None),
        ("tasks:decide", "POST", "/api/v1/tasks/{task}/claim", None),
        ("tasks:decide", "POST", "/api/v1/tasks/{task}/release", None),
        ("tasks:decide", "POST", "/api/v1/tasks/{task}/assign", {"assignee_id": str(uuid.UUID(int=1))}),
        ("tasks:decide", "PUT", "/api/v1/tasks/{task}/processing", {"processing": {}}),
        ("tasks:decide", "POST", "/api/v1/tasks/{task}/decision", {"decision": "approve"}),
        ("tasks:decide", "POST", "/api/v1/tasks/{task}/notes", {"body": "note"}),
        ("messages:write", "POST", "/api/v1/tasks/{task}/messages", {"body": "hello"}),
    ],
    ids=["list", "get", "assignees", "claim", "release", "assign", "processing", "decide", "note", "message"],
)
def test_each_operation_needs_its_scope(scope: str, method: str, path: str, payload: Any, examples: None) -> None:
    # given a task, and an operator whose token has every task scope but this one
    _application, task = trading_task()
    caller = operator(enrolled(OFFICER), *[other for other in TASK_SCOPES if other != scope])
    # when the operation is called, then it is refused for the scope, and nothing changed
    response = caller.call(method, path.format(task=task.id), payload)
    assert response.status_code == 403
    assert body(response) == {
        "type": "urn:govserve:problem:scope_missing",
        "title": "Forbidden",
        "status": 403,
        "detail": f"This token does not have the scope {scope}",
        "code": "scope_missing",
    }
    stored = Task.objects.get(pk=task.pk)
    assert (stored.status, stored.version) == (TaskStatus.PENDING, 1)
    assert not Note.objects.exists()


# --- Queues and reads ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pool_and_my_tasks_page_with_a_cursor_and_answer_304_to_the_etag(examples: None) -> None:
    # given three street trading applications waiting for a licensing officer
    tasks = [trading_task()[1] for _ in range(3)]
    caller = operator(enrolled(OFFICER))
    # when the pool is read two at a time
    first = caller.call("GET", "/api/v1/tasks?queue=pool&limit=2")
    page = body(first)
    assert first.status_code == 200
    assert (len(page["items"]), page["total"], page["total_capped"]) == (2, 3, False)
    second = body(caller.call("GET", f"/api/v1/tasks?cursor={page['next_cursor']}"))
    # then both pages together are the three tasks, once each
    seen = [item["id"] for item in page["items"] + second["items"]]
    assert sorted(seen) == sorted(str(task.id) for task in tasks)
    assert second["next_cursor"] is None
    assert page["items"][0]["role_id"] == "licensing-officer"
    assert page["items"][0]["role_name"] == "Licensing officer"
    # and the same read again with its ETag is 304
    again = caller.call("GET", "/api/v1/tasks?queue=pool&limit=2", **{"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    # when one is claimed, it leaves the pool for "mine"
    assert caller.call("POST", f"/api/v1/tasks/{tasks[0].id}/claim", raw="").status_code == 200
    mine = body(caller.call("GET", "/api/v1/tasks"))
    assert [item["id"] for item in mine["items"]] == [str(tasks[0].id)]
    assert mine["items"][0]["status"] == "claimed"
    assert body(caller.call("GET", "/api/v1/tasks?queue=pool"))["total"] == 2
    # and filters are the web's: another service, or tasks submitted tomorrow, match nothing
    assert body(caller.call("GET", "/api/v1/tasks?queue=all&service=register-newborn"))["items"] == []
    assert body(caller.call("GET", "/api/v1/tasks?queue=all&overdue=true"))["items"] == []
    assert body(caller.call("GET", "/api/v1/tasks?queue=all&submitted_from=2999-01-01"))["items"] == []
    assert body(caller.call("GET", "/api/v1/tasks?queue=all&overdue=false"))["total"] == 3


@pytest.mark.parametrize(
    "query",
    ["cursor=nonsense", "queue=everything", "submitted_from=yesterday", "limit=0", "overdue=perhaps"],
    ids=["cursor", "queue", "date", "limit", "overdue"],
)
def test_bad_queue_parameters_are_problems(query: str, examples: None) -> None:
    caller = operator(enrolled(OFFICER))
    response = caller.call("GET", f"/api/v1/tasks?{query}")
    assert response["Content-Type"] == "application/problem+json"
    assert _codes(response) in {(400, "cursor_invalid"), (422, "request_invalid")}


@pytest.mark.django_db
def test_a_task_shows_its_file_as_the_role_sees_it(examples: None) -> None:
    # given a street trading task, whose officer role sees only some answers
    application, task = trading_task()
    caller = operator(enrolled(OFFICER))
    # when it is read
    response = caller.call("GET", f"/api/v1/tasks/{task.id}")
    detail = body(response)
    # then the file holds only the answers the role sees, and what the role can do
    assert response.status_code == 200
    assert response["ETag"]
    sees = {
        "full_name",
        "date_of_birth",
        "trading_type",
        "goods_description",
        "food_registration_number",
        "pitch_location",
        "days_per_week",
        "licence_length",
        "assistants",
        "photo",
    }
    shown = {answer["field"] for answer in detail["file"]["answers"]}
    assert shown
    assert shown <= sees
    assert detail["task"]["id"] == str(task.id)
    assert detail["file"]["reference"] == application.reference
    assert detail["file"]["seen_as_role_id"] == "licensing-officer"
    actions = detail["actions"]
    assert actions["may_act"] is True
    assert actions["decisions"] == ["approve", "reject", "send_back"]
    assert [field["id"] for field in actions["processing_fields"]] == ["pitch_inspected", "inspection_notes"]
    assert actions["processing_fields"][0]["value_schema"]["type"] == "boolean"
    # and the read is audited as a file view, with the API as the purpose
    viewed = AuditEntry.objects.get(action="casework.file.viewed")
    assert viewed.details["purpose"] == "api"


@pytest.mark.django_db
def test_another_institutions_task_is_not_found_like_one_that_does_not_exist(examples: None) -> None:
    # given a newborn registration's task (civil registry) and a city council officer
    application, _person = newborn_submitted()
    task = open_task(application)
    caller = operator(enrolled(OFFICER))
    # when the officer reads, claims or writes on it
    hidden = caller.call("GET", f"/api/v1/tasks/{task.id}")
    missing = caller.call("GET", f"/api/v1/tasks/{uuid.UUID(int=7)}")
    # then it answers exactly as for an id that does not exist
    assert _codes(hidden) == (404, "task_not_found")
    assert body(hidden) == body(missing)
    for path, payload in [
        ("claim", {}),
        ("decision", {"decision": "approve"}),
        ("messages", {"body": "hi"}),
        ("notes", {"body": "hi"}),
    ]:
        assert _codes(caller.call("POST", f"/api/v1/tasks/{task.id}/{path}", payload)) == (404, "task_not_found")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


# --- Claim, release, assign ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_claim_release_and_the_conflicts_of_two_operators(examples: None) -> None:
    _application, task = trading_task()
    first, second = operator(enrolled(OFFICER)), operator(enrolled(OFFICER))
    # when the first claims with the version they saw
    claimed = first.call("POST", f"/api/v1/tasks/{task.id}/claim", {"version": 1})
    assert claimed.status_code == 200
    assert (body(claimed)["status"], body(claimed)["version"]) == ("claimed", 2)
    # then the second's claim is a conflict, and so is a stale version
    assert _codes(second.call("POST", f"/api/v1/tasks/{task.id}/claim", raw="")) == (409, "task_already_claimed")
    assert _codes(first.call("POST", f"/api/v1/tasks/{task.id}/release", {"version": 1})) == (409, "task_changed")
    # and only the assignee may release it
    assert _codes(second.call("POST", f"/api/v1/tasks/{task.id}/release", raw="")) == (403, "not_assignee")
    released = first.call("POST", f"/api/v1/tasks/{task.id}/release", {"version": 2})
    assert (body(released)["status"], body(released)["assignee_id"]) == ("pending", None)
    # and the claim was audited as the staff member, the call as the client acting for them
    claim_entry = AuditEntry.objects.get(action="casework.task.claimed")
    assert claim_entry.actor_id == str(User.objects.get(api_client=first.client).pk)
    calls = AuditEntry.objects.filter(action="api.call.handled", details__operation="task_claim")
    assert calls.count() == 2
    assert {(entry.actor_kind, entry.actor_id) for entry in calls} == {
        ("api_client", str(first.client.id) if first.client else ""),
        ("api_client", str(second.client.id) if second.client else ""),
    }
    assert {entry.details["user"] for entry in calls} == {
        str(User.objects.get(api_client=caller.client).pk) for caller in (first, second)
    }
    assert {entry.details["status"] for entry in calls} == {200, 409}


@pytest.mark.django_db
def test_a_team_leader_assigns_and_a_colleague_may_not(examples: None) -> None:
    _application, task = trading_task()
    officer = enrolled(OFFICER)
    leader = operator(enrolled(LEADER))
    colleague = operator(enrolled(OFFICER))
    # when the leader lists who may take it and assigns it to the officer
    people = body(leader.call("GET", f"/api/v1/tasks/{task.id}/assignees"))["items"]
    assert str(officer.pk) in {person["user_id"] for person in people}
    assigned = leader.call("POST", f"/api/v1/tasks/{task.id}/assign", {"assignee_id": str(officer.pk)})
    # then the officer has it
    assert assigned.status_code == 200
    assert body(assigned)["assignee_id"] == str(officer.pk)
    # and a colleague cannot hand the officer's task on
    refused = colleague.call("POST", f"/api/v1/tasks/{task.id}/assign", {"assignee_id": str(officer.pk)})
    assert _codes(refused) == (403, "not_team_leader")
    # and nobody can be given a task whose role they do not hold
    outsider = staff(REGISTRAR)
    refused = leader.call("POST", f"/api/v1/tasks/{task.id}/assign", {"assignee_id": str(outsider.pk)})
    assert _codes(refused) == (422, "assignee_not_eligible")


# --- Decisions ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approval_is_refused_while_a_required_processing_field_is_empty(examples: None) -> None:
    application, task = trading_task()
    caller = operator(enrolled(OFFICER))
    # when the officer approves without the inspection answer
    refused = caller.call("POST", f"/api/v1/tasks/{task.id}/decision", {"decision": "approve"})
    # then it is refused with the field's error, pointing into the body's processing
    assert _codes(refused) == (422, "processing_fields_invalid")
    assert body(refused)["errors"] == [
        {
            "field": "pitch_inspected",
            "code": "required",
            "detail": "Select if the pitch has been inspected",
            "pointer": "/processing/pitch_inspected",
        }
    ]
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING
    # when the value is saved first, then the approval goes through and the file moves on
    saved = caller.call("PUT", f"/api/v1/tasks/{task.id}/processing", {"processing": {"pitch_inspected": True}})
    assert saved.status_code == 200
    approved = caller.call("POST", f"/api/v1/tasks/{task.id}/decision", {"decision": "approve", "version": 2})
    result = body(approved)
    assert approved.status_code == 200
    assert (result["decision"], result["next_role_id"], result["file_state"]) == (
        "approve",
        "licensing-manager",
        "open",
    )
    assert result["task"]["status"] == "done"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PROGRESS
    # and a second decision on the same task is a conflict
    again = caller.call("POST", f"/api/v1/tasks/{task.id}/decision", {"decision": "reject", "reason": "no"})
    assert _codes(again) == (409, "task_closed")


@pytest.mark.django_db
def test_reject_needs_a_reason_and_send_back_needs_flags(examples: None) -> None:
    application, task = trading_task()
    caller = operator(enrolled(OFFICER))
    path = f"/api/v1/tasks/{task.id}/decision"
    assert _codes(caller.call("POST", path, {"decision": "reject"})) == (422, "reason_required")
    assert _codes(caller.call("POST", path, {"decision": "send_back", "reason": "Photo"})) == (422, "flags_invalid")
    unknown = {"decision": "send_back", "reason": "Photo", "flagged_fields": ["no_such_answer"]}
    assert _codes(caller.call("POST", path, unknown)) == (422, "flags_invalid")
    # when sent back with a flag, a reason and a message, then the applicant is asked to change the photo
    sent = caller.call(
        "POST",
        path,
        {"decision": "send_back", "reason": "Photo", "flagged_fields": ["photo"], "message": "A clearer photo"},
    )
    assert sent.status_code == 200
    assert body(sent)["application_status"] == ApplicationStatus.SENT_BACK
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SENT_BACK
    assert [message.body for message in selectors.applicant_messages(application)] == ["A clearer photo"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"decision": "maybe"}, (422, "request_invalid")),
        ({"decision": "approve", "surprise": 1}, (422, "request_invalid")),
        ({"reason": "no decision"}, (422, "request_invalid")),
        ({"decision": "approve", "processing": {"no_such_field": 1}}, (422, "processing_fields_invalid")),
        ({"decision": "approve", "processing": {"pitch_inspected": "perhaps"}}, (422, "processing_fields_invalid")),
        ({"decision": "approve", "version": 0}, (422, "request_invalid")),
    ],
    ids=["unknown-decision", "unknown-member", "no-decision", "unknown-field", "wrong-type", "version-zero"],
)
def test_bad_decision_bodies_are_problems(payload: dict[str, Any], expected: tuple[int, str], examples: None) -> None:
    _application, task = trading_task()
    caller = operator(enrolled(OFFICER))
    response = caller.call("POST", f"/api/v1/tasks/{task.id}/decision", payload)
    assert response["Content-Type"] == "application/problem+json"
    assert _codes(response) == expected
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


@pytest.mark.django_db
def test_a_malformed_json_body_is_400(examples: None) -> None:
    _application, task = trading_task()
    caller = operator(enrolled(OFFICER))
    response = caller.call("POST", f"/api/v1/tasks/{task.id}/decision", raw="{not json")
    assert _codes(response) == (400, "malformed_json")


# --- Messages and notes -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_reaches_the_applicant_and_a_note_stays_internal(examples: None) -> None:
    application, task = trading_task()
    caller = operator(enrolled(OFFICER))
    # when the officer writes to the applicant and adds a note
    sent = caller.call("POST", f"/api/v1/tasks/{task.id}/messages", {"body": "Which market?"})
    noted = caller.call("POST", f"/api/v1/tasks/{task.id}/notes", {"body": "Checked the map"})
    # then both are recorded: the message in the applicant's thread, the note only on the file
    assert (sent.status_code, noted.status_code) == (201, 201)
    assert body(sent)["file_id"] == str(task.case_file_id)
    assert [message.body for message in selectors.applicant_messages(application)] == ["Which market?"]
    detail = body(caller.call("GET", f"/api/v1/tasks/{task.id}"))
    assert [note["body"] for note in detail["file"]["notes"]] == ["Checked the map"]
    assert [(message["sender"], message["body"]) for message in detail["file"]["messages"]] == [
        ("staff", "Which market?")
    ]
    # and empty ones are refused with casework's codes
    assert _codes(caller.call("POST", f"/api/v1/tasks/{task.id}/messages", {"body": " "})) == (422, "message_invalid")
    assert _codes(caller.call("POST", f"/api/v1/tasks/{task.id}/notes", {"body": ""})) == (422, "note_invalid")


# --- Bots ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bot_client_acts_for_the_roles_of_its_service_account(examples: None) -> None:
    # given a bot client bound to the licensing officer role, with a token
    _application, task = trading_task()
    client = api_bot_client_create(name="pitch-checker", roles=[OFFICER], actor=OPERATOR)
    issued = api_token_issue(client=client, scopes=TASK_SCOPES, actor=OPERATOR)
    bot = Caller(token=issued.text, client=client)
    assert client.user is not None
    assert (client.kind, client.user.username, client.user.has_usable_password()) == ("bot", "bot-pitch-checker", False)
    # when it works through the pool, then it claims and decides as its service account
    pool = body(bot.call("GET", "/api/v1/tasks?queue=pool"))["items"]
    assert [item["id"] for item in pool] == [str(task.id)]
    # (a claim needs no body: as curl -X POST sends it, no content type and nothing in it)
    claimed = Client().generic("POST", f"/api/v1/tasks/{task.id}/claim", HTTP_AUTHORIZATION=f"Bearer {issued.text}")
    assert claimed.status_code == 200
    decided = bot.call(
        "POST",
        f"/api/v1/tasks/{task.id}/decision",
        {"decision": "approve", "processing": {"pitch_inspected": True, "inspection_notes": "By the rule"}},
    )
    assert decided.status_code == 200
    assert Task.objects.get(pk=task.pk).decided_by_id == client.user.pk
    # and once someone gives its account a password, it is no longer a service account: its tokens stop
    client.user.set_password("a-person-now-2026")
    client.user.save()
    assert _codes(bot.call("GET", "/api/v1/tasks")) == (401, "token_account_unusable")


@pytest.mark.django_db
def test_the_bot_command_binds_a_client_to_a_new_service_account(examples: None) -> None:
    out = StringIO()
    call_command("api_bot_client_create", "night-bot", "--role", "city-council:licensing-officer", stdout=out)
    client = ApiClient.objects.get(name="night-bot")
    assert client.kind == ClientKind.BOT
    assert client.user is not None
    assert set(client.user.role_assignments.values_list("institution__code", "role")) == {OFFICER}
    assert "bot-night-bot" in out.getvalue()
    listing = StringIO()
    call_command("api_client_list", stdout=listing)
    assert "night-bot: bot, acts as bot-night-bot, 600 calls a minute" in listing.getvalue()
    with pytest.raises(CommandError, match="taken"):
        call_command("api_bot_client_create", "night-bot", "--role", "city-council:licensing-officer", stdout=out)
    with pytest.raises(CommandError, match="INSTITUTION:ROLE"):
        call_command("api_bot_client_create", "day-bot", "--role", "licensing-officer", stdout=out)


@pytest.mark.django_db
def test_a_forged_cursor_beyond_any_page_is_refused(examples: None) -> None:
    caller = operator(enrolled(OFFICER))
    forged = cursor_encode({"position": {"page": 10**30, "per_page": 50, "queue": "pool"}})
    assert _codes(caller.call("GET", f"/api/v1/tasks?cursor={forged}")) == (400, "cursor_invalid")


def test_a_task_file_gives_what_a_resubmission_left_to_pay_or_to_refund_of_a_paid_fee(examples: None) -> None:
    # given a street trading licence whose £300 fee was paid, sent back about the days and sent again with 2 (£270)
    from govserve.casework import services as casework  # noqa: PLC0415
    from govserve.journeys.models import ApplicationFee, FeeStatus  # noqa: PLC0415
    from govserve.journeys.resubmission import application_resubmit, sent_back_answers_save  # noqa: PLC0415
    from govserve.journeys.tests.support import TRADING_FORMS  # noqa: PLC0415

    application, person = trading_paid()
    ApplicationFee.objects.filter(application=application).update(status=FeeStatus.PAID)
    officer = enrolled(OFFICER)
    casework.decision_record(
        user=officer,
        task_id=open_task(application).id,
        decision="send_back",
        reason="Check the days",
        flagged_fields=["days_per_week"],
    )
    sent_back_answers_save(
        application_id=application.id,
        applicant=person,
        page_id="pitch",
        data={**TRADING_FORMS["pitch"], "days_per_week": ["2"]},
        language="en",
    )
    application_resubmit(application_id=application.id, applicant=person, declaration_accepted=True, language="en")

    # when the returned task is read
    response = operator(officer).call("GET", f"/api/v1/tasks/{open_task(application).id}")

    # then the paid fee says £30 of it is to be refunded
    assert response.status_code == 200
    assert body(response)["file"]["fees"] == [
        {
            "registration": "street-trading-licence",
            "fee": "licence-fee",
            "amount_minor": 30000,
            "currency": "GBP",
            "paid_when": "before_submission",
            "status": "paid",
            "kind": "fee",
            "refund_due_minor": 3000,
        }
    ]
