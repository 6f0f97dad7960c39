"""Load the GovStack conformance data set (``registration-bb-test-data.json``) through govserve's normal services.

Nothing is copied from the file into tables: each service of the data set
becomes a real service definition, published with
``catalogue.services.definition_publish``; each application file and each
task becomes an application started, answered and submitted by the data
set's client through the journeys' services (as API v1 does: channel
``api``, the client as the applicant), which opens its case file and its
first task in casework, as for any submission. The client's identity (the
``Information-Mediator-Client`` header of the data set) is registered as an
API client with the scopes the operations need, and linked to an operator
account holding the data set's role (Registrar) in the institution
:data:`INSTITUTION`, so it can read and complete the tasks.

The ids are govserve's own (GovStack ids of services are the UUID 5 of
their slug, files and tasks are new UUIDs): the loader reports which
govserve id each id of the data set became.

Idempotent: a service whose definition is unchanged is not published
again, and every application is made with a submission key
(``conformance:<kind>:<id in the data set>``) recorded for the client, so
a second run finds it and makes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from govserve.accounts.models import Institution
from govserve.api.govstack.operators import DECIDE_SCOPE, READ_SCOPE, operator_link
from govserve.api.govstack.selectors import service_uuid
from govserve.api.models import ApiClient, ApiToken, SubmissionKey
from govserve.api.services import api_client_create, api_token_issue, client_application_record, submission_key_record
from govserve.api.v1.auth import ClientApplicant
from govserve.audit.actors import Actor
from govserve.audit.events import register_event
from govserve.audit.services import audit_record
from govserve.casework.models import OPEN_TASK_STATUSES, Task
from govserve.catalogue.errors import VersionUnchangedError
from govserve.catalogue.services import DefinitionSource, definition_publish
from govserve.core import clock
from govserve.core.errors import ApplicationError
from govserve.journeys import services as journeys
from govserve.journeys.models import Channel

DATA_FILE = Path(__file__).resolve().parent / "specification" / "registration-bb-test-data.json"
INSTITUTION = "govstack-conformance"
INSTITUTION_NAME = "GovStack conformance test data"
ROLE = "registrar"
SCOPES = ("govstack", READ_SCOPE, DECIDE_SCOPE, "applications:read", "applications:write")
CONTACT_EMAIL = "govstack-conformance@example.org"
FORM_PAGE = "form"
SLUG_PREFIX = "govstack-"
LANGUAGE = "en"

register_event(
    "govstack.testdata.loaded",
    description=(
        "govserve govstack load-test-data loaded the GovStack conformance data set; details: what it published "
        "and made (counts), and the client identity it registered."
    ),
)


class ConformanceDataInvalidError(ApplicationError):
    """The data set file is not the conformance data set's shape."""

    code = "conformance_data_invalid"


@dataclass
class LoadReport:
    """What a load did: one line per thing, and the counts of what it made."""

    lines: list[str] = field(default_factory=list)
    services_published: int = 0
    applications_made: int = 0
    client_created: bool = False
    ids: dict[str, str] = field(default_factory=dict)
    """The data set's application and task ids, and the govserve id each became."""

    def say(self, line: str) -> None:
        self.lines.append(line)


def data_load(path: Path = DATA_FILE) -> dict[str, Any]:
    """Read the data set; raise ConformanceDataInvalidError when it is not JSON with its four members."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConformanceDataInvalidError(f"Cannot read the conformance data set {path}: {error}") from error
    members = ("informationMediatorClientHeader", "services", "applications", "tasks")
    if not isinstance(data, dict) or any(member not in data for member in members):
        raise ConformanceDataInvalidError(f"{path} is not the conformance data set (members {', '.join(members)})")
    return data


def service_slug_for(name: str) -> str:
    """Return the govserve id of the data set's service ``name`` (``govstack-`` and the name as a slug)."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "service"
    return f"{SLUG_PREFIX}{words}"[:64].rstrip("-")


def definition_text(*, slug: str, name: str, version: str, form_name: str) -> str:
    """Return the service definition (YAML) of a data set service: one form page and a Registrar who decides."""
    definition = {
        "schema_version": 1,
        "id": slug,
        "title": name,
        "summary": f"{name}: a service of the GovStack conformance data set (its version {version}).",
        "institution": INSTITUTION,
        "sign_in": "anonymous",
        "retention": "P1Y",
        "start_page": {"body": f"Use this service to apply for {name} (GovStack conformance test data)."},
        "pages": [
            {
                "id": FORM_PAGE,
                "title": form_name,
                "fields": [
                    {
                        "id": "applicant_reference",
                        "type": "text",
                        "label": "Applicant reference",
                        "classification": "personal",
                    },
                    {
                        "id": "description",
                        "type": "long_text",
                        "label": "Description",
                        "classification": "public",
                        "validation": {"required": False},
                    },
                ],
            }
        ],
        "registrations": [{"id": "registration", "name": name, "institution": INSTITUTION}],
        "flow": {
            "roles": [
                {
                    "id": ROLE,
                    "name": "Registrar",
                    "institution": INSTITUTION,
                    "decisions": {"approve": "end", "reject": "end", "send_back": "applicant"},
                }
            ]
        },
    }
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True)


def _services(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Return the services to publish by name: the data set's, then any only its files or tasks name."""
    found: dict[str, dict[str, str]] = {}
    for service in data["services"]:
        forms = service.get("eForms") or [{}]
        found.setdefault(
            str(service["name"]),
            {"version": str(service.get("version", "1")), "form": str(forms[0].get("name") or "Form")},
        )
    for item in [*data["applications"], *data["tasks"]]:
        found.setdefault(str(item["serviceName"]), {"version": "1", "form": "Form"})
    return found


def _publish(report: LoadReport, name: str, details: Mapping[str, str]) -> str:
    slug = service_slug_for(name)
    text = definition_text(slug=slug, name=name, version=details["version"], form_name=details["form"])
    try:
        outcome = definition_publish(
            source=DefinitionSource(name=f"{slug}.yaml", text=text), actor=None, reason="GovStack conformance data"
        )
    except VersionUnchangedError:
        report.say(f"service {slug} ({name}): unchanged, id {service_uuid(slug)}")
        return slug
    version = outcome.service_version
    assert version is not None  # noqa: S101 - a service definition publishes a version
    report.services_published += 1
    report.say(f"service {slug} ({name}): published version {version.number}, id {service_uuid(slug)}")
    return slug


def _client(report: LoadReport, identity: str, actor: Actor) -> ApiClient:
    client = ApiClient.objects.filter(govstack_identity=identity).first()
    if client is None:
        name = "govstack-" + re.sub(r"[^a-z0-9]+", "-", identity.rsplit("/", 1)[-1].lower()).strip("-")
        client = api_client_create(name=name[:100], description=f"GovStack conformance client {identity}", actor=actor)
        ApiClient.objects.filter(pk=client.pk).update(govstack_identity=identity)
        client.refresh_from_db()
        report.client_created = True
        report.say(f"client {client.name}: registered as {identity}")
    else:
        report.say(f"client {client.name}: already registered as {identity}")
    tokens = ApiToken.objects.filter(client=client, revoked_at__isnull=True, expires_at__gt=clock.now())
    held = {scope for scopes in tokens.values_list("scopes", flat=True) for scope in scopes}
    missing = [scope for scope in SCOPES if scope not in held]
    if missing:
        issued = api_token_issue(client=client, scopes=SCOPES, actor=actor)
        report.say(
            f"client {client.name}: token {issued.token.prefix} with {', '.join(SCOPES)} "
            "(GovStack callers are known by their X-Road header; the token text is not shown)"
        )
    _user, granted = operator_link(client=client, roles=[(INSTITUTION, ROLE)], actor=actor)
    if granted:
        report.say(f"client {client.name}: works on tasks as {', '.join(granted)}")
    return client


def _application(
    report: LoadReport, client: ApiClient, *, key: str, slug: str, reference: str, description: str
) -> str:
    """Start, answer and submit one application as the client (once per ``key``); return its id."""
    existing = SubmissionKey.objects.filter(client=client, key=key).values_list("application_id", flat=True).first()
    if existing is not None:
        return str(existing)
    answers = {"applicant_reference": [reference[:100]], "description": [description[:1000]]}
    digest = hashlib.sha256(json.dumps([slug, answers], sort_keys=True).encode()).hexdigest()
    with transaction.atomic():
        started = journeys.application_start(
            service_id=slug,
            applicant=ClientApplicant(client_id=client.id),
            language=LANGUAGE,
            channel=Channel.API,
            contact_email=CONTACT_EMAIL,
        )
        application_id = started.application.id
        client_application_record(client=client, application_id=application_id)
        applicant = ClientApplicant(granted=frozenset({application_id}), client_id=client.id)
        journeys.page_answers_save(
            application_id=application_id, applicant=applicant, page_id=FORM_PAGE, data=answers, language=LANGUAGE
        )
        journeys.application_submit(
            application_id=application_id,
            applicant=applicant,
            idempotency_key="conformance-" + hashlib.sha256(key.encode()).hexdigest()[:40],
            declaration_accepted=True,
            language=LANGUAGE,
        )
        submission_key_record(client=client, key=key, request_digest=digest, application_id=application_id)
    report.applications_made += 1
    return str(application_id)


def _open_task(application_id: str) -> str:
    task_id = (
        Task.objects.filter(application_id=application_id, status__in=OPEN_TASK_STATUSES)
        .values_list("id", flat=True)
        .first()
    )
    return str(task_id) if task_id is not None else "(decided)"


def _items(data: Mapping[str, Any], name: str, id_key: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for item in data[name]:
        if not isinstance(item, Mapping) or not item.get(id_key) or not item.get("serviceName"):
            raise ConformanceDataInvalidError(f"every member of {name} needs {id_key} and serviceName")
        yield str(item[id_key]), item


def conformance_data_load(*, path: Path = DATA_FILE, actor: Actor | None = None) -> LoadReport:
    """Load the conformance data set at ``path`` (module docstring); return what it did.

    Raise ConformanceDataInvalidError (not the data set), and the typed errors of
    the services it calls (a definition refused, an application refused).
    Audited as ``govstack.testdata.loaded`` (besides each service's own audit).
    """
    actor = actor or Actor.system("cli")
    data = data_load(path)
    identity = str((data["informationMediatorClientHeader"] or {}).get("value") or "")
    if identity.count("/") != 3:
        raise ConformanceDataInvalidError(
            "informationMediatorClientHeader.value is not INSTANCE/CLASS/MEMBER/SUBSYSTEM"
        )
    report = LoadReport()
    Institution.objects.get_or_create(code=INSTITUTION, defaults={"name": INSTITUTION_NAME})
    slugs = {name: _publish(report, name, details) for name, details in _services(data).items()}
    client = _client(report, identity, actor)
    for file_id, item in _items(data, "applications", "fileId"):
        application_id = _application(
            report,
            client,
            key=f"conformance:application:{file_id}",
            slug=slugs[str(item["serviceName"])],
            reference=str(item.get("applicantId") or file_id),
            description=str(item.get("description") or ""),
        )
        report.ids[file_id] = application_id
        report.say(f"application file {file_id}: application {application_id}, task {_open_task(application_id)}")
    for task_id, item in _items(data, "tasks", "taskId"):
        application_id = _application(
            report,
            client,
            key=f"conformance:task:{task_id}",
            slug=slugs[str(item["serviceName"])],
            reference=str(item.get("fileId") or task_id),
            description=str(item.get("description") or ""),
        )
        made = _open_task(application_id)
        report.ids[task_id] = made
        report.say(f"task {task_id}: task {made} of application {application_id}")
    audit_record(
        actor=actor,
        action="govstack.testdata.loaded",
        subject_type="api.client",
        subject_id=client.id,
        details={
            "client": identity,
            "services_published": report.services_published,
            "applications_made": report.applications_made,
        },
    )
    return report
