"""The demo prints working partner, operator and bot tokens, and only the latest of each works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govserve.api.models import ApiToken
from govserve.api.tests.conftest import Caller, body
from govserve.catalogue.demo import demo_prepare

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.django_db
def test_the_demo_prints_tokens_that_work_until_the_next_demo(settings: Any) -> None:
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
    # and the operator and bot tokens read the street lighting pool (the demo has one of each)
    for heading in ("API demo operator token (acts as city-council-street-lighting-engineer", "API demo bot token"):
        line = next(number for number, text in enumerate(again) if text.startswith(heading))
        token = again[line + 1].strip()
        assert Caller(token=token, client=None).call("GET", "/api/v1/tasks?queue=pool").status_code == 200
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 3
