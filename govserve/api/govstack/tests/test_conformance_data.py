"""``govserve govstack load-test-data`` and ``link-operator``: the data set loaded through the services, idempotently.

After a load, the GovStack reads answer with the data set's services,
application files and tasks in the specification's shapes, and the data
set's client can complete a task.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govserve.accounts.models import Institution
from govserve.api.govstack import conformance
from govserve.api.govstack.selectors import service_uuid
from govserve.api.govstack.tests.conftest import (
    IDENTITY,
    GovStackCaller,
    assert_conforms,
    body,
    conformance_data,
    govstack_client,
)
from govserve.api.govstack.tests.test_tasks import Calls
from govserve.api.models import ApiClient, ClientApplication
from govserve.audit.models import AuditEntry
from govserve.casework.models import Decision, Task, TaskStatus
from govserve.catalogue.models import Service, ServiceVersion
from govserve.journeys.models import Application, ApplicationStatus

API = "registration-bb-api.json"


def _load(*args: str) -> str:
    out = StringIO()
    call_command("govstack", "load-test-data", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(db: None) -> str:
    return _load()


def _names(items: list[dict[str, str]], key: str) -> set[str]:
    return {item[key] for item in items}


def test_loading_publishes_the_services_and_submits_the_files_and_tasks_through_the_services(loaded: str) -> None:
    data = conformance_data()
    names = _names(data["services"], "name") | _names(data["applications"], "serviceName")
    names |= _names(data["tasks"], "serviceName")
    slugs = {conformance.service_slug_for(name) for name in names}
    assert set(Service.objects.values_list("id", flat=True)) == slugs
    assert ServiceVersion.objects.filter(service_id__in=slugs, state="published").count() == len(slugs)
    made = len(data["applications"]) + len(data["tasks"])
    applications = Application.objects.all()
    assert applications.count() == made
    assert {application.status for application in applications} == {ApplicationStatus.SUBMITTED}
    assert {application.channel for application in applications} == {"api"}
    assert Task.objects.filter(status=TaskStatus.PENDING, role_id=conformance.ROLE).count() == made
    client = ApiClient.objects.get(govstack_identity=IDENTITY)
    assert ClientApplication.objects.filter(client=client).count() == made
    # Made by the services, audited as such: each submission by the client, each publication.
    assert AuditEntry.objects.filter(action="journeys.application.submitted").count() == made
    assert AuditEntry.objects.filter(action="govstack.testdata.loaded").count() == 1
    for item in data["applications"]:
        assert f"application file {item['fileId']}: application " in loaded
    summary = f"{len(slugs)} service version(s) published, {made} application(s) submitted, client registered"
    assert loaded.strip().endswith(summary)


def test_loading_twice_makes_nothing_new(loaded: str) -> None:
    counts = (
        Service.objects.count(),
        ServiceVersion.objects.count(),
        Application.objects.count(),
        Task.objects.count(),
    )
    again = _load()
    assert "(nothing new: already loaded)" in again
    assert "already registered as eGovStack/GOV/90000009/eregistrations-dev" in again
    after = (Service.objects.count(), ServiceVersion.objects.count(), Application.objects.count(), Task.objects.count())
    assert after == counts
    assert ApiClient.objects.count() == 1
    # The same data set ids point at the same govserve applications.
    first_ids = [line.split(": ", 1)[1] for line in loaded.splitlines() if line.startswith("application file")]
    second_ids = [line.split(": ", 1)[1] for line in again.splitlines() if line.startswith("application file")]
    assert first_ids == second_ids


def test_the_govstack_reads_answer_with_the_data_sets_services_in_the_specifications_shape(loaded: str) -> None:
    data = conformance_data()
    response = GovStackCaller(None).get("/services")
    services = body(response)
    assert_conforms(API, "/services", services)
    assert _names(data["services"], "name") <= _names(services, "name")
    for service in data["services"]:
        govstack_id = service_uuid(conformance.service_slug_for(service["name"]))
        one = body(GovStackCaller(None).get(f"/services/{govstack_id}"))
        assert_conforms(API, "/services/{serviceId}", one)
        assert one["name"] == service["name"]
        forms = body(GovStackCaller(None).get(f"/services/{govstack_id}/eForms"))
        assert_conforms(API, "/services/{serviceId}/eForms", forms)
        assert [form["name"] for form in forms] == [service["name"]]
        eform = body(GovStackCaller(None).get(f"/eForms/{forms[0]['eFormId']}"))
        assert set(eform["schema"]["properties"]) == {"applicant_reference", "description"}


def test_the_govstack_reads_answer_with_the_data_sets_files_and_tasks_in_the_specifications_shape(
    loaded: str,
) -> None:
    data = conformance_data()
    caller = GovStackCaller(IDENTITY)
    files = body(caller.get("/applications?maxResult=100"))
    assert_conforms(API, "/applications", files)
    assert len(files) == len(data["applications"]) + len(data["tasks"])
    post_partum = [item for item in files if item["serviceName"] == "Post partum registration service"]
    assert len(post_partum) >= len(data["applications"])
    assert {item["status"]["code"] for item in files} == {"PENDING"}
    descriptions = []
    for item in files:
        one = body(caller.get(f"/applications/{item['fileId']}"))
        assert_conforms(API, "/applications/{fileId}", one)
        descriptions.append(one["applicationData"]["formData"]["data"][conformance.FORM_PAGE]["description"])
    wanted = [item["description"] for item in [*data["applications"], *data["tasks"]]]
    assert sorted(descriptions) == sorted(wanted)
    tasks = body(Calls().get("/tasks?maxResult=100"))
    assert_conforms(API, "/tasks", tasks)
    assert len(tasks) == len(data["applications"]) + len(data["tasks"])
    assert {task["name"] for task in tasks} == {"Registrar"}
    task = body(Calls().get(f"/tasks/{tasks[0]['taskId']}"))
    assert_conforms(API, "/tasks/{taskId}", task)


def test_a_files_main_task_id_and_role_are_those_of_its_task(loaded: str) -> None:
    files = body(GovStackCaller(IDENTITY).get("/applications?maxResult=100"))
    for item in files:
        tasks = body(Calls().get(f"/tasks?fileId={item['fileId']}"))
        assert len(tasks) == 1
        assert tasks[0]["mainTaskId"] == item["mainTaskId"]
        assert body(Calls().get(f"/tasks?mainTaskId={item['mainTaskId']}")) == tasks
        assert (tasks[0]["roleId"], tasks[0]["name"]) == (item["roleId"], item["taskTitle"])


def test_the_data_sets_client_completes_a_loaded_task(loaded: str) -> None:
    task = body(Calls().get("/tasks?maxResult=1"))[0]
    response = Calls().complete(task["taskId"], {"decision": "approve"})
    assert response.status_code == 200, response.content
    assert body(response)["status"]["code"] == "APPROVED"
    assert Decision.objects.get(task_id=task["taskId"]).decision == "approve"
    assert Application.objects.get(pk=task["fileId"]).status == ApplicationStatus.APPROVED
    again = _load()
    assert "(decided)" in again
    assert "(nothing new: already loaded)" in again


def test_a_file_that_is_not_the_data_set_is_refused_and_nothing_is_made(db: None, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"services": []}), encoding="utf-8")
    with pytest.raises(CommandError, match="not the conformance data set"):
        _load("--file", str(wrong))
    with pytest.raises(CommandError, match="Cannot read"):
        _load("--file", str(tmp_path / "missing.json"))
    assert not Service.objects.exists()
    assert not ApiClient.objects.exists()


def test_link_operator_gives_a_client_its_roles(db: None) -> None:
    Institution.objects.create(code="civil-registry", name="Civil Registration Office")
    client = govstack_client("eGovStack/GOV/3/back-office", scopes=("govstack", "tasks:read"))
    out = StringIO()
    call_command("govstack", "link-operator", client.name, "--role", "civil-registry/registrar", stdout=out)
    assert out.getvalue().strip() == (
        f"Client {client.name} works on tasks as govstack-{client.name}; granted: civil-registry/registrar"
    )
    out = StringIO()
    call_command("govstack", "link-operator", client.name, "--role", "civil-registry/registrar", stdout=out)
    assert "nothing new" in out.getvalue()
    with pytest.raises(CommandError, match="INSTITUTION/ROLE"):
        call_command("govstack", "link-operator", client.name, "--role", "registrar")
    with pytest.raises(CommandError, match="no API client named nobody"):
        call_command("govstack", "link-operator", "nobody", "--role", "civil-registry/registrar")
    with pytest.raises(CommandError, match="no institution"):
        call_command("govstack", "link-operator", client.name, "--role", "nowhere/registrar")
