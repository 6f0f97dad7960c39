#!/usr/bin/env python3
"""Verify a govserve audit chain export without govserve: Python 3.10+ standard library only.

Input: the JSON-lines file written by ``govserve audit export`` (one sealed
entry per line, in id order), and optionally a chain head exported earlier by
``govserve audit export-head`` (to anchor the chain independently of the
database it came from).

    python3 audit_verify_standalone.py entries.jsonl [--head head.json]

Exit status 0: the chain is intact; 1: problems (printed, one per line); 2: unreadable input.

The canonical bytes of an entry (see docs/audit.md) are the UTF-8 encoding of
the JSON object of its fields below plus ``"format": 1``, keys sorted, no
whitespace, non-ASCII characters unescaped; its hash is
SHA-256(previous_hash as ASCII || canonical bytes) in lowercase hex; the first
entry (id 1) follows 64 zeros.
"""

# ruff: noqa: T201  (a command-line tool: it prints)
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from typing import Any

Problem = tuple[str, int | None, str]

FIELDS = (
    "action",
    "actor_id",
    "actor_is_supplier",
    "actor_kind",
    "details",
    "id",
    "occurred_at",
    "outcome",
    "request_id",
    "sealed_at",
    "subject_id",
    "subject_type",
)
GENESIS = "0" * 64


def canonical_bytes(entry: dict[str, Any]) -> bytes:
    document = {name: entry[name] for name in FIELDS}
    document["format"] = 1
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def _link_problems(entry_id: int, stored_previous: str, expected_id: int | None, previous: str | None) -> list[Problem]:
    """Return the problems of an entry's position: first entry, gap, order, link."""
    if expected_id is None:  # the first entry of the export
        if entry_id == 1 and stored_previous != GENESIS:
            return [("broken_link", 1, "entry 1 does not follow the genesis hash")]
        if entry_id != 1:
            print(f"note: partial export from entry {entry_id}; its link to entry {entry_id - 1} is not checked")
        return []
    if entry_id < expected_id:
        return [("inserted", entry_id, f"entry {entry_id} is out of order (expected {expected_id})")]
    if entry_id > expected_id:
        gap = f"{expected_id}" if entry_id == expected_id + 1 else f"{expected_id}..{entry_id - 1}"
        return [("missing", expected_id, f"entries {gap} are missing (deleted)")]
    if stored_previous != previous:
        return [("broken_link", entry_id, f"entry {entry_id} does not follow entry {entry_id - 1}")]
    return []


def verify(lines: Iterable[str], head: dict[str, Any] | None = None) -> tuple[list[Problem], int, int, str]:
    """Return (problems, entries checked, last id, last hash) for an iterable of JSON lines."""
    problems: list[Problem] = []
    expected_id: int | None = None
    previous: str | None = None
    last_id, last_hash = 0, GENESIS
    checked = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            entry_id = entry["id"]
            stored_previous, stored_hash = entry["previous_hash"], entry["entry_hash"]
            recomputed = hashlib.sha256(stored_previous.encode("ascii") + canonical_bytes(entry)).hexdigest()
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeError) as error:
            problems.append(("unreadable", None, f"line {number} cannot be read as an entry: {error}"))
            continue
        checked += 1
        position = _link_problems(entry_id, stored_previous, expected_id, previous)
        problems.extend(position)
        if position and position[0][0] == "inserted":
            continue
        if recomputed != stored_hash:
            problems.append(("altered", entry_id, f"entry {entry_id} was altered: its hash does not match its content"))
        expected_id = entry_id + 1
        previous = stored_hash
        last_id, last_hash = entry_id, stored_hash
    if head is not None and head.get("id"):
        if head["id"] > last_id:
            message = f"the anchored head is entry {head['id']}, the export ends at {last_id}"
            problems.append(("missing", last_id + 1, message))
        elif head["id"] == last_id and head["hash"] != last_hash:
            problems.append(("anchor_mismatch", last_id, f"entry {last_id} does not have the anchored hash"))
    return problems, checked, last_id, last_hash


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a govserve audit chain export (JSON lines).")
    parser.add_argument("export", help="file written by `govserve audit export`")
    parser.add_argument("--head", help="chain head written earlier by `govserve audit export-head`")
    arguments = parser.parse_args(argv)
    try:
        head = None
        if arguments.head:
            with open(arguments.head, encoding="utf-8") as handle:
                head = json.loads(handle.read().strip().splitlines()[-1])
        with open(arguments.export, encoding="utf-8") as handle:
            problems, checked, last_id, last_hash = verify(handle, head)
    except (OSError, ValueError) as error:
        print(f"cannot read input: {error}", file=sys.stderr)
        return 2
    for kind, _entry_id, message in problems:
        print(f"{kind}: {message}")
    verdict = "intact" if not problems else f"NOT intact ({len(problems)} problem(s))"
    print(f"audit chain {verdict}: {checked} entries checked, last entry {last_id}, hash {last_hash}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
