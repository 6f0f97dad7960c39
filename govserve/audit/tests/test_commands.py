"""``govserve audit verify|seal|head|export-head|export`` and the standalone verifier."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from govserve.audit.models import AuditEntry
from govserve.audit.sealer import seal_pending
from govserve.audit.tests.conftest import NO_GRACE, record
from govserve.audit.verify import verify_chain

STANDALONE = Path(__file__).resolve().parents[3] / "docs" / "audit_verify_standalone.py"
Attacker = Callable[..., int]


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _standalone(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(STANDALONE), *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_verify_exits_zero_on_an_intact_chain_and_records_the_check(chain: None) -> None:
    record(3)
    seal_pending()
    out, _ = _run("verify")
    assert out.splitlines()[-1].startswith("audit chain intact: 3 sealed entries checked up to #3 (head ")
    verified = AuditEntry.objects.get(action="audit.chain.verified")
    assert (verified.outcome, verified.actor_kind, verified.actor_id) == ("success", "system", "cli")
    assert verified.details == {"checked": 3, "head_id": 3, "problem_count": 0, "problem_ids": [], "unsealed": 0}


def test_verify_exits_one_and_names_each_problem(chain: None, attacker: Attacker) -> None:
    record(4)
    seal_pending()
    attacker("UPDATE audit_auditentry SET outcome = 'denied' WHERE id = 2")
    attacker("DELETE FROM audit_auditentry WHERE id = 3")
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify", stdout=out, stderr=io.StringIO())
    assert failure.value.returncode == 1
    assert str(failure.value) == "the audit chain is NOT intact: 2 problem(s)"
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        "altered: entry 2 was altered: its content or its hash was changed after it was sealed",
        "missing: entry 3 is missing (deleted)",
    ]
    verified = AuditEntry.objects.get(action="audit.chain.verified")
    assert (verified.outcome, verified.details["problem_ids"]) == ("failure", [2, 3])


def test_verify_json_reports_unsealed_entries_with_the_given_age(chain: None) -> None:
    # given two entries never sealed
    record(2)
    # when verified allowing an hour, they are fine; allowing no time at all, both are late
    printed, _ = _run("verify", "--json", "--no-record", "--max-unsealed-age", "1h")
    assert json.loads(printed)["intact"] is True
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--json", "--no-record", "--max-unsealed-age", "0s", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["intact"], report["unsealed"], report["checked"]) == (False, 2, 0)
    assert [(p["kind"], p["entry_id"]) for p in report["problems"]] == [
        ("unsealed_too_long", 1),
        ("unsealed_too_long", 2),
    ]
    assert not AuditEntry.objects.filter(action="audit.chain.verified").exists()


def test_verify_refuses_a_bad_duration_and_a_bad_anchor(chain: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not a duration: '5 minutes'"):
        _run("verify", "--max-unsealed-age", "5 minutes")
    anchor = tmp_path / "head.json"
    anchor.write_text('{"id": 3, "hash": "nothex"}\n')
    with pytest.raises(CommandError, match=r"head\.json:1: hash must be 64 lowercase hexadecimal characters"):
        _run("verify", "--anchor", str(anchor))
    with pytest.raises(CommandError, match="cannot read anchor file"):
        _run("verify", "--anchor", str(tmp_path / "absent.json"))
    assert not AuditEntry.objects.exists()


def test_head_and_export_head_give_the_anchor_that_verify_checks(chain: None, tmp_path: Path) -> None:
    record(2)
    seal_pending()
    out, _ = _run("head")
    head = json.loads(out)
    assert sorted(head) == ["format", "hash", "id", "sealed_at"]
    assert (head["id"], head["hash"]) == (2, AuditEntry.objects.get(id=2).entry_hash)
    assert head["sealed_at"].endswith("Z")
    anchor = tmp_path / "head.json"
    _run("export-head", "--output", str(anchor))
    assert json.loads(anchor.read_text()) == head
    exported = AuditEntry.objects.get(action="audit.chain.head_exported")
    assert exported.details == {"head_id": 2, "head_hash": head["hash"]}
    out, _ = _run("verify", "--anchor", str(anchor), "--no-record")
    assert "audit chain intact" in out


def test_seal_prints_what_it_did(chain: None) -> None:
    record(2)
    out, _ = _run("seal")
    assert out.startswith("sealed 2 entries (0 ids recorded as never committed); chain head #2 ")
    out, _ = _run("seal", "--json")
    assert json.loads(out)["sealed"] == 0


def test_the_standalone_verifier_agrees_on_an_intact_chain(chain: None, tmp_path: Path) -> None:
    record(5, details={"ids": ["a", "é"], "n": 2, "nested": {"b": None, "a": True}}, subject_id='quote " \\ \n')
    seal_pending(hole_grace=NO_GRACE)
    export, head = tmp_path / "entries.jsonl", tmp_path / "head.json"
    _run("export", "--output", str(export))
    _run("export-head", "--output", str(head))
    assert len(export.read_text(encoding="utf-8").splitlines()) == 5
    result = _standalone(str(export), "--head", str(head))
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == (
        f"audit chain intact: 5 entries checked, last entry 5, hash {AuditEntry.objects.get(id=5).entry_hash}"
    )


def test_the_standalone_verifier_finds_what_verify_finds(chain: None, tmp_path: Path, attacker: Attacker) -> None:
    record(6)
    seal_pending()
    attacker("UPDATE audit_auditentry SET subject_id = 'x' WHERE id = 2")
    attacker("DELETE FROM audit_auditentry WHERE id = 4")
    attacker("UPDATE audit_auditentry SET entry_hash = %s WHERE id = 5", ["c" * 64])
    export = tmp_path / "entries.jsonl"
    _run("export", "--output", str(export))
    result = _standalone(str(export))
    assert result.returncode == 1
    standalone = [
        line.split(":")[0] + " " + line.split("entr")[1].split()[1] for line in result.stdout.splitlines()[:-1]
    ]
    assert standalone == ["altered 2", "missing 4", "altered 5", "broken_link 6"]
    with pytest.raises(CommandError):
        _run("verify", "--no-record")
    assert [f"{p.kind} {p.entry_id}" for p in verify_chain().problems] == standalone


def test_the_standalone_verifier_refuses_unreadable_input(tmp_path: Path) -> None:
    export = tmp_path / "entries.jsonl"
    export.write_text("{not json\n")
    result = _standalone(str(export))
    assert result.returncode == 1
    assert result.stdout.startswith("unreadable: line 1 cannot be read as an entry")
    assert _standalone(str(tmp_path / "absent.jsonl")).returncode == 2


def test_a_partial_export_verifies_from_its_first_entry(chain: None, tmp_path: Path) -> None:
    record(4)
    seal_pending()
    export = tmp_path / "entries.jsonl"
    _run("export", "--output", str(export), "--from-id", "3")
    assert [json.loads(line)["id"] for line in export.read_text().splitlines()] == [3, 4]
    result = _standalone(str(export))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "note: partial export from entry 3; its link to entry 2 is not checked"
    with pytest.raises(CommandError, match="--from-id must be at least 1"):
        _run("export", "--from-id", "0")
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        _run("verify", "--workers", "0")
