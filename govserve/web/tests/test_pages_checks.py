"""Deployment checks of the shared pages' settings."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from govserve.web.page_checks import check_shared_page_settings


def _ids(settings: Settings) -> list[str]:
    return [message.id or "" for message in check_shared_page_settings()]


def test_a_configured_deployment_passes(settings: Settings) -> None:
    settings.GOVSERVE_ORGANISATION_NAME = "Westmoor City Council"
    settings.GOVSERVE_CONTACT_EMAIL = "digital@westmoor.gov.uk"
    settings.GOVSERVE_DPO_EMAIL = "dpo@westmoor.gov.uk"

    assert _ids(settings) == []


def test_the_defaults_are_refused_for_a_deployment(settings: Settings) -> None:
    settings.GOVSERVE_ORGANISATION_NAME = ""
    settings.GOVSERVE_CONTACT_EMAIL = "help@govserve.localhost"
    settings.GOVSERVE_DPO_EMAIL = "dpo@govserve.localhost"

    assert _ids(settings) == ["govserve.pages.W001", "govserve.pages.W002", "govserve.pages.W002"]


@pytest.mark.parametrize("address", ["", "   ", "dpo@localhost", "dpo@LOCALHOST", "dpo", "dpo@demo.localhost"])
def test_empty_or_development_addresses_are_refused(settings: Settings, address: str) -> None:
    settings.GOVSERVE_ORGANISATION_NAME = "Westmoor City Council"
    settings.GOVSERVE_CONTACT_EMAIL = "digital@westmoor.gov.uk"
    settings.GOVSERVE_DPO_EMAIL = address

    messages = check_shared_page_settings()

    assert [(message.id, message.msg) for message in messages] == [
        ("govserve.pages.W002", "GOVSERVE_DPO_EMAIL is empty or a development address.")
    ]


def test_the_check_runs_with_deploy_only(settings: Settings) -> None:
    from django.core.checks import registry  # noqa: PLC0415

    assert check_shared_page_settings in registry.registry.get_checks(include_deployment_checks=True)
    assert check_shared_page_settings not in registry.registry.get_checks(include_deployment_checks=False)
