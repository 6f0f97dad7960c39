import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.utils.csp import CSP
from pytest_django.fixtures import Settings

from govserve.web.checks import DEVELOPMENT_SECRET_KEY, check_deployment, check_security_configuration

ROOT = Path(__file__).resolve().parents[3]
GOOD_SECRET = "q5Xw0" + secrets.token_urlsafe(64)


@pytest.fixture
def production(settings: Settings) -> Settings:
    """Settings a deployment should have: every check passes."""
    settings.SECRET_KEY = GOOD_SECRET
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["services.example.gov"]
    settings.PUBLIC_BASE_URL = "https://services.example.gov"
    settings.CSRF_TRUSTED_ORIGINS = ["https://services.example.gov"]
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = settings.LANGUAGE_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.GOVSERVE_DEMO = False
    settings.EMAIL_URL = "submission://mailer:pw@smtp.example.gov"
    settings.SECURITY_TXT_CONTACT = ["mailto:security@example.gov"]
    return settings


def _ids() -> list[str]:
    return [str(message.id) for message in check_deployment()]


def test_a_production_configuration_passes(production: Settings) -> None:
    assert check_deployment() == []
    assert check_security_configuration() == []


def test_the_development_configuration_is_refused() -> None:
    # The test settings are the local (development) settings.
    assert _ids() == ["govserve.web.E001", "govserve.web.E004", "govserve.web.E008", "govserve.web.W002"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, ["govserve.web.E001"]),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, ["govserve.web.E001"]),
        ({"SECRET_KEY": "short-but-random-9f8e"}, ["govserve.web.E001"]),
        ({"SECRET_KEY": "ab" * 40}, ["govserve.web.E001"]),
        ({"DEBUG": True}, ["govserve.web.E002"]),
        ({"ALLOWED_HOSTS": ["*"]}, ["govserve.web.E003"]),
        ({"ALLOWED_HOSTS": []}, ["govserve.web.E003"]),
        ({"PUBLIC_BASE_URL": "http://services.example.gov"}, ["govserve.web.E004"]),
        ({"SESSION_COOKIE_SECURE": False}, ["govserve.web.E005"]),
        ({"CSRF_COOKIE_SECURE": False, "LANGUAGE_COOKIE_SECURE": False}, ["govserve.web.E005"]),
        ({"SESSION_COOKIE_HTTPONLY": False}, ["govserve.web.E006"]),
        ({"CSRF_COOKIE_HTTPONLY": False}, ["govserve.web.E006"]),
        ({"GOVSERVE_DEMO": True}, ["govserve.web.E007"]),
        ({"EMAIL_URL": "log://"}, ["govserve.web.E008"]),
        ({"SECURE_CSP": {}}, ["govserve.web.E009"]),
        ({"SECURE_HSTS_SECONDS": 3600}, ["govserve.web.W001"]),
        ({"SECURITY_TXT_CONTACT": []}, ["govserve.web.W002"]),
        ({"CSRF_TRUSTED_ORIGINS": ["http://services.example.gov"]}, ["govserve.web.W003"]),
    ],
)
def test_each_unsafe_setting_is_reported(production: Settings, changes: dict[str, Any], expected: list[str]) -> None:
    for name, value in changes.items():
        setattr(production, name, value)

    assert _ids() == expected


@pytest.mark.parametrize(
    ("script_src", "frame_ancestors", "problem"),
    [
        ([CSP.SELF, CSP.NONCE, CSP.UNSAFE_INLINE], [CSP.NONE], "script-src allows 'unsafe-inline' or 'unsafe-eval'"),
        ([CSP.SELF, CSP.NONCE, CSP.UNSAFE_EVAL], [CSP.NONE], "script-src allows 'unsafe-inline' or 'unsafe-eval'"),
        ([CSP.SELF], [CSP.NONE], "script-src has no nonce"),
        ([CSP.SELF, CSP.NONCE], [CSP.SELF], "frame-ancestors is not 'none'"),
    ],
)
def test_a_weakened_content_security_policy_is_refused(
    production: Settings, script_src: list[str], frame_ancestors: list[str], problem: str
) -> None:
    production.SECURE_CSP = {**production.SECURE_CSP, "script-src": script_src, "frame-ancestors": frame_ancestors}

    messages = check_deployment()

    assert [(str(m.id), m.msg) for m in messages] == [("govserve.web.E009", f"Content-Security-Policy: {problem}.")]


def test_an_unparsable_email_url_is_refused_everywhere(settings: Settings) -> None:
    settings.EMAIL_URL = "smtp+carrierpigeon://coop"

    messages = check_security_configuration()

    assert [str(m.id) for m in messages] == ["govserve.web.E010"]


@pytest.mark.parametrize("sender", ["noreply", "Westmoor <noreply@westmoor.example>\r\nBcc: all@example.org", ""])
def test_a_sender_that_is_not_one_address_is_refused_everywhere(settings: Settings, sender: str) -> None:
    settings.DEFAULT_FROM_EMAIL = sender

    messages = check_security_configuration()

    assert [str(m.id) for m in messages] == ["govserve.web.E012"]


def test_missing_security_middleware_is_refused_everywhere(settings: Settings) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "govserve.web.security.SecurityHeadersMiddleware"]

    messages = check_security_configuration()

    assert [(str(m.id), m.msg) for m in messages] == [
        (
            "govserve.web.E011",
            "Security middleware missing from MIDDLEWARE: govserve.web.security.SecurityHeadersMiddleware",
        )
    ]


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _govserve_check_deploy(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "govserve.cli", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_govserve_check_deploy_refuses_a_production_start_with_development_settings() -> None:
    result = _govserve_check_deploy({"SECRET_KEY": DEVELOPMENT_SECRET_KEY, "DEBUG": "1", "ALLOWED_HOSTS": "*"})

    assert result.returncode == 1
    for check_id in ("govserve.web.E001", "govserve.web.E002", "govserve.web.E003", "govserve.web.E004"):
        assert check_id in result.stderr


def test_govserve_check_deploy_accepts_a_proper_production_configuration() -> None:
    result = _govserve_check_deploy(
        {
            "SECRET_KEY": GOOD_SECRET,
            "PUBLIC_BASE_URL": "https://services.example.gov",
            "ALLOWED_HOSTS": "services.example.gov",
            "EMAIL_URL": "submission://mailer:pw@smtp.example.gov",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_PRELOAD": "1",
            "SECURE_SSL_REDIRECT": "1",
            "SECURITY_TXT_CONTACT": "mailto:security@example.gov",
            "GOVSERVE_KEYS": f"k1:{_key()}",
            "GOVSERVE_BLIND_INDEX_KEY": _key(),
            # casework results refuse to start without a key to sign results with (casework_results.E001)
            "GOVSERVE_RESULT_SIGNING_KEYS": f"r1:{_key()}",
        }
    )

    # Other apps may still warn (exit 0); none of web's checks may fire.
    assert result.returncode == 0, result.stderr
    assert "govserve.web." not in result.stdout + result.stderr
