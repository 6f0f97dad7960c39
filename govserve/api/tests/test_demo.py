"""The demo prints a working partner token, and only the latest one works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govserve.api.models import ApiToken
from govserve.api.tests.conftest import Caller, body
from govserve.catalogue.demo import demo_prepare

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.django_db
def test_the_demo_prints_a_partner_token_that_works_until_the_next_demo(settings: Any) -> None:
    # given a demo instance (demo accounts are refused otherwise)
    settings.GOVSERVE_DEMO = True
    # when the demo is prepared
    report = demo_prepare(examples=EXAMPLES, say=lambda _: None, migrate=False)
    # then its sign-ins end with a token of the demo partner, which lists the example services
    lines = report.sign_ins.splitlines()
    index = lines.index(
        "API (docs at /api/v1/docs, docs/api.md): demo partner token "
        "(services:read applications:read applications:write):"
    )
    first = lines[index + 1].strip()
    response = Caller(token=first, client=None).call("GET", "/api/v1/services")
    assert response.status_code == 200
    assert len(body(response)["items"]) == 3
    # when the demo runs again, the new token works and the old one is revoked
    again = demo_prepare(examples=EXAMPLES, say=lambda _: None, migrate=False).sign_ins.splitlines()
    second = again[again.index(lines[index]) + 1].strip()
    assert Caller(token=second, client=None).call("GET", "/api/v1/services").status_code == 200
    assert body(Caller(token=first, client=None).call("GET", "/api/v1/services"))["code"] == "token_revoked"
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1
