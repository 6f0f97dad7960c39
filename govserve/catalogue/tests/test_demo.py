"""``govserve demo`` and ``serve``: preparing is idempotent, zero examples work, the real demo runs and stops."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from govserve.accounts.models import RoleAssignment, User
from govserve.catalogue.definitions.loader import load_definition_text
from govserve.catalogue.demo import demo_prepare, demo_url, roles_by_institution
from govserve.catalogue.management.commands.serve import gunicorn_command
from govserve.catalogue.models import CatalogueVersion, ServiceVersion
from govserve.catalogue.tests.support_versions import (
    PITCH_SIZE_FIELD,
    goods_catalogue_text,
    run_cli,
    service_text,
)

PROJECT_EXAMPLES = Path(settings.BASE_DIR) / "examples"


@pytest.fixture
def demo_on(settings: Any) -> None:
    settings.GOVSERVE_DEMO = True


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    root = tmp_path / "examples"
    (root / "services").mkdir(parents=True)
    (root / "catalogues").mkdir()
    (root / "services" / "market-stall.yaml").write_text(service_text(), encoding="utf-8")
    (root / "catalogues" / "goods.yaml").write_text(goods_catalogue_text(), encoding="utf-8")
    return root


def _quiet(message: str) -> None:
    del message


def test_roles_by_institution_names_every_institution_and_only_human_roles() -> None:
    text = service_text(institution="city-council").replace(
        "        send_back: applicant\n",
        "        send_back: applicant\n"
        "    - id: checker\n      name: Checker\n      kind: bot\n      institution: health-agency\n"
        "      rule: 'true'\n      decisions:\n        approve: end\n        reject: end\n",
    )
    definition = load_definition_text(text, filename="x.yaml").definition
    assert definition is not None

    assert roles_by_institution([definition]) == {"city-council": {"licensing_officer"}, "health-agency": set()}


@pytest.mark.django_db
def test_demo_prepare_publishes_catalogues_then_services_and_creates_accounts(demo_on: None, examples: Path) -> None:
    report = demo_prepare(examples=examples, say=_quiet, migrate=False)

    assert [(path.name, kind, detail) for path, kind, detail in report.outcomes] == [
        ("goods.yaml", "published", "published goods version 1"),
        ("market-stall.yaml", "published", "published version 1"),
    ]
    assert ServiceVersion.objects.get().publish_reason == "Published by govserve demo"
    officer = User.objects.get(username="city-council-licensing-officer")
    assert list(RoleAssignment.objects.filter(user=officer).values_list("institution__code", "role")) == [
        ("city-council", "licensing_officer")
    ]
    assert "city-council-licensing-officer  password: demo-staff-password-2026" in report.sign_ins
    assert "otpauth://totp/" in report.sign_ins


@pytest.mark.django_db
def test_demo_prepare_again_publishes_nothing_unchanged_and_the_next_version_of_a_change(
    demo_on: None, examples: Path
) -> None:
    # given the demo prepared once
    demo_prepare(examples=examples, say=_quiet, migrate=False)

    # when it runs again unchanged, then with one example changed
    again = demo_prepare(examples=examples, say=_quiet, migrate=False)
    (examples / "services" / "market-stall.yaml").write_text(
        service_text(extra_field=PITCH_SIZE_FIELD), encoding="utf-8"
    )
    changed = demo_prepare(examples=examples, say=_quiet, migrate=False)

    # then nothing was republished, and the change became version 2
    assert [kind for _, kind, _ in again.outcomes] == ["unchanged", "unchanged"]
    assert [(kind, detail) for _, kind, detail in changed.outcomes] == [
        ("unchanged", "unchanged"),
        ("published", "published version 2"),
    ]
    assert list(ServiceVersion.objects.values_list("number", flat=True)) == [1, 2]
    assert CatalogueVersion.objects.count() == 1


@pytest.mark.django_db
def test_demo_prepare_with_zero_examples_still_creates_the_accounts(demo_on: None, tmp_path: Path) -> None:
    report = demo_prepare(examples=tmp_path, say=_quiet, migrate=False)

    assert report.outcomes == []
    assert not ServiceVersion.objects.exists()
    assert User.objects.filter(username="demo-admin").exists()
    assert "citizen@example.org" in report.sign_ins


@pytest.mark.django_db
def test_demo_refuses_to_serve_when_an_example_is_broken(
    demo_on: None, examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an example that does not pass check
    broken = service_text().replace("sign_in: required", "sign_in: maybe")
    (examples / "services" / "market-stall.yaml").write_text(broken, encoding="utf-8")

    # when the demo runs (prepare only: it must stop before serving anyway)
    status, _out, err = run_cli(capsys, "demo", "--examples", str(examples), "--prepare-only")

    # then it exits 1 naming the file and its problem; the good catalogue was published
    assert status == 1
    assert f"{examples / 'services' / 'market-stall.yaml'}: refused" in err
    assert "market-stall.yaml:6:10: error schema.invalid_value sign_in" in err
    assert "1 example(s) could not be published" in err
    assert not ServiceVersion.objects.exists()
    assert CatalogueVersion.objects.count() == 1


@pytest.mark.django_db
def test_demo_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_cli(capsys, "demo", "--port", "0")[0] == 2
    assert run_cli(capsys, "demo", "--port", "http")[0] == 2
    assert run_cli(capsys, "demo", "--examples", str(tmp_path / "missing"))[0] == 2
    assert run_cli(capsys, "serve", "--workers", "0")[0] == 2


def test_demo_url_and_the_server_command() -> None:
    assert demo_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/"  # noqa: S104 - a value, not a bind
    assert demo_url("::", 8080) == "http://[::1]:8080/"
    assert demo_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert gunicorn_command(host="::1", port=9000, workers=3)[3:8] == [
        "config.wsgi:application",
        "--bind",
        "[::1]:9000",
        "--workers",
        "3",
    ]
    assert "--no-control-socket" in gunicorn_command(host="127.0.0.1", port=8000, workers=1)


# --- The real thing: `govserve demo` in its own process ------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def demo_dir() -> Iterator[Path]:
    # A RAM-backed directory when there is one: the demo's SQLite is fsync-heavy by design.
    shared_memory = Path("/dev/shm")  # noqa: S108 - a private mkdtemp below it, removed afterwards
    base = shared_memory if shared_memory.is_dir() else None
    path = Path(tempfile.mkdtemp(prefix="govserve-demo-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_demo_serves_the_examples_prints_the_sign_ins_and_stops_cleanly(demo_dir: Path) -> None:
    # given a fresh embedded database and a free port
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "GOVSERVE_DEMO": "1",
        "GOVSERVE_VAR_DIR": str(demo_dir),
        "DATABASE_URL": f"sqlite:///{demo_dir / 'demo.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "govserve.cli", "demo", "--host", "127.0.0.1", "--port", str(port)]

    # when the demo starts
    process = subprocess.Popen(
        command, env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        output = "\n".join(lines)
        errors = process.stderr.read() if process.stderr is not None and process.poll() is not None else ""
        assert lines, errors
        assert lines[-1].startswith("Press Ctrl-C"), output + errors

        # then it printed the URL, the process ids and the demo sign-ins, and serves
        url = f"http://127.0.0.1:{port}/"
        assert f"govserve is running at {url}" in lines
        assert f"Staff sign-in: {url}staff/sign-in" in lines
        for example in sorted((PROJECT_EXAMPLES / "services").glob("*.yaml")):
            assert f"govserve demo:   {example.name}: published version 1" in lines
        assert re.search(r"staff   demo-admin  password: \S+", output)
        assert re.search(r"TOTP secret: [A-Z2-7]{16,}", output)
        assert "otpauth://totp/govserve" in output
        assert "citizen citizen@example.org" in output
        pids = [int(pid) for pid in re.findall(r"pid (\d+)", output)]
        assert len(pids) == 2
        with urllib.request.urlopen(f"{url}readyz", timeout=10) as response:  # noqa: S310 - http, our server
            assert response.status == 200
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200

        # when a second demo is started on the same database and port
        second = subprocess.run(
            command, check=False, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=240
        )

        # then it publishes nothing (every example unchanged) and refuses the port in use, exit 1
        for example in sorted((PROJECT_EXAMPLES / "services").glob("*.yaml")):
            assert f"govserve demo:   {example.name}: unchanged" in second.stdout
        assert second.returncode == 1
        assert f"port {port} on 127.0.0.1 is in use" in second.stderr
        assert "Starting the web server" not in second.stdout
        with urllib.request.urlopen(f"{url}readyz", timeout=10) as response:  # noqa: S310 - http, our server
            assert response.status == 200

        # when the first one is told to stop
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)

        # then it exits 0 and neither the server nor the worker is left running
        assert status == 0
        assert [pid for pid in pids if _alive(pid)] == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with contextlib.suppress(Exception):
            for pid in re.findall(r"pid (\d+)", "\n".join(lines)):
                if _alive(int(pid)):
                    os.kill(int(pid), signal.SIGKILL)


def test_serve_refuses_to_start_with_unsafe_production_settings(tmp_path: Path) -> None:
    # given production settings without encryption keys (and other deployment errors)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"GOVSERVE_KEYS", "GOVSERVE_BLIND_INDEX_KEY", "DATABASE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 64,
        LOG_LEVEL="WARNING",
        GOVSERVE_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    )
    port = _free_port()

    # when the production server is started
    completed = subprocess.run(
        [sys.executable, "-m", "govserve.cli", "serve", "--port", str(port), "--workers", "1"],
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
        env=env,
        timeout=120,
    )

    # then the deployment checks refuse it before gunicorn starts
    assert completed.returncode == 1
    assert "(privacy.E001) GOVSERVE_KEYS is empty" in completed.stderr
    assert "gunicorn" not in completed.stderr
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
