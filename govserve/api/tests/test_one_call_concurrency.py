"""Two one-call submissions with the same Idempotency-Key at once: one application, both told about it.

On PostgreSQL with real transactions (the key's unique row decides);
SQLite serialises writers, so the repeated key is tested in test_one_call.py.
"""

from __future__ import annotations

import pytest
from django.db import connection

from govserve.api.models import SubmissionKey
from govserve.api.tests.conftest import MakeCaller, body
from govserve.api.tests.test_applications import ANSWERS
from govserve.api.tests.test_tasks_concurrency import _race
from govserve.journeys.models import Answer, Application
from govserve.journeys.tests.support import STREET_LIGHT, examples_publish
from govserve.notifications.models import OutboundEmail

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_the_same_key_twice_at_once_sends_one_application(make_caller: MakeCaller) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot interleave")
    examples_publish(STREET_LIGHT)
    caller = make_caller()
    sent = {
        "service_id": STREET_LIGHT,
        "contact_email": "ann@example.com",
        "answers": ANSWERS,
        "submit": True,
        "declaration": True,
    }

    responses = _race([lambda: caller.call("POST", "/api/v1/applications", sent, idempotency_key="race-key-0001")] * 2)

    assert [response.status_code for response in responses] == [201, 201], [r.content for r in responses]
    assert body(responses[0])["id"] == body(responses[1])["id"]
    application = Application.objects.get()
    assert application.status == "submitted"
    assert SubmissionKey.objects.get().application_id == application.id
    # the loser's draft, answers and emails were rolled back with it
    assert {answer.application_id for answer in Answer.objects.all()} == {application.id}
    assert set(OutboundEmail.objects.values_list("owner", flat=True)) == {application.crypto_owner}
