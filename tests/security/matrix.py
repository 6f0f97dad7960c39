"""The authorisation matrix: every route of the project and who may use it.

Each URL pattern's name (``namespace:name``; the pattern text for an unnamed
one) maps to a :class:`Route`: the access rule, the method, and how to fill
its path from the world (tests/security/world.py). The test walks the
URLconf, so a route added without an entry here fails
``test_every_route_is_in_the_matrix``; docs/security.md, "Authorisation
matrix", says how to add one.

Actors (:data:`ACTORS`): ``anonymous``; ``citizen_a`` (owns every citizen
resource of the world) and ``citizen_b`` (owns none); one staff member per
role of ``city-council`` (``staff:<name>``, world.STAFF_ROLES); ``staff:stranger``
(every role, in ``other-council``); ``staff:supplier`` (the officer's and administrator's roles, as a
supplier limited to another service) and ``staff:supplier_expired`` (the same roles, access ended);
``api:<scope>`` (the owner client's token
with only that scope); ``api:other`` (another client, every scope);
``api:operator`` / ``api:operator_stranger`` (operator tokens acting as the officer / the stranger);
``govstack:owner`` / ``govstack:other`` (the two clients' GovStack identities; the owner works on tasks as an
operator account holding the officer's role).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govserve.api.models import SCOPES
from tests.security.world import MISSING, STAFF_ROLES, World

STAFF_ACTORS = (*(f"staff:{name}" for name in STAFF_ROLES), "staff:stranger", "staff:supplier")
"""Usable staff accounts (the supplier limited to another service among them)."""
EXPIRED_ACTORS = ("staff:supplier_expired",)
"""A staff account that cannot be used any more: refused wherever a sign-in is needed."""
CITIZEN_ACTORS = ("citizen_a", "citizen_b")
API_ACTORS = (*(f"api:{scope}" for scope in SCOPES), "api:other", "api:operator", "api:operator_stranger")
GOVSTACK_ACTORS = ("govstack:owner", "govstack:other")
ACTORS = ("anonymous", *CITIZEN_ACTORS, *STAFF_ACTORS, *EXPIRED_ACTORS, *API_ACTORS, *GOVSTACK_ACTORS)
WEB_ACTORS = ("anonymous", *CITIZEN_ACTORS, *STAFF_ACTORS, *EXPIRED_ACTORS, "api:other", "govstack:owner")
"""Who is tried on web pages (a bearer token or an identity header must not open a page)."""


# --- rules --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may use a route: ``allowed`` actors; everyone else is refused."""

    name: str
    allowed: frozenset[str]
    owned: bool = False
    """Whether the route names a resource of citizen A / the owner client / city-council (leak check)."""
    kind: str = "access"
    sees: frozenset[str] | None = None
    """Actors who may know the resource exists though the route refuses them (a team leader's claim): the
    leak check spares them. None: the allowed actors."""
    """``access``: allowed actors get through, others are refused (401, 403, 404, a sign-in redirect; 400 for a
    GovStack call without an identity). ``public``: nobody is refused (a 404 for a made-up code is an answer,
    not a refusal). ``same``: every actor gets exactly the answer an anonymous caller gets (capability URLs
    with a made-up secret, sign-in steps without their first step): no session or token opens anything."""

    def allows(self, actor: str) -> bool:
        return actor in self.allowed


def public() -> Rule:
    """Anyone, signed in or not (public pages, sign-in forms, health checks)."""
    return Rule("public", frozenset(ACTORS), kind="public")


def citizen(*, owned: bool) -> Rule:
    """A signed-in citizen; ``owned``: only the owner (citizen A), others see a not-found."""
    return Rule("citizen-owner" if owned else "citizen", frozenset({"citizen_a"} if owned else CITIZEN_ACTORS), owned)


def staff(*names: str, owned: bool = False, sees: tuple[str, ...] = ()) -> Rule:
    """Signed-in, verified staff: ``names`` (without ``staff:``), or every staff member when none."""
    allowed = frozenset(f"staff:{name}" for name in names) if names else frozenset(STAFF_ACTORS)
    seeing = allowed | {f"staff:{name}" for name in sees}
    return Rule("staff", allowed, owned, sees=seeing)


def api(scope: str, *, owned: bool) -> Rule:
    """An API token with ``scope``; ``owned``: the owner client only (another client: not found)."""
    allowed = {f"api:{scope}"} | (set() if owned else {"api:other"})
    return Rule(f"api {scope}", frozenset(allowed), owned)


def govstack(*, owned: bool) -> Rule:
    """A registered GovStack identity; ``owned``: only the client the resource belongs to."""
    return Rule("govstack", frozenset({"govstack:owner"} if owned else GOVSTACK_ACTORS), owned)


def nobody_without_secret() -> Rule:
    """A capability URL (a token or signature in the path or body): with a made-up one, everyone is answered alike."""
    return Rule("secret", frozenset(), kind="same")


def nobody(*, owned: bool = True) -> Rule:
    """No actor at all (e.g. a citizen's own draft through the staff's assisted journey)."""
    return Rule("nobody", frozenset(), owned)


def admin_site() -> Rule:
    """The Django admin: administrators (of any institution: policies.can_use_admin)."""
    return Rule("admin", frozenset({"staff:administrator", "staff:stranger"}))


# --- routes -------------------------------------------------------------------------------------------------

Kwargs = Callable[[World], Mapping[str, Any]]


@dataclass(frozen=True)
class Route:
    """One route's entry: its rule, how to call it, and which path argument names the owned resource."""

    rule: Rule
    method: str = "GET"
    kwargs: Kwargs = field(default=lambda _world: {})
    owned_kwarg: str | None = None
    data: Mapping[str, Any] | None = None
    json: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


def _subject_access(world: World) -> dict[str, Any]:
    assert world.subject_access is not None
    return {"request_id": world.subject_access.id}


def _draft(world: World) -> dict[str, Any]:
    return {"application_id": world.draft.id}


def _draft_page(world: World) -> dict[str, Any]:
    return {"application_id": world.draft.id, "page_id": "age"}


def _draft_group(world: World) -> dict[str, Any]:
    return {"application_id": world.draft.id, "page_id": "assistants", "group_id": "assistants"}


def _draft_item(world: World) -> dict[str, Any]:
    return {**_draft_group(world), "item_id": "matrix-item"}


def _paid(world: World) -> dict[str, Any]:
    return {"application_id": world.paid.id}


def _awaiting(world: World) -> dict[str, Any]:
    return {"application_id": world.awaiting.id}


def _file(world: World) -> dict[str, Any]:
    return {"file_id": world.case_file.id}


def _task(world: World) -> dict[str, Any]:
    return {"task_id": world.task.id}


def _payment(world: World) -> dict[str, Any]:
    return {"payment_id": world.payment.id}


def _api_app(world: World) -> dict[str, Any]:
    return {"application_id": world.api_application.id}


def _service(_world: World) -> dict[str, Any]:
    return {"service_id": "street-trading-licence"}


def _api_service(_world: World) -> dict[str, Any]:
    return {"service_id": "report-street-light"}


def _token(_world: World) -> dict[str, Any]:
    return {"token": "made-up-token-0000"}


APP = "application_id"
CORRECTIONS_WRITE = api("applications:write", owned=True)
OWNER_SEES_READ = Rule("api applications:read", frozenset(), owned=True, sees=frozenset({"api:applications:read"}))
OWNER_SEES_WRITE = Rule("api applications:write", frozenset(), owned=True, sees=frozenset({"api:applications:write"}))
"""The owner's token with the scope gets a typed not-found for a part the application does not have (a group, a
document); everyone else must get exactly the made-up application's answer."""


def _api_group(world: World) -> dict[str, Any]:
    return {**_api_app(world), "page_id": "private-land", "group_id": "no-such-group"}


OPERATOR_TASK = Rule("api operator", frozenset({"api:operator"}), owned=True)
"""The world's task through API v1: the officer's operator token only (the stranger's: not found)."""
CASEWORK_FILE = staff("officer", "team_leader", owned=True)
"""Who sees the world's file: the holder of its task's role and the leader of that role (not the stranger)."""
FINANCE = staff("finance", "administrator", owned=True)
FILE_OR_FEES = staff("officer", "team_leader", "finance", "administrator", owned=True)
"""Who opens the world's file page: those who see it (:data:`CASEWORK_FILE`) and those who see its fees."""

ROUTES: dict[str, Route] = {
    # --- API v1 (bearer tokens with scopes) ----------------------------------------------------------------
    "api_v1:openapi-json": Route(public()),
    "api_v1:openapi-view": Route(public()),
    "api_v1:api-root": Route(public()),
    # Applicant sign-in for apps: asking for a link is public (always 202), the exchange needs the link's secret.
    "api_v1:sign_in_link_request": Route(public(), "POST", data={"email": "not-an-address"}, json=True),
    "api_v1:sign_in_token": Route(nobody_without_secret(), "POST", data={"token": "made-up-token-0000"}, json=True),
    "api_v1:service_list": Route(api("services:read", owned=False)),
    "api_v1:service_get": Route(api("services:read", owned=False), kwargs=_api_service),
    "api_v1:service_answers_schema": Route(api("services:read", owned=False), kwargs=_api_service),
    "api_v1:application_create": Route(
        api("applications:write", owned=False), "POST", data={"service_id": "report-street-light"}, json=True
    ),
    "api_v1:application_list": Route(api("applications:read", owned=False)),
    "api_v1:application_get": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    "api_v1:application_answers": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    "api_v1:application_answers_save": Route(
        api("applications:write", owned=True), "PATCH", _api_app, APP, data={"answers": {}}, json=True
    ),
    "api_v1:application_page_save": Route(
        api("applications:write", owned=True),
        "PUT",
        lambda w: {**_api_app(w), "page_id": "private-land"},
        APP,
        data={"answers": {}},
        json=True,
    ),
    "api_v1:application_page_upload": Route(
        api("applications:write", owned=True),
        "POST",
        lambda w: {**_api_app(w), "page_id": "private-land"},
        APP,
        data={},
    ),
    "api_v1:application_document_upload": Route(
        api("applications:write", owned=True),
        "POST",
        lambda w: {**_api_app(w), "document_id": "photo"},
        APP,
        data={},
    ),
    "api_v1:application_requirements": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    "api_v1:application_submit": Route(
        api("applications:write", owned=True),
        "POST",
        _api_app,
        APP,
        data={"declaration": True},
        json=True,
        headers={"Idempotency-Key": "matrix-submit-0001"},
    ),
    "api_v1:application_history": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    "api_v1:application_withdraw": Route(
        api("applications:write", owned=True), "POST", _api_app, APP, data={}, json=True
    ),
    "api_v1:application_messages": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    "api_v1:application_message_send": Route(
        api("messages:write", owned=True), "POST", _api_app, APP, data={"body": ""}, json=True
    ),
    # The street light report has no repeating group: the owner gets a typed 404 (page_not_found), which the
    # rule records as a refusal the owner may see; every other actor gets exactly the made-up id's answer.
    "api_v1:application_group_items": Route(OWNER_SEES_READ, kwargs=_api_group, owned_kwarg=APP),
    "api_v1:application_group_item_add": Route(
        OWNER_SEES_WRITE, "POST", _api_group, APP, data={"answers": {}}, json=True
    ),
    "api_v1:application_group_item_change": Route(
        OWNER_SEES_WRITE, "PUT", lambda w: {**_api_group(w), "item_id": "item-1"}, APP, data={"answers": {}}, json=True
    ),
    "api_v1:application_group_item_remove": Route(
        OWNER_SEES_WRITE, "DELETE", lambda w: {**_api_group(w), "item_id": "item-1"}, APP
    ),
    # Deleting the draft: the owner's write token only. Removing a document the draft does not have: the owner
    # gets a typed 404 (document_not_found) it may see; everyone else the made-up application's answer.
    "api_v1:application_delete": Route(api("applications:write", owned=True), "DELETE", _api_app, APP),
    "api_v1:application_document_remove": Route(
        OWNER_SEES_WRITE, "DELETE", lambda w: {**_api_app(w), "document_id": "photo"}, APP
    ),
    "api_v1:application_results": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    # A result of another application (citizen A's licence): nobody gets it through this application.
    "api_v1:application_result_pdf": Route(
        Rule("api applications:read", frozenset(), owned=True, sees=frozenset({"api:applications:read"})),
        kwargs=lambda w: {**_api_app(w), "result_id": w.result.id},
        owned_kwarg=APP,
    ),
    # The confirmation page's offers: the world's API application is a draft on its first page, so the owner gets
    # answers past the access check (409 feedback_not_open, 409 application_not_sent); others the made-up id's.
    "api_v1:application_satisfaction": Route(
        api("applications:write", owned=True), "POST", _api_app, APP, data={"rating": 5}, json=True
    ),
    "api_v1:application_answers_pdf": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    # Changes asked by staff: the API application was never sent back, so the owner gets an answer past the
    # access check (an empty list, a conflict); every other actor gets exactly the made-up id's answer.
    "api_v1:application_corrections": Route(api("applications:read", owned=True), kwargs=_api_app, owned_kwarg=APP),
    "api_v1:application_corrections_save": Route(
        CORRECTIONS_WRITE, "PATCH", _api_app, APP, data={"answers": {}}, json=True
    ),
    "api_v1:application_corrections_document": Route(
        CORRECTIONS_WRITE, "POST", lambda w: {**_api_app(w), "document_id": "photo"}, APP, data={}
    ),
    "api_v1:application_resubmit": Route(
        CORRECTIONS_WRITE,
        "POST",
        _api_app,
        APP,
        data={"declaration": True},
        json=True,
        headers={"Idempotency-Key": "matrix-resubmit-0001"},
    ),
    # --- API v1 operator side (tokens acting as a staff member: casework's own checks) ----------------------
    "api_v1:task_list": Route(Rule("api operator", frozenset({"api:operator", "api:operator_stranger"}))),
    "api_v1:task_get": Route(OPERATOR_TASK, kwargs=_task, owned_kwarg="task_id"),
    "api_v1:task_assignees": Route(OPERATOR_TASK, kwargs=_task, owned_kwarg="task_id"),
    "api_v1:task_claim": Route(OPERATOR_TASK, "POST", _task, "task_id", data={}, json=True),  # 409: claimed
    "api_v1:task_release": Route(OPERATOR_TASK, "POST", _task, "task_id", data={"version": 99}, json=True),
    "api_v1:task_assign": Route(
        OPERATOR_TASK, "POST", _task, "task_id", data={"assignee_id": str(MISSING), "version": 99}, json=True
    ),
    "api_v1:task_processing_save": Route(
        OPERATOR_TASK, "PUT", _task, "task_id", data={"processing": {}, "version": 99}, json=True
    ),
    "api_v1:task_decide": Route(OPERATOR_TASK, "POST", _task, "task_id", data={"decision": "reject"}, json=True),
    "api_v1:task_message_send": Route(OPERATOR_TASK, "POST", _task, "task_id", data={"body": ""}, json=True),
    "api_v1:task_note_add": Route(OPERATOR_TASK, "POST", _task, "task_id", data={"body": ""}, json=True),
    # A document the world's file needs by upload: the officer, who holds the task, gets 422 counter_record_invalid.
    "api_v1:task_counter_record": Route(
        OPERATOR_TASK, "POST", _task, "task_id", data={"requirement": "photo"}, json=True
    ),
    # Team leaders only (403 not_team_leader for the officer and the stranger): no API actor of the world leads.
    "api_v1:tasks_reassign": Route(
        Rule("api team leader", frozenset()),
        "POST",
        data={"task_ids": [str(MISSING)], "assignee_id": None},
        json=True,
    ),
    # --- GovStack (Information-Mediator-Client identity) ---------------------------------------------------
    # The catalogue is public information; files need an identity and are the caller's own only.
    "govstack:service_list": Route(public()),
    "govstack:service_get": Route(public(), kwargs=_service),
    "govstack:service_eforms": Route(public(), kwargs=_service),
    "govstack:eform_get": Route(public(), kwargs=lambda _w: {"eform_id": "street-trading-licence"}),
    "govstack:application_list": Route(govstack(owned=False)),
    "govstack:application_get": Route(  # citizen A's file, made on the web: no client's
        Rule("govstack", frozenset(), owned=True), kwargs=lambda w: {"file_id": w.case_file.id}, owned_kwarg="file_id"
    ),
    "govstack:application_create": Route(govstack(owned=False), "POST", _service, data={}, json=True),
    "govstack:document_upload": Route(govstack(owned=False), "POST", data={}),
    "govstack:document_get": Route(  # citizen A's photo, uploaded on the web: no client's
        Rule("govstack", frozenset(), owned=True),
        kwargs=lambda w: {"document_id": w.document.id},
        owned_kwarg="document_id",
    ),
    "govstack:task_list": Route(Rule("govstack", frozenset({"govstack:owner"}))),
    "govstack:task_get": Route(
        Rule("govstack", frozenset({"govstack:owner"}), owned=True), kwargs=_task, owned_kwarg="task_id"
    ),
    # The task is claimed by the officer: the owner's operator account sees it but may not complete it.
    "govstack:task_complete": Route(
        Rule("govstack", frozenset(), owned=True, sees=frozenset({"govstack:owner"})),
        "POST",
        _task,
        "task_id",
        data={"decision": "approve"},
        json=True,
    ),
    "govstack:statistics": Route(public()),
    "govstack:statistics_versioned": Route(public()),
    # --- staff accounts --------------------------------------------------------------------------------------
    "accounts:staff_home": Route(staff()),
    "accounts:staff_sign_in": Route(public()),
    "accounts:staff_sign_in_code": Route(nobody_without_secret()),  # a step after the password: none pending
    "accounts:staff_enrol": Route(nobody_without_secret()),
    "accounts:staff_sign_out": Route(public(), "POST", data={}),
    "accounts:staff_signed_out": Route(public()),
    "accounts:staff_reauthenticate": Route(staff()),
    "accounts:staff_change_password": Route(staff()),
    "accounts:staff_suppliers": Route(staff("administrator", "stranger")),  # service owners and administrators
    "accounts:staff_set_password": Route(nobody_without_secret(), kwargs=_token),
    "accounts:staff_enrolment_link": Route(nobody_without_secret(), kwargs=_token),
    # --- citizen accounts ------------------------------------------------------------------------------------
    "accounts:citizen_sign_in": Route(public()),
    "accounts:citizen_check_email": Route(public()),
    "accounts:citizen_link": Route(nobody_without_secret(), kwargs=_token),
    "accounts:citizen_password_sign_in": Route(public()),
    "accounts:citizen_sign_out": Route(public(), "POST", data={}),
    "accounts:citizen_account": Route(citizen(owned=False)),
    "accounts:citizen_email_change": Route(citizen(owned=False)),
    "accounts:citizen_email_confirm": Route(nobody_without_secret(), kwargs=_token),
    "accounts:citizen_password": Route(citizen(owned=False)),
    "accounts:citizen_password_link": Route(citizen(owned=False), "POST", data={}),
    # --- casework (staff) ------------------------------------------------------------------------------------
    "casework:queue": Route(staff()),
    "casework:my_tasks": Route(staff()),
    "casework:team": Route(staff()),
    "casework:search": Route(staff()),
    # The world's task is claimed by the officer: a second claim is a 409 (allowed through, then refused by state).
    # A team leader sees the task but may not claim a role they lead without holding it (a 403 page: assign it).
    "casework:task_claim": Route(
        staff("officer", owned=True, sees=("team_leader",)), "POST", _task, "task_id", data={"version": "2"}
    ),
    "casework:task_release": Route(CASEWORK_FILE, "POST", _task, "task_id", data={"version": "2"}),
    # The assignee may hand their task on; the team leader may assign any task of the roles they lead.
    "casework:task_assign": Route(CASEWORK_FILE, "POST", _task, "task_id", data={"version": "2"}),
    # The decision form is for whoever may decide now: the officer holding the claimed task. The team leader sees the
    # task (the file page) but gets the 403 page saying it is not theirs, before filling anything in.
    "casework:decision": Route(
        staff("officer", owned=True, sees=("team_leader",)), kwargs=_task, owned_kwarg="task_id"
    ),
    # Finance staff and administrators of the service's owner see the file's fees and payments part (its refunds).
    "casework:file": Route(FILE_OR_FEES, kwargs=_file, owned_kwarg="file_id"),
    "casework:file_print": Route(FILE_OR_FEES, kwargs=_file, owned_kwarg="file_id"),
    "casework:message_send": Route(CASEWORK_FILE, "POST", _file, "file_id", data={"body": ""}),
    "casework:note_add": Route(CASEWORK_FILE, "POST", _file, "file_id", data={"body": ""}),
    "casework:counter": Route(CASEWORK_FILE, "POST", _file, "file_id", data={}),
    # The trading licence lets no role correct an answer; the result is of another application than this file.
    "casework:correction": Route(
        nobody(), kwargs=lambda w: {**_file(w), "field_id": "full_name"}, owned_kwarg="file_id"
    ),
    "casework:result_revoke": Route(
        nobody(),
        "POST",
        lambda w: {**_file(w), "result_id": w.result.id},
        "file_id",
        data={},
    ),
    "casework:assisted_start": Route(staff()),
    "casework:assisted_continue": Route(nobody(), kwargs=_draft, owned_kwarg=APP),  # a citizen's own draft
    # --- notifications, documents ------------------------------------------------------------------------
    "notifications:demo_mail": Route(public()),
    "notifications:notify_callback": Route(nobody_without_secret(), "POST", data={}, json=True),
    "documents:download": Route(
        # Staff read documents inside the file pages; the download URL refuses every staff member until casework
        # defines the rule (documents.policies.staff_may_view_document is a deny-all placeholder on purpose).
        Rule("document", frozenset({"citizen_a"}), owned=True),
        kwargs=lambda w: {"document_id": w.document.id},
        owned_kwarg="document_id",
    ),
    # --- journeys (citizen) ----------------------------------------------------------------------------------
    "journeys:service_list": Route(public()),
    "journeys:service_start": Route(public(), kwargs=_service),
    "journeys:application_new": Route(citizen(owned=False), kwargs=_service),  # the trading licence needs sign-in
    "journeys:resume": Route(nobody_without_secret(), kwargs=_token),
    "journeys:application_resume": Route(citizen(owned=True), kwargs=_draft, owned_kwarg=APP),
    "journeys:documents": Route(citizen(owned=True), kwargs=_draft, owned_kwarg=APP),
    "journeys:fees": Route(citizen(owned=True), kwargs=_draft, owned_kwarg=APP),
    "journeys:check_answers": Route(citizen(owned=True), kwargs=_draft, owned_kwarg=APP),
    "journeys:confirmation": Route(citizen(owned=True), kwargs=_paid, owned_kwarg=APP),
    "journeys:save_and_return": Route(citizen(owned=True), kwargs=_draft, owned_kwarg=APP),
    "journeys:question": Route(citizen(owned=True), kwargs=_draft_page, owned_kwarg=APP),
    "journeys:group_item_add": Route(citizen(owned=True), kwargs=_draft_group, owned_kwarg=APP),
    "journeys:group_item": Route(citizen(owned=True), kwargs=_draft_item, owned_kwarg=APP),
    "journeys:group_item_remove": Route(citizen(owned=True), kwargs=_draft_item, owned_kwarg=APP),
    "journeys:application_list": Route(citizen(owned=False)),
    "journeys:application_detail": Route(citizen(owned=True), kwargs=_paid, owned_kwarg=APP),
    "journeys:answers_pdf": Route(citizen(owned=True), kwargs=_paid, owned_kwarg=APP),
    "journeys:application_delete": Route(citizen(owned=True), kwargs=_draft, owned_kwarg=APP),
    "journeys:application_withdraw": Route(citizen(owned=True), kwargs=_paid, owned_kwarg=APP),
    "journeys:application_changes": Route(citizen(owned=True), kwargs=_paid, owned_kwarg=APP),
    "journeys:changes_page": Route(
        citizen(owned=True), kwargs=lambda w: {**_paid(w), "page_id": "age"}, owned_kwarg=APP
    ),
    "journeys:changes_upload": Route(
        citizen(owned=True),
        "POST",
        lambda w: {**_paid(w), "requirement_id": "public-liability-insurance"},
        APP,
        data={},
    ),
    "journeys:application_message": Route(citizen(owned=True), "POST", _paid, APP, data={"body": ""}),
    # --- results ---------------------------------------------------------------------------------------------
    "casework_results:verify": Route(public()),
    "casework_results:verify_code": Route(public(), kwargs=lambda _w: {"code": "NOT-A-CODE"}),
    "casework_results:download": Route(
        citizen(owned=True), kwargs=lambda w: {"result_id": w.result.id}, owned_kwarg="result_id"
    ),
    # --- payments --------------------------------------------------------------------------------------------
    "payments:start": Route(citizen(owned=True), kwargs=_awaiting, owned_kwarg=APP),
    "payments:return": Route(nobody_without_secret(), kwargs=_token),
    "payments:payment_detail": Route(citizen(owned=True), kwargs=_payment, owned_kwarg="payment_id"),
    "payments:receipt": Route(citizen(owned=True), kwargs=_payment, owned_kwarg="payment_id"),
    "payments:receipt_pdf": Route(citizen(owned=True), kwargs=_payment, owned_kwarg="payment_id"),
    "payments:sandbox_page": Route(public(), kwargs=lambda _w: {"provider_id": "made-up-provider-id"}),
    "payments:refund": Route(FINANCE, kwargs=_payment, owned_kwarg="payment_id"),
    "payments:reconciliation": Route(staff("finance", "administrator", "stranger")),
    "payments:govukpay_webhook": Route(nobody_without_secret(), "POST", data={}, json=True),
    # --- privacy ---------------------------------------------------------------------------------------------
    "privacy:application_access": Route(citizen(owned=True), kwargs=_paid, owned_kwarg=APP),
    "privacy:subject_access": Route(staff("dpo", "stranger")),
    "privacy:subject_access_request": Route(staff("dpo", owned=True), kwargs=_subject_access, owned_kwarg="request_id"),
    "privacy:subject_access_download": Route(
        staff("dpo", owned=True), kwargs=_subject_access, owned_kwarg="request_id"
    ),
    "privacy:dp_reports": Route(staff("dpo", "administrator", "stranger")),
    "privacy:dp_report": Route(staff("dpo", "administrator", owned=True), kwargs=_service, owned_kwarg="service_id"),
    "privacy:erasure": Route(staff("dpo", "stranger")),
    # --- site pages ------------------------------------------------------------------------------------------
    "home": Route(public()),
    "healthz": Route(public()),
    "readyz": Route(public()),
    "security_txt": Route(public()),
    "security_txt_legacy": Route(public()),
    "accessibility_statement": Route(public()),
    "privacy_notice": Route(public()),
    "cookies_page": Route(public()),
    "help_page": Route(public()),
    "language_switch": Route(public(), kwargs=lambda _w: {"code": "cy"}),
    "session_extend": Route(public(), "POST", data={}),
    "session_ended": Route(public()),
}
"""Every non-admin route. The Django admin's routes are checked by :data:`ADMIN_MODELS` and one rule."""

ADMIN_MODELS: frozenset[str] = frozenset(
    {
        "accounts.citizen",
        "accounts.institution",
        "accounts.user",
        "audit.auditchainhead",
        "audit.auditentry",
        "auth.group",
        "axes.accessattempt",
        "axes.accessfailurelog",
        "axes.accesslog",
        "catalogue.catalogueversion",
        "catalogue.service",
        "catalogue.serviceversion",
        "django_tasks_database.dbtaskresult",
        "documents.document",
        "otp_totp.totpdevice",
    }
)
"""Every model registered in the staff admin (``app_label.model``): each has its admin routes, all behind
:func:`admin_site` (``test_every_admin_route_refuses_non_administrators`` walks them)."""


WRITES_TOO: dict[str, Mapping[str, Any]] = {
    "accounts:staff_change_password": {"current_password": "x", "new_password": "y", "confirm_password": "y"},
    "accounts:citizen_email_change": {"email": "someone-else@example.org"},
    "accounts:citizen_password": {"password": "a long enough password 1"},
    "casework:decision": {"decision": "approve", "version": "2"},
    "casework:correction": {"reason": "matrix", "full_name": "Changed"},
    "casework:assisted_start": {"service_id": "street-trading-licence"},
    "journeys:question": {"date_of_birth-day": "1", "date_of_birth-month": "1", "date_of_birth-year": "1990"},
    "journeys:check_answers": {"declaration": "accepted"},
    "journeys:save_and_return": {"email": "someone-else@example.org"},
    "journeys:documents": {},
    "journeys:group_item_add": {},
    "journeys:group_item_remove": {},
    "journeys:application_delete": {},
    "journeys:application_withdraw": {"confirm": "yes"},
    "journeys:changes_page": {},
    "payments:start": {"when": "before_submission"},
    "payments:refund": {"amount": "1.00", "reason": "matrix"},
    "privacy:subject_access": {"email": "matrix-owner@example.org"},
    "privacy:erasure": {"email": "matrix-owner@example.org"},
}
"""Pages that also take a POST: each is posted as every actor the route's rule refuses, and must refuse it
(as the GET does) and change nothing. (A page shown but refusing the post is checked by the route's own tests.)"""
