"""One CSRF token per response: every form of a page carries the same valid token, each response a fresh one."""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.middleware import csrf
from django.middleware.csrf import rotate_token
from django.template import engines
from django.test import RequestFactory

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')


def _unmask_cipher_token(token: str) -> str:
    # Django's own unmasking (private, not in the type stubs): what the middleware compares.
    unmasked: str = csrf._unmask_cipher_token(token)  # type: ignore[attr-defined]
    return unmasked


def _render(request: HttpRequest) -> str:
    template = engines["jinja2"].from_string("{{ csrf_input }}|{{ csrf_input }}|{{ csrf_token }}")
    return str(template.render({}, request=request))


def test_every_form_of_a_page_gets_the_same_valid_token_and_the_next_page_another() -> None:
    # given
    request = RequestFactory().get("/")

    # when
    first = _render(request)
    second_request = RequestFactory().get("/")
    second_request.META["CSRF_COOKIE"] = request.META["CSRF_COOKIE"]
    second = _render(second_request)

    # then
    tokens = [*TOKEN.findall(first), first.rsplit("|", 1)[1]]
    assert len(tokens) == 3
    assert len(set(tokens)) == 1
    assert _unmask_cipher_token(tokens[0]) == request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert TOKEN.findall(second)[0] != tokens[0]
    assert _unmask_cipher_token(TOKEN.findall(second)[0]) == request.META["CSRF_COOKIE"]


def test_a_token_rotated_during_the_request_gives_a_token_of_the_new_secret() -> None:
    # given
    request = RequestFactory().get("/")
    before = _render(request)

    # when
    rotate_token(request)
    after = _render(request)

    # then
    old, new = TOKEN.findall(before)[0], TOKEN.findall(after)[0]
    assert _unmask_cipher_token(new) == request.META["CSRF_COOKIE"]
    assert _unmask_cipher_token(old) != request.META["CSRF_COOKIE"]
