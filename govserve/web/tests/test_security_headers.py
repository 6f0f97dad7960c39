import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from pytest_django.fixtures import Settings

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
CITIZEN_PAGE = "/sign-in"
STAFF_PAGE = "/staff/sign-in"
JSON_RESPONSE = "/healthz"
PAGES = ["/", CITIZEN_PAGE, STAFF_PAGE]


def _csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", [*PAGES, JSON_RESPONSE])
def test_every_response_carries_every_security_header(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Permissions-Policy"] == (
        "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), "
        "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
    )
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "Strict-Transport-Security" not in response  # never over plain http
    policy = _csp(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_every_script_on_a_page_carries_the_nonce_of_its_policy(client: Client, path: str) -> None:
    response = client.get(path)

    policy = _csp(response["Content-Security-Policy"])
    nonce_sources = [source for source in policy["script-src"] if source.startswith("'nonce-")]
    assert len(nonce_sources) == 1
    assert policy["script-src"] == ["'self'", nonce_sources[0]]
    nonce = nonce_sources[0].removeprefix("'nonce-").removesuffix("'")
    assert len(nonce) >= 22  # at least 128 bits, base64
    body = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", body)
    assert scripts
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    # No inline event handlers or style attributes: the policy would block them.
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", body)
    assert not re.search(r"<[^>]+\sstyle\s*=", body)


def test_each_response_gets_a_fresh_nonce(client: Client) -> None:
    first = client.get("/")["Content-Security-Policy"]
    second = client.get("/")["Content-Security-Policy"]

    assert first != second


@pytest.mark.parametrize("path", [*PAGES, JSON_RESPONSE])
def test_hsts_is_sent_over_https_when_configured(client: Client, settings: Settings, path: str) -> None:
    settings.SECURE_HSTS_SECONDS = 31_536_000

    response = client.get(path, secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("path", [CITIZEN_PAGE, STAFF_PAGE])
def test_cookies_are_secure_and_http_only_over_https(client: Client, settings: Settings, path: str) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True

    response = client.get(path, secure=True)

    cookie = response.cookies["csrftoken"]
    assert (cookie["secure"], cookie["httponly"], cookie["samesite"]) == (True, True, "Lax")


_PRINT_COOKIE_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.LANGUAGE_COOKIE_SECURE, "
    "settings.SESSION_COOKIE_HTTPONLY, settings.CSRF_COOKIE_HTTPONLY, settings.SESSION_COOKIE_SAMESITE, "
    "settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME)"
)
HOST_ONLY = "__Host-sessionid __Host-csrftoken __Host-django_language"
PLAIN = "sessionid csrftoken django_language"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"PUBLIC_BASE_URL": "https://services.example.gov"}, f"True True True True True Lax {HOST_ONLY}"),
        ({"PUBLIC_BASE_URL": "http://127.0.0.1:8000"}, f"False False False True True Lax {PLAIN}"),
        (
            {"PUBLIC_BASE_URL": "http://127.0.0.1:8000", "SECURE_COOKIES": "1"},
            f"True True True True True Lax {HOST_ONLY}",
        ),
    ],
)
def test_production_cookies_follow_the_public_base_url_and_are_host_only_over_https(
    environment: dict[str, str], expected: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.production", **environment}

    result = subprocess.run(
        [sys.executable, "-c", _PRINT_COOKIE_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == expected


# Views that may skip CSRF: machine interfaces authenticated by tokens or signatures, never by cookies.
CSRF_EXEMPT_PREFIXES = ("api/", "govstack/")


def _views(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(_views(pattern.url_patterns, route))
        else:
            found.append((route, pattern.callback))
    return found


def test_no_view_for_people_is_exempt_from_csrf() -> None:
    views = _views(get_resolver().url_patterns)

    exempt = [
        route
        for route, view in views
        if getattr(view, "csrf_exempt", False) and not route.startswith(CSRF_EXEMPT_PREFIXES)
    ]

    assert len(views) > 10
    assert exempt == []


def test_a_form_posted_without_its_csrf_token_is_refused() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(CITIZEN_PAGE, {"email": "ada@example.org"})

    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()


def test_the_csrf_middleware_is_installed_and_the_failure_view_is_ours() -> None:
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    assert settings.CSRF_FAILURE_VIEW == "govserve.web.errors.csrf_failure"
