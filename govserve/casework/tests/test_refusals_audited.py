"""ASVS 16.3.2: a signed-in staff member refused a staff page or action is audited, with who asked.

``govserve.accounts.refusals.StaffRefusalAuditMiddleware`` writes
``accounts.staff.access_refused`` (outcome denied) for a staff request under
/staff/ that ends 403 or 404; these tests drive the real workspace pages.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import Client

from govserve.accounts.models import Institution, User
from govserve.audit.models import AuditEntry, Outcome
from govserve.casework.models import TaskStatus
from govserve.casework.tests.support import file_of, open_task, trading_paid
from govserve.casework.tests.test_views import OFFICER_ROLE, person, signed_in
from govserve.core import clock
from govserve.journeys.models import Application

pytestmark = pytest.mark.usefixtures("examples")

ACTION = "accounts.staff.access_refused"


@pytest.fixture
def paid() -> Application:
    application, _who = trading_paid()
    return application


@pytest.fixture
def other_council() -> Institution:
    return Institution.objects.create(code="other-council", name="Other Council")


def refusals() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=ACTION).order_by("id"))


def test_another_institutions_file_is_a_404_audited_with_who_asked(
    paid: Application, other_council: Institution
) -> None:
    stranger = person(("other-council", "licensing-officer"), name="stranger")
    client = signed_in(stranger)
    file_id = file_of(paid).id

    response = client.get(f"/staff/files/{file_id}/?q=someone%40example.org")

    assert response.status_code == 404
    [entry] = refusals()
    assert entry.outcome == Outcome.DENIED
    assert entry.actor_kind == "user"
    assert entry.actor_id == str(stranger.pk)
    assert entry.actor_is_supplier is False
    assert entry.subject_type == "staff_page"
    assert entry.subject_id == "casework:file"
    assert entry.details == {
        "method": "GET",
        "route": "staff/files/<uuid:file_id>/",
        "status": 404,
        "ids": {"file_id": str(file_id)},
        "reason": "not_found",
    }
    assert "example.org" not in str(entry.details)  # never the query string
    assert entry.request_id  # ties the entry to the access log line


def test_an_unknown_file_is_audited_the_same_way(paid: Application) -> None:
    client = signed_in(person(OFFICER_ROLE, name="olive"))
    made_up = uuid.uuid4()

    response = client.get(f"/staff/files/{made_up}/print")

    assert response.status_code == 404
    [entry] = refusals()
    assert entry.details["ids"] == {"file_id": str(made_up)}
    assert entry.details["route"] == "staff/files/<uuid:file_id>/print"


def test_a_supplier_refused_is_marked_as_supplier(paid: Application, other_council: Institution) -> None:
    supplier = person(("other-council", "licensing-officer"), name="sid")
    # A supplier whose scope names no institution: signed in, but reaches nothing (fail closed).
    User.objects.filter(pk=supplier.pk).update(is_supplier=True, access_expires_at=clock.now() + dt.timedelta(days=7))
    client = signed_in(supplier)

    assert client.get(f"/staff/files/{file_of(paid).id}/").status_code == 404

    [entry] = refusals()
    assert entry.actor_is_supplier is True


def test_a_403_refusal_page_is_audited_with_its_reason_and_survives_the_refusal(paid: Application) -> None:
    officer = person(OFFICER_ROLE, name="olive")
    colleague = person(OFFICER_ROLE, name="colin")
    client = signed_in(officer)
    task = open_task(paid)
    client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version, "next": "/staff/my-tasks/"})
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED
    other = signed_in(colleague)

    response = other.post_crafted(
        f"/staff/tasks/{task.id}/decision", {"decision": "approve", "pitch_inspected": "yes", "version": task.version}
    )

    assert response.status_code == 403
    [entry] = refusals()
    assert entry.actor_id == str(colleague.pk)
    assert entry.details["method"] == "POST"
    assert entry.details["status"] == 403
    assert entry.details["ids"] == {"task_id": str(task.id)}
    assert "approve" not in str(entry.details)  # never a form value


def test_a_page_that_exists_and_is_allowed_writes_no_refusal(paid: Application) -> None:
    client = signed_in(person(OFFICER_ROLE, name="olive"))

    assert client.get("/staff/queues/").status_code == 200
    assert client.get(f"/staff/files/{file_of(paid).id}/").status_code == 200

    assert refusals() == []


def test_an_anonymous_visitor_is_never_audited_as_refused(paid: Application) -> None:
    anonymous = Client()

    assert anonymous.get(f"/staff/no-such-page-{uuid.uuid4()}").status_code == 404
    assert anonymous.get(f"/staff/files/{file_of(paid).id}/").status_code == 302

    assert refusals() == []


def test_the_privacy_staff_pages_refusals_are_audited(paid: Application) -> None:
    client = signed_in(person(OFFICER_ROLE, name="olive"))  # not a data protection officer

    assert client.get("/staff/privacy/services/street-trading/").status_code == 404

    [entry] = refusals()
    assert entry.subject_id == "privacy:dp_report"
    assert entry.details["ids"] == {"service_id": "street-trading"}


def test_an_unknown_staff_address_is_audited_without_a_route() -> None:
    client = signed_in(person(OFFICER_ROLE, name="olive"))

    assert client.get("/staff/files/not-an-id/").status_code == 404

    [entry] = refusals()
    assert entry.subject_id == ""
    assert entry.details["route"] == ""
    assert entry.details["ids"] == {}
