import re

import pytest
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings

from govserve.core.jobs import run_pending
from govserve.notifications.email import PlatformTemplate, email_send
from govserve.privacy.crypto import data_key_destroy

CITIZEN = "citizen:0f4e4c36-6b0e-4c4e-9d0a-2b5f3f1d9a10"
SIGN_IN_URL = "http://127.0.0.1:8000/sign-in/link/Qm8pX2-token"

pytestmark = pytest.mark.django_db


def _send(*, key: str = "sign-in-link:demo", service_name: str = "Westmoor City Council") -> None:
    with transaction.atomic():
        email_send(
            to="demo.citizen@example.org",
            template=PlatformTemplate.SIGN_IN_LINK,
            context={"service_name": service_name, "sign_in_url": SIGN_IN_URL, "expiry_minutes": "15"},
            idempotency_key=key,
            owner=CITIZEN,
            purpose="sign_in",
        )


def test_the_demo_mail_page_does_not_exist_outside_the_demo(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_DEMO = False
    _send()

    response = client.get("/demo/mail")

    assert response.status_code == 404
    assert "demo.citizen@example.org" not in response.content.decode()


def test_the_demo_mail_page_shows_messages_with_a_banner_and_clickable_links(
    client: Client, settings: Settings
) -> None:
    settings.GOVSERVE_DEMO = True
    settings.EMAIL_URL = "log://"
    _send()
    run_pending()

    response = client.get("/demo/mail")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Demo only: emails are shown here instead of being sent" in body
    assert 'class="govuk-notification-banner"' in body
    assert "Sign in to Westmoor City Council" in body
    assert "demo.citizen@example.org" in body
    assert f'<a href="{SIGN_IN_URL}" rel="noopener">{SIGN_IN_URL}</a>' in body
    assert re.search(r'govuk-summary-list__value">\s*Sent\s*</dd>', body)
    assert response["Cache-Control"] == "no-store"


def test_content_on_the_demo_mail_page_is_escaped(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_DEMO = True
    _send(service_name='<script>alert("x")</script>')

    body = client.get("/demo/mail").content.decode()

    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;alert(" in body


def test_a_message_whose_content_was_erased_is_listed_without_content(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_DEMO = True
    _send()
    data_key_destroy(owner=CITIZEN)

    body = client.get("/demo/mail").content.decode()

    assert "Content erased" in body
    assert "demo.citizen@example.org" not in body


def test_the_demo_mail_page_with_no_messages_says_so(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_DEMO = True

    body = client.get("/demo/mail").content.decode()

    assert "No emails yet." in body
