"""Two submissions of one application at the same moment: exactly one sends it (PostgreSQL row locks).

SQLite runs every write transaction IMMEDIATE (config/settings/base.py), so two
writers never interleave there: the second waits for the first and then sees
the application sent, which the ordinary service tests cover.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from govserve.audit.models import AuditEntry
from govserve.journeys import errors, services
from govserve.journeys.models import Application, ApplicationEvent, ApplicationStatus
from govserve.journeys.tests.support import NEWBORN, applicant, citizen_new, examples_publish
from govserve.journeys.tests.test_services import fill_newborn, start, upload_required
from govserve.notifications.models import OutboundEmail

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(application: Application, who: Any, keys: list[str]) -> list[Any]:
    barrier = threading.Barrier(len(keys))
    outcomes: list[Any] = [None] * len(keys)

    def submit(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = services.application_submit(
                application_id=application.id,
                applicant=who,
                idempotency_key=keys[index],
                declaration_accepted=True,
                language="en",
            )
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _ready() -> tuple[Application, Any]:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two submissions cannot interleave")
    examples_publish(NEWBORN)
    who = applicant(citizen_new())
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    upload_required(application, who, "mother-identity-document", "birth-notification")
    return application, who


def test_a_double_click_submits_once() -> None:
    application, who = _ready()

    outcomes = _race(application, who, ["double-click-key-1", "double-click-key-1"])

    assert all(isinstance(outcome, services.SubmitResult) for outcome in outcomes), outcomes
    assert sorted(outcome.replayed for outcome in outcomes) == [False, True]
    assert {outcome.application.reference for outcome in outcomes} == {application.reference}
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.SUBMITTED
    assert ApplicationEvent.objects.filter(application=application, kind="submitted").count() == 1
    assert OutboundEmail.objects.filter(purpose="submission_confirmation").count() == 1
    assert AuditEntry.objects.filter(action="journeys.application.submitted").count() == 1


def test_two_tabs_with_different_keys_submit_once() -> None:
    application, who = _ready()

    outcomes = _race(application, who, ["first-tab-key-01", "second-tab-key-2"])

    sent = [outcome for outcome in outcomes if isinstance(outcome, services.SubmitResult)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, errors.ApplicationAlreadySubmittedError)]
    assert len(sent) == 1, outcomes
    assert len(refused) == 1, outcomes
    assert ApplicationEvent.objects.filter(application=application, kind="submitted").count() == 1
    assert OutboundEmail.objects.filter(purpose="submission_confirmation").count() == 1
