"""System checks: a scanner URL that names nothing is an error; the test scanner in production is a warning."""

from __future__ import annotations

from typing import Any

from govserve.documents.checks import check_scanner_for_production, check_upload_configuration


def test_a_good_configuration_passes(settings: Any) -> None:
    settings.GOVSERVE_SCANNER = "clamd://127.0.0.1:3310"
    settings.GOVSERVE_UPLOAD_MAX_BYTES = 25 * 1024 * 1024
    assert check_upload_configuration() == []
    assert check_scanner_for_production() == []


def test_a_scanner_url_naming_no_scanner_is_an_error(settings: Any) -> None:
    settings.GOVSERVE_SCANNER = "clamav://127.0.0.1"
    messages = check_upload_configuration()
    assert [message.id for message in messages] == ["documents.E001"]
    assert "GOVSERVE_SCANNER 'clamav://127.0.0.1' is not a scanner" in messages[0].msg
    assert check_scanner_for_production() == []


def test_a_non_positive_ceiling_is_an_error(settings: Any) -> None:
    settings.GOVSERVE_UPLOAD_MAX_BYTES = 0
    assert [message.id for message in check_upload_configuration()] == ["documents.E002"]


def test_the_test_scanner_in_production_is_a_warning_that_says_what_it_is(settings: Any) -> None:
    settings.GOVSERVE_SCANNER = "test"
    messages = check_scanner_for_production()
    assert [message.id for message in messages] == ["documents.W001"]
    assert "test scanner, not malware protection" in messages[0].msg
