"""The authorisation matrix's world: one of everything a route can be asked about, built once per module.

Citizen A owns a draft, a sent application waiting for its fee (with a
payment attempt), a paid application with its case file and open task at
``city-council``'s licensing officer, an approved application with an issued
result, and a document. Citizen B owns nothing of that. Staff hold each role
of ``city-council``; a stranger holds the same roles in ``other-council``.
The API client ``owner`` made an application through the API and holds one
token per scope; ``other-client`` holds every scope but owns nothing. The
owner is also the GovStack client (identity :data:`GOVSTACK_IDENTITY`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts import signin
from govserve.accounts.models import Citizen, Institution, RoleAssignment, User
from govserve.accounts.services import staff_invite
from govserve.accounts.tests.factories import device_create
from govserve.api.govstack.operators import operator_link
from govserve.api.models import SCOPES, ApiClient
from govserve.api.services import api_client_create, api_operator_token_issue, api_token_issue
from govserve.audit.actors import Actor
from govserve.casework import services as casework_services
from govserve.casework.models import CaseFile, Task, TaskStatus
from govserve.casework.results import services as results_services
from govserve.casework.results.models import IssuedResult
from govserve.casework.results.tests.support import approved_trading
from govserve.documents.models import Document
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.resubmission import application_status_record
from govserve.journeys.tests.support import STREET_TRADING, applicant, citizen_new, examples_publish
from govserve.journeys.tests.test_services import fill_trading, start, submit, upload_required
from govserve.payments.models import Payment
from govserve.payments.services import payment_refresh, payment_start
from govserve.payments.tests.support import pay_in_sandbox
from govserve.privacy.jobs import subject_access_prepare
from govserve.privacy.models import SubjectAccessRequest
from govserve.privacy.subject_access_requests import subject_access_request_create

OPERATOR = Actor.system("cli")
INSTITUTION = "city-council"
OTHER_INSTITUTION = "other-council"
GOVSTACK_IDENTITY = "eGovStack/GOV/90000009/matrix-owner"
GOVSTACK_OTHER_IDENTITY = "eGovStack/GOV/90000010/matrix-other"
PHOTO_SLOT = "field:photo"
"""The document the licensing officer's role ``sees`` (the insurance certificate is not among them)."""
MISSING = uuid.UUID("00000000-0000-4000-8000-00000000dead")
"""A fixed id that names nothing (parametrize ids stay deterministic)."""

SUPPLIER_ACTORS = ("supplier", "supplier_expired")
"""Supplier accounts of ``city-council``: ``supplier`` holds the officer's and administrator's roles but is
limited to the newborn registration (not the world's service); ``supplier_expired`` holds them for every
service but its access ended an hour ago."""

STAFF_ROLES: dict[str, tuple[str, ...]] = {
    "officer": ("licensing-officer",),
    "manager": ("licensing-manager",),
    "team_leader": ("team-leader",),
    "administrator": ("administrator",),
    "analyst": ("analyst",),
    "reviewer": ("reviewer",),
    "auditor": ("auditor",),
    "finance": ("finance",),
    "dpo": ("data-protection-officer",),
}
"""The staff actors of ``city-council`` and the roles each holds."""

STRANGER_ROLES = (
    "licensing-officer",
    "licensing-manager",
    "team-leader",
    "administrator",
    "finance",
    "auditor",
    "data-protection-officer",
)
"""``other-council`` staff: every role, in the wrong institution."""


@dataclass
class World:
    """Ids of the resources and the credentials of every actor."""

    citizen_a: Citizen
    citizen_b: Citizen
    draft: Application
    awaiting: Application
    paid: Application
    approved: Application
    case_file: CaseFile
    task: Task
    payment: Payment
    result: IssuedResult
    document: Document
    api_application: Application
    staff: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    owner_client: ApiClient | None = None
    subject_access: SubjectAccessRequest | None = None
    """The data protection officer's subject access request about citizen A, prepared (its zip ready)."""
    secrets: list[str] = field(default_factory=list)
    """Texts that must never appear in a denial (references, email addresses, names)."""


def _staff(name: str, institution: str, roles: tuple[str, ...]) -> User:
    user = User.objects.create(username=name, first_name=name.replace("_", " ").title(), is_active=True)
    user.set_unusable_password()
    user.save()
    for role in roles:
        RoleAssignment.objects.create(user=user, institution=Institution.objects.get(code=institution), role=role)
    device_create(user=user)
    return user


def _supplier(name: str, roles: tuple[str, ...], *, services: tuple[str, ...] = ()) -> User:
    """A supplier account of ``city-council`` holding ``roles``, limited to ``services`` (none: every service)."""
    staff_invite(
        actor=OPERATOR,
        username=name,
        first_name="Supplier",
        roles=[(INSTITUTION, role) for role in roles],
        is_supplier=True,
        access_expires_at=timezone.now() + dt.timedelta(days=7),
        supplier_company="Acme Digital",
        supplier_services=services,
    )
    user = User.objects.get(username=name)
    device_create(user=user)
    return user


def _paid(person: Any) -> Application:
    application = start(STREET_TRADING, person)
    fill_trading(application, person)
    upload_required(application, person, "public-liability-insurance")
    sent = submit(application, person, key=f"matrix-paid-{application.id}").application
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=sent.pk)
        application_status_record(locked, to_status=ApplicationStatus.SUBMITTED, actor_kind="system")
        casework_services.file_open(locked)
    sent.refresh_from_db()
    return sent


def _awaiting(person: Any) -> Application:
    application = start(STREET_TRADING, person)
    fill_trading(application, person)
    upload_required(application, person, "public-liability-insurance")
    sent = submit(application, person, key=f"matrix-awaiting-{application.id}").application
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT
    return sent


def world_build() -> World:
    """Create the world (inside the caller's transaction)."""
    examples_publish()
    Institution.objects.create(code=OTHER_INSTITUTION, name="Other Council")
    citizen_a = citizen_new("matrix-owner@example.org")
    citizen_b = citizen_new("matrix-other@example.org")
    person_a = applicant(citizen_a)
    draft = start(STREET_TRADING, person_a)
    awaiting = _awaiting(person_a)
    payment = payment_start(application_id=awaiting.id, applicant=person_a, language="en")
    paid = _paid(person_a)
    approved = approved_trading(who=person_a, full_name="Ada Matrix")
    result = results_services.results_issue(approved, actor=Actor.system("test-officer"))[0]
    pay_in_sandbox(payment)
    payment = payment_refresh(payment_id=payment.id)
    assert payment.succeeded, payment.state
    case_file = CaseFile.objects.get(application=paid)
    documents = Document.objects.filter(owner=f"application:{paid.id}", removed_at__isnull=True)
    document = documents.filter(slot=PHOTO_SLOT).first()
    assert document is not None, list(documents.values_list("slot", flat=True))

    staff = {name: _staff(name, INSTITUTION, roles) for name, roles in STAFF_ROLES.items()}
    staff["stranger"] = _staff("stranger", OTHER_INSTITUTION, STRANGER_ROLES)
    staff["supplier"] = _supplier("supplier", ("licensing-officer", "administrator"), services=("register-newborn",))
    staff["supplier_expired"] = _supplier("supplier_expired", ("licensing-officer", "administrator", "finance"))
    User.objects.filter(pk=staff["supplier_expired"].pk).update(
        access_expires_at=timezone.now() - dt.timedelta(hours=1)
    )
    staff["supplier_expired"].refresh_from_db()
    # The officer works on the file: its task is claimed, so release, decide and assign have something to act on.
    pending = Task.objects.get(case_file=case_file, status=TaskStatus.PENDING)
    task = casework_services.task_claim(user=staff["officer"], task_id=pending.id, version=pending.version)

    # The officer asked for everything city-council holds about citizen A; the job prepared it (run directly).
    subject_access = subject_access_request_create(
        user=staff["dpo"], email="matrix-owner@example.org", institutions=[INSTITUTION], language="en"
    )
    subject_access_prepare(request_id=str(subject_access.id))
    subject_access.refresh_from_db()

    owner = api_client_create(name="matrix-owner", actor=OPERATOR, rate_limit_per_minute=100_000)
    other = api_client_create(name="matrix-other", actor=OPERATOR, rate_limit_per_minute=100_000)
    ApiClient.objects.filter(pk=owner.pk).update(govstack_identity=GOVSTACK_IDENTITY)
    ApiClient.objects.filter(pk=other.pk).update(govstack_identity=GOVSTACK_OTHER_IDENTITY)
    tokens = {f"api:{scope}": api_token_issue(client=owner, scopes=[scope], actor=OPERATOR).text for scope in SCOPES}
    tokens["api:other"] = api_token_issue(client=other, scopes=SCOPES, actor=OPERATOR).text
    # Operator tokens act as a staff member: the officer (who holds the world's task) and the stranger.
    tokens["api:operator"] = api_operator_token_issue(user=staff["officer"], actor=OPERATOR).text
    tokens["api:operator_stranger"] = api_operator_token_issue(user=staff["stranger"], actor=OPERATOR).text
    # The owner client works on GovStack tasks as an operator account holding the officer's role.
    operator_link(client=owner, roles=[(INSTITUTION, "licensing-officer")], actor=OPERATOR)
    everything = api_token_issue(client=owner, scopes=SCOPES, actor=OPERATOR).text
    created = Client().post(
        "/api/v1/applications",
        data=json.dumps({"service_id": "report-street-light", "contact_email": "matrix-api@example.org"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {everything}",
    )
    assert created.status_code == 201, created.content
    api_application = Application.objects.get(pk=json.loads(created.content)["id"])

    world = World(
        citizen_a=citizen_a,
        citizen_b=citizen_b,
        draft=draft,
        awaiting=awaiting,
        paid=paid,
        approved=approved,
        case_file=case_file,
        task=task,
        payment=payment,
        result=result,
        document=document,
        api_application=api_application,
        staff=staff,
        tokens=tokens,
        owner_client=owner,
        subject_access=subject_access,
    )
    world.secrets = [
        "matrix-owner@example.org",
        "Ada Lovelace",
        "Ada Matrix",
        *(a.reference for a in (awaiting, paid, approved, api_application) if a.reference),
    ]
    return world


def staff_client(user: User) -> Client:
    """Return a client with a signed-in, OTP-verified staff session of ``user`` (as sign-in leaves it)."""
    client = Client()
    session = client.session
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    device = TOTPDevice.objects.get(user=user)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    holder: Any = type("Holder", (), {"session": session})()
    signin.stamp(holder, signin.KIND_STAFF)
    session.save()
    return client


def citizen_client(citizen: Citizen) -> Client:
    """Return a client with a signed-in session of ``citizen`` (as the emailed link leaves it)."""
    client = Client()
    session = client.session
    session[signin.CITIZEN_ID] = str(citizen.id)
    holder: Any = type("Holder", (), {"session": session})()
    signin.stamp(holder, signin.KIND_CITIZEN)
    session.save()
    return client
