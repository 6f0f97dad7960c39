"""The operator verbs publish, retire, export, import and diff: output and exit statuses (0, 1, 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from govserve.catalogue.models import CatalogueVersion, Service, ServiceVersion
from govserve.catalogue.tests.support_versions import (
    PITCH_SIZE_FIELD,
    SERVICE_ID,
    goods_catalogue_text,
    institution_create,
    run_cli,
    service_text,
)

pytestmark = pytest.mark.django_db

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    institution_create()
    paths = {
        "service": tmp_path / "market-stall.yaml",
        "service_v2": tmp_path / "v2" / "market-stall.yaml",
        "goods": tmp_path / "goods.yaml",
        "broken": tmp_path / "broken.yaml",
    }
    paths["service_v2"].parent.mkdir()
    paths["service"].write_text(service_text(), encoding="utf-8")
    paths["service_v2"].write_text(service_text(extra_field=PITCH_SIZE_FIELD), encoding="utf-8")
    paths["goods"].write_text(goods_catalogue_text(), encoding="utf-8")
    paths["broken"].write_text(service_text().replace("sign_in: required", "sign_in: maybe"), encoding="utf-8")
    return paths


# --- publish -----------------------------------------------------------------------------


def test_publish_publishes_catalogues_first_and_exits_0(capsys: Capsys, files: dict[str, Path]) -> None:
    # given a service and the catalogue it uses, named in that order
    status, out, err = run_cli(capsys, "publish", str(files["service"]), str(files["goods"]), "--reason", "Launch")

    # then the catalogue was published first, then the service, each with a line
    version = ServiceVersion.objects.get()
    catalogue = CatalogueVersion.objects.get()
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        f"Published catalogue goods version 1 (content {catalogue.content_hash[:12]})",
        f"Published market-stall version 1 (content {version.content_hash[:12]})",
    ]
    assert (version.publish_reason, catalogue.publish_reason) == ("Launch", "Launch")


def test_publish_without_a_reason_records_where_it_came_from(capsys: Capsys, files: dict[str, Path]) -> None:
    status, _, _ = run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))

    assert status == 0
    assert ServiceVersion.objects.get().publish_reason == "Published from market-stall.yaml with govserve publish"


def test_publish_of_unchanged_content_exits_1_with_the_reason(capsys: Capsys, files: dict[str, Path]) -> None:
    run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))

    status, out, err = run_cli(capsys, "publish", str(files["service"]))

    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{files['service']}: refused",
        "version_unchanged: Service 'market-stall' version 1 already has exactly this content "
        f"(hash {ServiceVersion.objects.get().content_hash[:12]}): nothing to publish.",
        "CommandError: 1 of 1 file(s) refused",
    ]
    assert ServiceVersion.objects.count() == 1


def test_publish_of_an_invalid_definition_prints_each_problem_and_exits_1(
    capsys: Capsys, files: dict[str, Path]
) -> None:
    run_cli(capsys, "publish", str(files["goods"]))

    status, _, err = run_cli(capsys, "publish", str(files["broken"]))

    assert status == 1
    lines = err.splitlines()
    assert lines[0] == f"{files['broken']}: refused"
    assert lines[1].startswith("broken.yaml:6:10: error schema.invalid_value sign_in: `sign_in` must be one of")
    assert lines[2].startswith("definition_invalid: The service definition has 1 error(s)")
    assert not ServiceVersion.objects.exists()


def test_publish_goes_on_with_the_other_files_after_a_refusal(capsys: Capsys, files: dict[str, Path]) -> None:
    status, out, _ = run_cli(capsys, "publish", str(files["broken"]), str(files["goods"]), str(files["service"]))

    assert status == 1
    assert out.splitlines()[-1].startswith("Published market-stall version 1")


def test_publish_usage_errors_exit_2(capsys: Capsys, files: dict[str, Path]) -> None:
    status, _, err = run_cli(capsys, "publish")
    assert status == 2
    assert "the following arguments are required: PATH" in err

    status, _, err = run_cli(capsys, "publish", str(files["service"].parent / "missing.yaml"))
    assert status == 2
    assert f"no such file or directory: {files['service'].parent / 'missing.yaml'}" in err

    empty = files["service"].parent / "empty"
    empty.mkdir()
    status, _, err = run_cli(capsys, "publish", str(empty))
    assert status == 2
    assert f"no definition files (*.yaml, *.yml) under {empty}" in err
    assert not ServiceVersion.objects.exists()


def test_publish_takes_directories(capsys: Capsys, files: dict[str, Path], tmp_path: Path) -> None:
    # given a directory holding the service (in a subdirectory) and its catalogue
    directory = tmp_path / "definitions"
    (directory / "services").mkdir(parents=True)
    (directory / "services" / "market-stall.yml").write_text(service_text(), encoding="utf-8")
    (directory / "goods.yaml").write_text(goods_catalogue_text(), encoding="utf-8")
    (directory / "README.md").write_text("not a definition", encoding="utf-8")

    status, out, err = run_cli(capsys, "publish", str(directory))

    assert (status, err) == (0, "")
    assert [line.split(" (")[0] for line in out.splitlines()] == [
        "Published catalogue goods version 1",
        "Published market-stall version 1",
    ]


# --- retire ------------------------------------------------------------------------------


def test_retire_exits_0_then_1_when_already_retired(capsys: Capsys, files: dict[str, Path]) -> None:
    run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))

    assert run_cli(capsys, "retire", SERVICE_ID, "--reason", "Replaced") == (
        0,
        "Retired market-stall: closed to new applications\n",
        "",
    )
    assert Service.objects.get().retire_reason == "Replaced"

    status, _, err = run_cli(capsys, "retire", SERVICE_ID)
    assert status == 1
    assert "service_retired: Service 'market-stall' is already retired." in err


def test_retire_of_an_unknown_service_exits_1_and_without_one_exits_2(capsys: Capsys, files: dict[str, Path]) -> None:
    status, _, err = run_cli(capsys, "retire", "no-such-service")
    assert status == 1
    assert "service_not_found: There is no service 'no-such-service'." in err

    assert run_cli(capsys, "retire")[0] == 2


# --- export, import ----------------------------------------------------------------------


def test_export_to_stdout_and_to_a_file(capsys: Capsys, files: dict[str, Path], tmp_path: Path) -> None:
    run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))

    status, printed, err = run_cli(capsys, "export", SERVICE_ID)
    assert (status, err) == (0, "")
    assert json.loads(printed)["definition"]["text"] == service_text()

    target = tmp_path / "bundle.json"
    status, out, err = run_cli(capsys, "export", SERVICE_ID, "--version", "1", "-o", str(target))
    assert (status, out, err) == (0, "", f"Exported market-stall version 1 to {target}\n")
    assert target.read_text(encoding="utf-8") == printed


def test_export_refusals_and_usage_errors(capsys: Capsys, files: dict[str, Path]) -> None:
    run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))

    status, _, err = run_cli(capsys, "export", SERVICE_ID, "--version", "2")
    assert status == 1
    assert "version_not_found: Service 'market-stall' has no published version 2." in err
    for bad in ("0", "two"):
        status, _, err = run_cli(capsys, "export", SERVICE_ID, "--version", bad)
        assert status == 2
        assert "argument --version" in err


def test_import_round_trip_on_a_fresh_database(capsys: Capsys, files: dict[str, Path], tmp_path: Path) -> None:
    # given an exported bundle, and the catalogue emptied as on a fresh database
    run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))
    original_hash = ServiceVersion.objects.get().content_hash
    bundle = tmp_path / "bundle.json"
    run_cli(capsys, "export", SERVICE_ID, "-o", str(bundle))
    with connection.cursor() as cursor:
        for table in ("pinnedcatalogue", "serviceversion", "catalogueversion", "catalogue", "service"):
            cursor.execute(f"DELETE FROM catalogue_{table}")  # noqa: S608 - fixed table names

    # when it is imported
    status, out, err = run_cli(capsys, "import", str(bundle))

    # then the same content hash is published again
    assert (status, err) == (0, "")
    assert out == f"Imported market-stall as version 1 (content {original_hash[:12]})\n"
    assert ServiceVersion.objects.get().content_hash == original_hash


def test_import_refusals_exit_1_and_usage_errors_exit_2(capsys: Capsys, files: dict[str, Path], tmp_path: Path) -> None:
    not_a_bundle = tmp_path / "not-a-bundle.json"
    not_a_bundle.write_text("{}", encoding="utf-8")

    status, _, err = run_cli(capsys, "import", str(not_a_bundle))
    assert status == 1
    assert "bundle_invalid: This is not a govserve definition bundle" in err

    assert run_cli(capsys, "import", str(tmp_path / "missing.json"))[0] == 2
    assert run_cli(capsys, "import")[0] == 2


# --- diff --------------------------------------------------------------------------------


def test_diff_prints_the_changes_and_exits_0(capsys: Capsys, files: dict[str, Path]) -> None:
    run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))
    run_cli(capsys, "publish", str(files["service_v2"]))

    assert run_cli(capsys, "diff", SERVICE_ID, "1", "2") == (
        0,
        "Page 'trading-details': field 'pitch_size' added (number, required)\n",
        "",
    )
    status, out, _ = run_cli(capsys, "diff", SERVICE_ID, "1", "2", "--format", "json")
    assert (status, json.loads(out)) == (
        0,
        [
            {
                "area": "field",
                "action": "added",
                "subject": "Page 'trading-details': field 'pitch_size'",
                "detail": "added (number, required)",
            }
        ],
    )
    assert run_cli(capsys, "diff", SERVICE_ID, "2", "2") == (0, "No changes.\n", "")


def test_diff_refusals_and_usage_errors(capsys: Capsys, files: dict[str, Path]) -> None:
    run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))

    status, _, err = run_cli(capsys, "diff", SERVICE_ID, "1", "9")
    assert status == 1
    assert "version_not_found" in err
    assert run_cli(capsys, "diff", SERVICE_ID, "1")[0] == 2
    assert run_cli(capsys, "diff", SERVICE_ID, "one", "2")[0] == 2


# --- a real process ----------------------------------------------------------------------


def test_the_installed_command_exits_2_on_a_usage_error() -> None:
    # The real entry point in its own process: argparse's exit status reaches the shell.
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "govserve"), "export"],
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        timeout=120,
    )
    assert completed.returncode == 2
    assert "the following arguments are required: SERVICE" in completed.stderr


def test_publish_prints_warnings_on_stderr_and_still_publishes(capsys: Capsys, files: dict[str, Path]) -> None:
    # given a definition with a message that can never be shown (a warning, not an error)
    warned = service_text(
        extra_field=(
            "      - id: stall_name\n        type: text\n        label: Stall name\n        classification: public\n"
            "        validation:\n          required: false\n          messages:\n            required: Enter a name\n"
        )
    )
    files["service"].write_text(warned, encoding="utf-8")

    status, out, err = run_cli(capsys, "publish", str(files["goods"]), str(files["service"]))

    assert status == 0
    assert out.splitlines()[-1].startswith("Published market-stall version 1")
    assert err.splitlines() == [
        "market-stall.yaml:41:13: warning field.unused_message pages[1].fields[1].validation.messages.required: "
        "The `required` message is never shown: the field is optional"
    ]
