"""The data-protection report: built from the definition's classification, retention and data_protection section."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govserve.catalogue.definitions.loader import load_definition_file
from govserve.journeys.tests.support import EXAMPLES, NEWBORN, STREET_LIGHT, example_compiled
from govserve.privacy.dp_report import dp_report_build, period_text, platform_processors


def test_the_newborn_report_lists_personal_and_special_fields_with_the_declared_purpose() -> None:
    report = dp_report_build(example_compiled(NEWBORN).definition, version=1)

    assert report.declared
    assert report.lawful_basis == "legal_obligation"
    assert report.retention == "P75Y"
    assert report.retention_text == "75 years"
    special = {row.field_id for row in report.fields if row.classification == "special_category"}
    assert special == {"mother_nhs_number", "optional_registrations"}
    assert report.has_special_category
    assert report.special_category_condition.startswith("Health data")
    assert all(row.classification in {"personal", "special_category"} for row in report.fields)
    assert [row.name for row in report.processors if not row.platform] == ["National Health Registration Agency"]


def test_public_fields_are_left_out() -> None:
    definition = example_compiled(STREET_LIGHT).definition
    public = {field.id for _, field in definition.iter_fields() if field.classification == "public"}

    report = dp_report_build(definition)

    assert public, "the street light report has public fields (the lamp post number...)"
    assert public.isdisjoint({row.field_id for row in report.fields})


def test_the_report_is_in_welsh() -> None:
    report = dp_report_build(example_compiled(NEWBORN).definition, language="cy")

    assert report.purpose.startswith("I gofrestru")
    assert report.processors[0].purpose == "Gwiriadau'r ymwelydd iechyd ar gyfer y rhaglenni gofal."


def test_platform_processors_come_from_the_configured_providers(settings: Any) -> None:
    settings.EMAIL_URL = "smtps://user:secret@relay.example.net"
    settings.SMS_URL = "notify://"
    settings.PAYMENT_URL = "govukpay://"

    rows = platform_processors()

    assert [(row.name, row.purpose) for row in rows] == [
        ("Email relay relay.example.net", "Sends emails"),
        ("GOV.UK Notify", "Sends text messages"),
        ("GOV.UK Pay", "Takes card payments"),
    ]
    assert "secret" not in repr(rows)


def test_log_and_sandbox_providers_are_no_processors(settings: Any) -> None:
    settings.EMAIL_URL = "log://"
    settings.SMS_URL = "log://"
    settings.PAYMENT_URL = "sandbox://"

    assert platform_processors() == []


@pytest.mark.parametrize(
    ("period", "text"),
    [("P6Y", "6 years"), ("P1Y", "1 year"), ("P18M", "18 months"), ("P2W", "2 weeks"), ("P1Y6M", "1 year, 6 months")],
    ids=["years", "one-year", "months", "weeks", "mixed"],
)
def test_periods_read_as_words(period: str, text: str) -> None:
    assert period_text(period) == text


def _with_section(tmp_path: Path, section: str) -> Path:
    source = (EXAMPLES / "services" / "report-street-light.yaml").read_text()
    head = source.split("\ndata_protection:", 1)[0]
    path = tmp_path / "service.yaml"
    path.write_text(head + section)
    return path


def test_an_unknown_lawful_basis_is_refused_with_its_place(tmp_path: Path) -> None:
    path = _with_section(tmp_path, "\ndata_protection:\n  purpose: To fix lamps.\n  lawful_basis: because\n")

    loaded = load_definition_file(path)

    assert not loaded.ok
    problem = next(problem for problem in loaded.problems if problem.is_error)
    assert "data_protection" in problem.path
    assert "lawful_basis" in problem.path
    assert problem.line is not None


def test_a_definition_without_the_section_is_still_valid_and_reported_undeclared(tmp_path: Path) -> None:
    loaded = load_definition_file(_with_section(tmp_path, "\n"))
    assert loaded.ok
    assert loaded.definition is not None

    report = dp_report_build(loaded.definition)

    assert not report.declared
    assert report.processors == [] or all(row.platform for row in report.processors)


def test_the_command_prints_json_of_a_file(tmp_path: Path) -> None:
    out = io.StringIO()

    call_command("dp_report", "--file", str(EXAMPLES / "services" / f"{NEWBORN}.yaml"), "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert data["service"]["id"] == NEWBORN
    assert data["lawful_basis"] == "legal_obligation"
    assert data["retention"]["period"] == "P75Y"
    assert {"id": "mother_nhs_number", "classification": "special_category"}.items() <= {
        key: value for row in data["fields"] if row["id"] == "mother_nhs_number" for key, value in row.items()
    }.items()


def test_the_command_warns_of_an_undeclared_service(tmp_path: Path) -> None:
    out = io.StringIO()

    call_command("dp_report", "--file", str(_with_section(tmp_path, "\n")), stdout=out)

    assert "WARNING: the definition has no data_protection section" in out.getvalue()


def test_the_command_refuses_both_or_neither_and_a_broken_file(tmp_path: Path) -> None:
    broken = _with_section(tmp_path, "\ndata_protection:\n  lawful_basis: public_task\n")
    with pytest.raises(CommandError, match="either a service id or --file"):
        call_command("dp_report")
    with pytest.raises(CommandError, match="is not a valid service definition"):
        call_command("dp_report", "--file", str(broken))


@pytest.mark.django_db
def test_the_command_reads_a_published_service_and_refuses_an_unknown_one() -> None:
    from govserve.journeys.tests.support import examples_publish  # noqa: PLC0415 - needs the database

    examples_publish(NEWBORN)
    out = io.StringIO()

    call_command("dp_report", NEWBORN, stdout=out)

    assert "Register a birth and newborn care (register-newborn version 1), civil-registry" in out.getvalue()
    with pytest.raises(CommandError, match="no-such-service"):
        call_command("dp_report", "no-such-service")


def test_special_category_fields_without_an_article_9_condition_are_a_warning(tmp_path: Path) -> None:
    source = (EXAMPLES / "services" / f"{NEWBORN}.yaml").read_text()
    start = source.index("  special_category_condition:")
    end = source.index("  processors:", start)
    path = tmp_path / "newborn.yaml"
    path.write_text(source[:start] + source[end:])

    loaded = load_definition_file(path)

    assert loaded.ok, [problem.format() for problem in loaded.problems]
    warnings = [problem for problem in loaded.problems if problem.code == "data_protection.no_condition"]
    assert len(warnings) == 1
    assert warnings[0].severity == "warning"
    assert warnings[0].path == "data_protection"
    assert "(the first at pages[3].fields[2])" in warnings[0].message  # the mother's NHS number


def test_the_examples_have_no_data_protection_warning() -> None:
    for name in (NEWBORN, STREET_LIGHT, "street-trading-licence"):
        loaded = load_definition_file(EXAMPLES / "services" / f"{name}.yaml")
        assert [problem.code for problem in loaded.problems if problem.code.startswith("data_protection")] == []


@pytest.mark.django_db
def test_a_retired_service_is_reported_on_its_last_version() -> None:
    from govserve.catalogue.services import service_retire  # noqa: PLC0415 - needs the database
    from govserve.journeys.tests.support import examples_publish  # noqa: PLC0415
    from govserve.privacy.dp_report import dp_report  # noqa: PLC0415

    examples_publish(STREET_LIGHT)
    service_retire(service_id=STREET_LIGHT, actor=None, reason="Replaced by the council's new reporting service")

    report = dp_report(service_id=STREET_LIGHT)

    assert (report.service_id, report.version, report.lawful_basis) == (STREET_LIGHT, 1, "public_task")
