import datetime as dt

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from govserve.web.tests.conftest import MovableClock

pytestmark = pytest.mark.django_db


def test_security_txt_lists_the_configured_fields_with_an_expiry_computed_from_today(
    client: Client, settings: Settings, movable_clock: MovableClock
) -> None:
    settings.PUBLIC_BASE_URL = "https://services.example.gov"
    settings.SECURITY_TXT_CONTACT = ["mailto:security@example.gov", "https://example.gov/report"]
    settings.SECURITY_TXT_POLICY = "https://example.gov/security-policy"
    settings.SECURITY_TXT_ENCRYPTION = "https://example.gov/pgp-key.txt"
    settings.SECURITY_TXT_ACKNOWLEDGMENTS = ""
    settings.SECURITY_TXT_EXPIRES_DAYS = 180

    response = client.get("/.well-known/security.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "Contact: mailto:security@example.gov\n"
        "Contact: https://example.gov/report\n"
        "Expires: 2026-08-29T00:00:00Z\n"
        "Encryption: https://example.gov/pgp-key.txt\n"
        "Policy: https://example.gov/security-policy\n"
        "Preferred-Languages: en, cy\n"
        "Canonical: https://services.example.gov/.well-known/security.txt\n"
    )


def test_the_expiry_moves_with_the_date_and_stays_under_a_year(
    client: Client, settings: Settings, movable_clock: MovableClock
) -> None:
    settings.SECURITY_TXT_CONTACT = ["mailto:security@example.gov"]
    movable_clock.advance(days=400)

    body = client.get("/.well-known/security.txt").content.decode()

    expires = next(line for line in body.splitlines() if line.startswith("Expires: ")).removeprefix("Expires: ")
    expiry = dt.datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert expiry == dt.datetime(2027, 10, 3, tzinfo=dt.UTC)
    assert dt.timedelta(0) < expiry - movable_clock.current < dt.timedelta(days=365)


def test_without_a_contact_there_is_no_security_txt(client: Client, settings: Settings) -> None:
    settings.SECURITY_TXT_CONTACT = []

    response = client.get("/.well-known/security.txt")

    assert response.status_code == 404


def test_the_legacy_location_redirects_to_the_well_known_one(client: Client) -> None:
    response = client.get("/security.txt")

    assert response.status_code == 301
    assert response["Location"] == "/.well-known/security.txt"
