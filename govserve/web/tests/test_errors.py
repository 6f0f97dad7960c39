import re

import pytest
from django.test import Client
from django.utils.html import escape

from govserve.web import errors
from govserve.web.ratelimit import too_many_attempts_message

pytestmark = [pytest.mark.django_db, pytest.mark.urls("govserve.web.tests.urls_for_tests")]


def _main(body: str) -> str:
    match = re.search(r'<main class="govuk-main-wrapper" id="main-content">(.*)</main>', body, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_an_unknown_page_is_the_govuk_page_not_found(client: Client) -> None:
    response = client.get("/no/such/page?email=ada@example.org")

    assert response.status_code == 404
    body = response.content.decode()
    assert re.search(r"<title>Page not found – [^<]+</title>", body)  # noqa: RUF001 - GOV.UK title separator
    main = _main(body)
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in main
    assert "If you typed the web address, check it is correct." in main
    assert '<a href="/" class="govuk-link">go to the home page</a>' in main
    assert "no/such/page" not in body
    assert "ada@example.org" not in body
    assert response["X-Frame-Options"] == "DENY"
    assert "nonce-" in response["Content-Security-Policy"]


def test_an_unknown_api_address_answers_problem_json(client: Client) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "There is nothing at this address.",
        "code": "not_found",
    }


def test_a_bug_shows_the_service_problem_page_with_the_request_id_and_no_detail() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/test/boom", headers={"X-Request-ID": "req-0123456789"})

    assert response.status_code == 500
    body = response.content.decode()
    main = _main(body)
    assert '<h1 class="govuk-heading-l">Sorry, there is a problem with the service</h1>' in main
    assert "Try again later." in main
    assert "give this reference: <strong>req-0123456789</strong>" in main
    assert "secret detail" not in body
    assert "RuntimeError" not in body
    assert response["X-Request-ID"] == "req-0123456789"


def test_a_bug_under_the_api_answers_problem_json_without_detail() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/test/boom")

    assert response.status_code == 500
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal server error",
        "status": 500,
        "detail": "Something went wrong on our side. Try again later.",
        "code": "server_error",
    }


def test_if_the_500_page_itself_fails_a_static_page_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_render(*args: object, **kwargs: object) -> None:
        msg = "template engine down"
        raise RuntimeError(msg)

    monkeypatch.setattr(errors, "render", broken_render)
    client = Client(raise_request_exception=False)

    response = client.get("/test/boom")

    assert response.status_code == 500
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.content.decode() == errors._FALLBACK_500


def test_a_refused_permission_is_the_cannot_view_page_without_the_reason(client: Client) -> None:
    response = client.get("/test/forbidden")

    assert response.status_code == 403
    main = _main(response.content.decode())
    assert '<h1 class="govuk-heading-l">You cannot view this page</h1>' in main
    assert "secret reason" not in response.content.decode()


def test_a_bad_host_header_is_the_bad_request_page(client: Client) -> None:
    response = client.get("/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    main = _main(response.content.decode())
    assert '<h1 class="govuk-heading-l">Sorry, there is a problem with your request</h1>' in main
    assert "attacker.example" not in response.content.decode()


def test_a_post_without_a_csrf_token_is_refused_with_the_form_could_not_be_sent_page() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/test/limited", {"field": "value"})

    assert response.status_code == 403
    main = _main(response.content.decode())
    assert '<h1 class="govuk-heading-l">Your form could not be sent</h1>' in main


def test_too_many_attempts_is_the_429_page_with_retry_after(client: Client) -> None:
    for _ in range(3):
        assert client.post("/test/limited").status_code == 200

    response = client.post("/test/limited")

    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    main = _main(response.content.decode())
    assert '<h1 class="govuk-heading-l">Too many attempts</h1>' in main
    assert str(escape(too_many_attempts_message(retry_after))) in main


def test_a_429_from_another_app_is_rendered_too(client: Client) -> None:
    response = client.get("/test/other-429")

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "Another app&#39;s limit." in _main(response.content.decode())


def test_a_429_for_an_api_client_is_problem_json(client: Client) -> None:
    response = client.get("/test/other-429", headers={"Accept": "application/json"})

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "type": "about:blank",
        "title": "Too many requests",
        "status": 429,
        "detail": "Another app's limit.",
        "code": "rate_limited",
    }
