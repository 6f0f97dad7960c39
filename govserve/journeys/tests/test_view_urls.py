"""The journey views' URLs reversed once per shape are Django's reverse, for any application and script prefix."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse, set_script_prefix

from govserve.journeys.views.journey import _url, page_url

CASES = [
    ("question", ("age",)),
    ("question", ("home-address",)),
    ("check_answers", ()),
    ("documents", ()),
    ("fees", ()),
    ("confirmation", ()),
    ("save_and_return", ()),
    ("application_resume", ()),
    ("group_item_add", ("assistants", "assistant")),
]


@pytest.fixture
def script_prefix() -> Any:
    yield set_script_prefix
    set_script_prefix("/")


@pytest.mark.parametrize(("name", "args"), CASES)
@pytest.mark.parametrize("prefix", ["/", "/council/"])
def test_url_is_reverse(name: str, args: tuple[str, ...], prefix: str, script_prefix: Any) -> None:
    # Given two applications and a deployment under a script prefix
    script_prefix(prefix)
    applications = [SimpleNamespace(id=uuid.uuid4()), SimpleNamespace(id=uuid.UUID(int=0))]

    # When each one's URL is built twice (the second from the kept shape)
    built = [_url(name, application, *args) for application in applications * 2]  # type: ignore[arg-type]

    # Then each is Django's reverse of the same name and arguments
    expected = [reverse(f"journeys:{name}", args=[application.id, *args]) for application in applications * 2]
    assert built == expected
    assert built[0].startswith(prefix)


def test_page_url_keeps_the_return_query() -> None:
    # Given an application
    application: Any = SimpleNamespace(id=uuid.uuid4())

    # When the URL of a page is asked for from check your answers
    url = page_url(application, "age", returning="check")

    # Then it is the page's URL with the return query
    assert url == reverse("journeys:question", args=[application.id, "age"]) + "?return=check"
