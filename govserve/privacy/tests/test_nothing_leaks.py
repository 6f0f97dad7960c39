"""Issue 8: after the example journeys, casework, payments and notifications, no personal value is anywhere in clear.

The run and the scan are :mod:`govserve.privacy.tests.leak_scenario`'s. On
SQLite it runs in a subprocess on a database file in WAL mode (the file and
its WAL are read byte by byte, free pages included); on PostgreSQL in this
process (every table through raw SQL). Both scan the upload directory and the
log records captured at DEBUG. Each assertion that nothing was found is paired
with one that the values really went through (shown to staff and the
applicant, emailed), so an empty scan means sealed, not absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from govserve.privacy.tests import leak_scenario

RESULT_MARKER = "LEAK-SCAN-RESULT "
_ENTRY = (
    "import json, sys, django; django.setup(); "
    "from govserve.privacy.tests.leak_scenario import main; "
    f"print({RESULT_MARKER!r} + json.dumps(main(sys.argv[1]), default=str))"
)

pytestmark = pytest.mark.slow


def _on_a_sqlite_file(directory: Path) -> dict[str, Any]:
    environment = dict(os.environ)
    environment["DATABASE_URL"] = f"sqlite:///{directory / 'leak.sqlite3'}"
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    completed = subprocess.run(
        [sys.executable, "-c", _ENTRY, str(directory)],
        env=environment,
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        output = f"{completed.stdout[-4000:]}\n{completed.stderr[-6000:]}"
        msg = f"the leak scenario failed ({completed.returncode}):\n{output}"
        raise AssertionError(msg)
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    # whatever the process printed (warnings, tracebacks, a stray print) is searched too
    output = completed.stdout.replace(lines[-1], "") + completed.stderr
    result["values_in_output"] = [value for value in leak_scenario.PERSONAL_VALUES if value in output]
    return result


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("leak-scan")
    result = _on_a_sqlite_file(directory)
    result["directory"] = str(directory)
    return result


def _assert_went_through_and_nothing_leaked(result: dict[str, Any]) -> None:
    # the values really went through the product ...
    assert result["shown"] == {
        "applicant_page_shows_the_answers": True,
        "file_view_shows_the_answers": True,
        "subject_access_export_holds_the_answers": True,
    }
    assert set(result["statuses"].values()) == {"approved", "sent_back", "rejected"}, result["statuses"]
    assert result["emails"] >= 6
    emailed = {"Ada Lovelace", "Charles Babbage", "Reported by Charles Babbage: a private light"}
    assert emailed <= set(result["values_in_emails"])
    assert result["media_files"] >= 6  # photo, four documents, the licence PDF, the sealed subject access zip
    assert result["log_records"] > 0
    # ... every table was read, task arguments and notification records among them ...
    tables = set(result["scan"]["tables"])
    for table in (
        "journeys_answer",
        "documents_document",
        "casework_message",
        "casework_note",
        "casework_decision",
        "notifications_outboundemail",
        "payments_payment",
        "payments_sandboxpayment",
        "core_jobrecord",
        "django_tasks_database_dbtaskresult",
        "audit_auditentry",
        "accounts_citizen",
    ):
        assert table in tables, table
    assert result["jobs"] > 0
    # ... and none of them is anywhere in clear
    assert result["scan"]["findings"] == []
    assert result["values_in_logs"] == []


def test_nothing_personal_is_in_the_sqlite_file_its_wal_the_uploads_or_the_logs(sqlite_run: dict[str, Any]) -> None:
    result = sqlite_run

    _assert_went_through_and_nothing_leaked(result)
    files = {Path(name).name for name in result["scan"]["files"]}
    assert {"leak.sqlite3", "leak.sqlite3-wal"} <= files
    assert result["scan"]["file_bytes"] > result["media_bytes"]
    assert result["values_in_output"] == []


@pytest.mark.django_db(transaction=True)
def test_nothing_personal_is_in_any_postgresql_table_the_uploads_or_the_logs(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs this on a database file in a subprocess (the test above)")
    media = tmp_path / "media"
    media.mkdir()

    result = leak_scenario.everything_run(media)

    _assert_went_through_and_nothing_leaked(result)
    assert result["scan"]["files"] == [str(path) for path in sorted(media.rglob("*")) if path.is_file()]
