"""scripts/result_verify.py (stdlib + cryptography only) agrees with the server on every code."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import random
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command

from govserve.casework.results import signing

SCRIPT = Path(__file__).resolve().parents[4] / "scripts" / "result_verify.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("result_verify", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _published_keys(output_format: str) -> str:
    out = io.StringIO()
    call_command("results", "keys", "--format", output_format, stdout=out)
    return out.getvalue()


@pytest.fixture
def rotated(settings: Any) -> list[str]:
    entries = [signing.generate_key_entry("k2026"), signing.generate_key_entry("k2025")]
    settings.GOVSERVE_RESULT_SIGNING_KEYS = entries
    return entries


def _codes() -> list[str]:
    ring = signing.key_ring()
    rng = random.Random(5)
    genuine = [
        signing.code_sign(result_id=uuid.UUID(int=rng.getrandbits(128)), issued_on=dt.date(2026, 1, 1), key=key)[0]
        for key in ring.by_id.values()
    ]
    codes = list(genuine)
    for code in genuine:
        raw = signing.code_bytes(code)
        assert raw is not None
        for _ in range(40):
            position = rng.randrange(len(raw))
            codes.append(
                signing.code_text(
                    raw[:position] + bytes([raw[position] ^ (1 << rng.randrange(8))]) + raw[position + 1 :]
                )
            )
        codes.extend([code[:-1], code[: len(code) // 2], code + "a", code.upper(), f"https://x.example/verify/{code}"])
    other = signing.parse_signing_keys([signing.generate_key_entry("k2026")]).active
    codes.append(signing.code_sign(result_id=uuid.uuid4(), issued_on=dt.date(2026, 1, 1), key=other)[0])
    codes.extend(["", "garbage", "é", "a" * 500])
    return codes


@pytest.mark.parametrize("output_format", ["jwk", "pem"])
def test_the_offline_verifier_agrees_with_the_server(rotated: list[str], output_format: str) -> None:
    script = _script()
    keys = script.load_keys(_published_keys(output_format))
    assert sorted(keys) == ["k2025", "k2026"]

    disagreements = []
    genuine_count = 0
    for code in _codes():
        server = signing.code_verify(signing_text := code.split("/verify/")[-1])
        offline = script.verify(code, keys)
        expected = (
            None
            if server is None
            else {
                "key_id": server.key_id,
                "result_id": str(server.result_id),
                "issued_on": server.issued_on.isoformat(),
            }
        )
        genuine_count += expected is not None
        if offline != expected:
            disagreements.append(signing_text)

    assert disagreements == []
    assert genuine_count >= 6


def _altered(code: str) -> str:
    """Return ``code`` with one data character changed (the 20th: inside the result id)."""
    return code[:19] + ("b" if code[19] != "b" else "c") + code[20:]


def test_the_verifier_runs_as_a_command(rotated: list[str], tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(_published_keys("jwk"), encoding="utf-8")
    result_id = uuid.uuid4()
    code, _ = signing.code_sign(result_id=result_id, issued_on=dt.date(2026, 11, 27))

    genuine = subprocess.run(
        [sys.executable, str(SCRIPT), "--keys", str(keys), code], capture_output=True, text=True, check=False
    )
    forged = subprocess.run(
        [sys.executable, str(SCRIPT), "--keys", str(keys), _altered(code)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert genuine.returncode == 0
    assert genuine.stdout.strip() == f"genuine: result {result_id} issued on 2026-11-27, signed with key k2026"
    assert forged.returncode == 1
    assert forged.stdout.startswith("not genuine")
