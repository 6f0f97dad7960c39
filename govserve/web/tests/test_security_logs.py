import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Capture what the configured JSON handler writes (same formatter, a buffer instead of stderr)."""
    root = logging.getLogger()
    [formatter] = [h.formatter for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def _records(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_request_logs_one_json_line_with_its_request_id_and_no_query_values(
    client: Client, log_lines: io.StringIO
) -> None:
    response = client.get(
        "/healthz?email=ada.lovelace%40example.org&token=s3cr3t-t0ken", headers={"X-Request-ID": "req-abcdef123456"}
    )

    assert response.status_code == 200
    raw = log_lines.getvalue()
    assert "ada.lovelace" not in raw
    assert "s3cr3t-t0ken" not in raw
    [finished] = [record for record in _records(log_lines) if record["event"] == "request.finished"]
    assert isinstance(finished["duration_ms"], float)
    assert isinstance(finished["timestamp"], str)
    del finished["duration_ms"], finished["timestamp"]
    assert finished == {
        "event": "request.finished",
        "level": "info",
        "logger": "govserve.access",
        "method": "GET",
        "path": "/healthz",
        "request_id": "req-abcdef123456",
        "route": "healthz",
        "status": 200,
    }


def test_an_unknown_page_is_logged_with_its_path_and_no_route(client: Client, log_lines: io.StringIO) -> None:
    client.get("/nothing/here?q=private-search-term")

    [finished] = [record for record in _records(log_lines) if record["event"] == "request.finished"]
    assert (finished["path"], finished["route"], finished["status"]) == ("/nothing/here", "", 404)
    assert "private-search-term" not in log_lines.getvalue()


def test_logging_at_warning_skips_the_access_line_before_structlog_builds_it(
    client: Client, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real_info = structlog.get_logger("govserve.access").info

    def info(event: str, **values: object) -> None:
        built.append(event)
        real_info(event, **values)

    monkeypatch.setattr("govserve.web.access_log.logger.info", info)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        root.setLevel(level)

    assert built == []
    assert [record for record in _records(log_lines) if record["event"] == "request.finished"] == []
    # and at INFO the line is built and written
    assert client.get("/healthz").status_code == 200
    assert built == ["request.finished"]


@pytest.mark.parametrize(
    "path",
    [
        "/sign-in/link/Zx9-one-time-s3cret-value",
        "/apply/resume/Zx9-one-time-s3cret-value",
        "/staff/set-password/Zx9-one-time-s3cret-value",
        "/staff/set-up-authenticator/Zx9-one-time-s3cret-value",
        "/account/email/confirm/Zx9-one-time-s3cret-value",
        "/payments/return/Zx9-one-time-s3cret-value",
    ],
)
def test_a_one_time_links_secret_never_reaches_the_access_log(
    client: Client, log_lines: io.StringIO, path: str
) -> None:
    client.get(path)

    [finished] = [record for record in _records(log_lines) if record["event"] == "request.finished"]
    assert finished["path"] == path.replace("Zx9-one-time-s3cret-value", "[token]")
    assert str(finished["route"]).endswith("<str:token>")
    assert "s3cr3t" not in log_lines.getvalue()
