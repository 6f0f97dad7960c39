"""Schemathesis over API v1 (bounded examples, 15 per operation): no 5xx, every response as documented.

The partner token has every scope and the street-light service is
published, so generated requests reach the operations' code (random
application ids answer 404 ``application_not_found``: the client made none
of them). The task operations are called with an operator token of a
licensing officer, with a street trading application waiting in the pool
(random task ids answer 404 ``task_not_found``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from govserve.api.services import api_operator_token_issue
from govserve.api.tests.conftest import OPERATOR, MakeCaller
from govserve.casework.tests.support import staff, trading_paid
from govserve.catalogue.services import DefinitionSource, definition_publish
from govserve.journeys.tests.support import EXAMPLES, STREET_TRADING

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _connections_kept_open() -> Iterator[None]:
    # As Django's test client does: a request must not close the test's connection (its transaction
    # holds the test data; on PostgreSQL a closed connection fails every later query).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(street_light: str, make_caller: MakeCaller) -> str:
    caller = make_caller()
    assert caller.token is not None
    return caller.token


@pytest.fixture
def operator_token(street_light: str) -> str:
    definition_publish(
        source=DefinitionSource.from_path(EXAMPLES / "services" / f"{STREET_TRADING}.yaml"), actor=None, reason="test"
    )
    trading_paid()
    officer = staff(("city-council", "licensing-officer"))
    TOTPDevice.objects.create(user=officer, name="app", confirmed=True)
    return api_operator_token_issue(user=officer, actor=OPERATOR).text


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db(transaction=False)
def test_api_conforms_to_its_schema(case: Any, token: str, operator_token: str) -> None:
    # Checked: no 5xx, every status, content type, header and body as documented. Not checked:
    # schema-valid requests the domain refuses (an opaque cursor, an answer a rule refuses: 400/422), and
    # unknown query parameters, which the API ignores as HTTP APIs usually do.
    bearer = operator_token if case.path.startswith(("/api/v1/tasks", "/api/v1/team")) else token
    case.call_and_validate(
        headers={"Authorization": f"Bearer {bearer}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
