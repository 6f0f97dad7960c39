"""``govserve check``: exit codes, output formats, directories, checks across files, no database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from govserve.catalogue.definitions import ProblemCode, check_paths
from govserve.catalogue.definitions.check import MissingPathError
from govserve.catalogue.definitions.command import fast_check, looks_like_paths
from govserve.catalogue.tests.definitions_helpers import service

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid_service.yaml"
TYPOS = FIXTURES / "invalid" / "typos.yaml"
REPOSITORY = Path(__file__).resolve().parents[3]


def run(*arguments: str | Path) -> tuple[int, str, str]:
    """Run the command in process; return (exit status, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("check", *[str(argument) for argument in arguments], stdout=stdout, stderr=stderr)
    except SystemExit as exit_:
        return int(exit_.code or 0), stdout.getvalue(), stderr.getvalue()
    return 0, stdout.getvalue(), stderr.getvalue()


def test_a_valid_file_exits_0_with_a_summary() -> None:
    # When
    status, stdout, _ = run(VALID)

    # Then
    assert (status, stdout) == (0, "No problems in 1 file\n")


def test_errors_exit_1_and_are_printed_one_per_line_with_a_summary() -> None:
    # When
    status, stdout, _ = run(TYPOS)

    # Then
    assert status == 1
    assert stdout.splitlines() == [
        f"{TYPOS}:7:10: error schema.invalid_value sign_in: `sign_in` must be one of `required`, `anonymous`, not "
        "`requried` (Did you mean `required`?)",
        f"{TYPOS}:16:15: error schema.unknown_field_type pages[0].fields[0].type: Unknown field type `txt` "
        "(Did you mean `text`?)",
        f"{TYPOS}:24:7: error schema.unknown_key flow.roles[0].sla_workingdays: Unknown key `sla_workingdays` "
        "(Did you mean `sla_working_days`?)",
        "3 errors, 0 warnings in 1 file",
    ]


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    # Given: a Welsh service with English-only text (a warning)
    path = tmp_path / "welsh.yaml"
    path.write_text(service(top="languages: [en, cy]\n"), encoding="utf-8")

    # When
    status, stdout, _ = run(path)

    # Then
    assert status == 0
    assert stdout.splitlines()[-1] == "0 errors, 1 warning in 1 file"
    assert " warning text.missing_translation " in stdout.splitlines()[0]


def test_a_missing_path_is_a_usage_error_with_exit_2() -> None:
    # When
    with pytest.raises(CommandError) as raised:
        run(VALID, "no/such/file.yaml")

    # Then
    assert raised.value.returncode == 2
    assert str(raised.value) == "a path to check does not exist"


def test_json_output_carries_every_field_of_every_problem() -> None:
    # Given
    stdout = io.StringIO()

    # When
    with pytest.raises(SystemExit) as raised:
        call_command("check", str(TYPOS), format="json", stdout=stdout)

    # Then
    assert raised.value.code == 1
    document = json.loads(stdout.getvalue())
    assert document["ok"] is False
    assert document["files"] == [str(TYPOS)]
    assert (document["errors"], document["warnings"]) == (3, 0)
    assert document["problems"][0] == {
        "code": "schema.invalid_value",
        "severity": "error",
        "message": "`sign_in` must be one of `required`, `anonymous`, not `requried`",
        "file": str(TYPOS),
        "line": 7,
        "column": 10,
        "path": "sign_in",
        "suggestion": "Did you mean `required`?",
    }


def test_a_directory_is_searched_for_yaml_files_in_order(tmp_path: Path) -> None:
    # Given
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "second.yml").write_text(service().replace("id: minimal", "id: second"), encoding="utf-8")
    (tmp_path / "first.yaml").write_text(service(), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a definition", encoding="utf-8")

    # When
    report = check_paths([tmp_path])

    # Then
    assert report.files == [str(tmp_path / "b" / "second.yml"), str(tmp_path / "first.yaml")]
    assert report.ok
    assert report.summary() == "No problems in 2 files"


def test_check_paths_refuses_a_missing_path() -> None:
    # When / Then
    with pytest.raises(MissingPathError) as raised:
        check_paths([VALID, "absent.yaml"])
    assert raised.value.path == "absent.yaml"


def test_two_files_defining_the_same_service_are_reported(tmp_path: Path) -> None:
    # Given
    (tmp_path / "a.yaml").write_text(service(), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(service(), encoding="utf-8")

    # When
    report = check_paths([tmp_path])

    # Then
    assert [problem.format() for problem in report.problems] == [
        f"{tmp_path / 'b.yaml'}:2:5: error definition.duplicate_id id: Service `minimal` is also defined in "
        f"{tmp_path / 'a.yaml'}"
    ]


def test_a_catalogue_id_close_to_a_checked_one_is_a_likely_typo(tmp_path: Path) -> None:
    # Given: a field taking options from "colour" while the checked catalogue is "colours"
    pages = (
        "pages:\n  - id: p\n    title: P\n    fields:\n      - id: colour\n        type: radios\n"
        "        label: Colour\n        classification: public\n        options_from: colour\n"
    )
    service_file = tmp_path / "service.yaml"
    service_file.write_text(service(pages=pages), encoding="utf-8")

    # When
    report = check_paths([service_file, FIXTURES / "catalogues" / "colours.yaml"])

    # Then
    assert [problem.format() for problem in report.problems] == [
        f"{service_file}:18:23: error definition.unknown_catalogue pages[0].fields[0].options_from: No checked file "
        "defines catalogue `colour` (Did you mean `colours`?)"
    ]


def test_a_catalogue_no_checked_file_defines_is_left_to_publish(tmp_path: Path) -> None:
    # Given
    pages = (
        "pages:\n  - id: p\n    title: P\n    fields:\n      - id: country\n        type: select\n"
        "        label: Country\n        classification: public\n        options_from: countries\n"
    )
    service_file = tmp_path / "service.yaml"
    service_file.write_text(service(pages=pages), encoding="utf-8")

    # When
    report = check_paths([service_file, FIXTURES / "catalogues" / "colours.yaml"])

    # Then
    assert report.problems == []


def test_every_invalid_fixture_fails_with_its_own_codes() -> None:
    # When
    report = check_paths([FIXTURES / "invalid"])

    # Then
    codes = {Path(result.filename).name: {problem.code for problem in result.problems} for result in report.results}
    assert codes["latin1.yaml"] == {ProblemCode.FILE_NOT_UTF8}
    assert {ProblemCode.YAML_ANCHOR, ProblemCode.YAML_ALIAS} <= codes["anchors.yaml"]
    assert codes["typos.yaml"] == {
        ProblemCode.SCHEMA_INVALID_VALUE,
        ProblemCode.SCHEMA_UNKNOWN_FIELD_TYPE,
        ProblemCode.SCHEMA_UNKNOWN_KEY,
    }
    assert codes["rules.yaml"] == {
        ProblemCode.CEL_UNKNOWN_NAME,
        ProblemCode.DEFINITION_UNKNOWN_PAGE,
        ProblemCode.FLOW_UNKNOWN_ROLE,
    }
    assert not report.ok


@pytest.mark.django_db  # Django's system checks of this project read the database
def test_without_paths_it_is_djangos_system_check() -> None:
    # Given
    stdout, stderr = io.StringIO(), io.StringIO()

    # When
    call_command("check", stdout=stdout, stderr=stderr)

    # Then
    assert "System check identified" in stdout.getvalue() + stderr.getvalue()
    assert "problems in" not in stdout.getvalue()


@pytest.mark.django_db  # Django's system checks of this project read the database
def test_deploy_runs_djangos_deployment_checks() -> None:
    # Given: the test settings are development settings, which the deployment checks refuse

    # When
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", deploy=True, stdout=io.StringIO(), stderr=io.StringIO())

    # Then: Django's own deployment checks ran (and the project's)
    assert "(security.W004)" in str(raised.value)


@pytest.mark.django_db  # Django's system checks of this project read the database
def test_an_app_label_is_djangos_check_of_that_app() -> None:
    # Given
    stdout, stderr = io.StringIO(), io.StringIO()

    # When
    call_command("check", "catalogue", stdout=stdout, stderr=stderr)

    # Then
    assert "System check identified" in stdout.getvalue() + stderr.getvalue()


def test_the_fast_path_decides_from_the_arguments_alone() -> None:
    # Then
    assert fast_check([]) is None
    assert fast_check(["--deploy"]) is None
    assert fast_check(["catalogue"]) is None
    assert fast_check([str(VALID), "--tag", "security"]) is None
    assert fast_check(["--format", "xml", str(VALID)]) is None
    assert looks_like_paths(["examples/services/"])
    assert looks_like_paths(["new-service.yaml"])
    assert not looks_like_paths(["catalogue", "accounts"])


def _command(*arguments: str, database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    return subprocess.run(
        [sys.executable, "-m", "govserve.cli", "check", *arguments],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:1/unreachable"


def test_the_command_needs_no_database_and_exits_0_1_and_2() -> None:
    # When: the database in the environment cannot be reached
    valid = _command(str(VALID), database_url=UNREACHABLE_DATABASE)
    invalid = _command(str(TYPOS), "--format", "json", database_url=UNREACHABLE_DATABASE)
    missing = _command("no/such/file.yaml", database_url=UNREACHABLE_DATABASE)

    # Then
    assert (valid.returncode, valid.stdout, valid.stderr) == (0, "No problems in 1 file\n", "")
    assert invalid.returncode == 1
    assert json.loads(invalid.stdout)["errors"] == 3
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == "govserve check: No such file or directory: no/such/file.yaml\n"


def test_the_management_command_needs_no_database_either() -> None:
    # When: through Django (an option the fast path leaves to Django), with the database unreachable
    result = _command(str(VALID), "--verbosity", "1", database_url=UNREACHABLE_DATABASE)

    # Then
    assert (result.returncode, result.stdout) == (0, "No problems in 1 file\n")
