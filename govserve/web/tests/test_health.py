import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_answers_ok_without_touching_anything(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_readyz_reports_database_reachable_and_migrated(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "reachable", "migrations": "applied"}}


@pytest.mark.django_db
def test_a_well_formed_request_id_is_kept(client: Client) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc12345-from-proxy"})

    assert response["X-Request-ID"] == "abc12345-from-proxy"


@pytest.mark.django_db
def test_home_page_renders_with_the_govuk_template_and_a_csp_nonce(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-template" in body
    assert "nonce-" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
