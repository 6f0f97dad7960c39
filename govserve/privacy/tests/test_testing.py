"""The raw plaintext scanner other apps' tests rely on: it must find what is there."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from govserve.privacy import testing
from govserve.privacy.crypto import seal
from govserve.privacy.testing import assert_no_plaintext, needles_for, plaintext_scan

pytestmark = pytest.mark.django_db

VALUE = "Siân Llŷr-Jones"


def findings_in(directory: Path) -> list[tuple[int, str, str]]:
    report = plaintext_scan([VALUE], directories=[directory], database_files=False)
    return sorted(
        (f.value_index, f.encoding, Path(f.where.split(" offset ")[0].removeprefix("file ")).name)
        for f in report.findings
    )


def test_needles_cover_the_usual_encodings() -> None:
    forms = {needle.encoding for needle in needles_for([VALUE])}

    assert forms == {"utf-8", "utf-16-le", "utf-16-be", "json-escaped", "base64@0", "base64@1", "base64@2"}


@pytest.mark.parametrize(
    ("name", "content", "encoding"),
    [
        ("plain.txt", f"prefix {VALUE} suffix".encode(), "utf-8"),
        ("utf16.bin", f"xx{VALUE}yy".encode("utf-16-le"), "utf-16-le"),
        ("json.json", json.dumps({"name": VALUE}).encode("ascii"), "json-escaped"),
        ("b64-0.txt", base64.b64encode(VALUE.encode()), "base64@0"),
        ("b64-1.txt", base64.b64encode(b"a" + VALUE.encode()), "base64@2"),
        ("b64-2.txt", base64.b64encode(b"ab" + VALUE.encode()), "base64@1"),
    ],
)
def test_a_directory_scan_finds_each_encoding(tmp_path: Path, name: str, content: bytes, encoding: str) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / name).write_bytes(content)

    assert findings_in(tmp_path) == [(0, encoding, name)]


def test_a_value_across_a_chunk_boundary_is_found_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testing, "_CHUNK", 16)
    (tmp_path / "big.bin").write_bytes(b"x" * 10 + VALUE.encode() + b"y" * 40 + VALUE.encode())

    report = plaintext_scan([VALUE], directories=[tmp_path], database_files=False)

    assert sorted(f.where.rsplit(" ", 1)[1] for f in report.findings if f.encoding == "utf-8") == ["10", "67"]


def test_a_sealed_file_is_not_a_finding(tmp_path: Path) -> None:
    (tmp_path / "sealed.bin").write_bytes(seal(owner="document:scan", field="content", plaintext=VALUE * 50))

    report = assert_no_plaintext([VALUE], directories=[tmp_path], database_files=False)

    assert report.files == (str(tmp_path / "sealed.bin"),)
    assert report.file_bytes == len(VALUE.encode()) * 50 + 45


def test_values_too_short_to_scan_for_are_refused() -> None:
    with pytest.raises(ValueError, match="value 1 is shorter than 8 bytes"):
        plaintext_scan(["long enough", "short"])


def test_an_empty_list_of_values_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        plaintext_scan([])


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a directory"):
        plaintext_scan([VALUE], directories=[tmp_path / "missing"])


def test_a_database_without_reachable_files_is_scanned_through_its_tables() -> None:
    report = plaintext_scan([VALUE])

    assert report.files == ()
    assert "privacy_datakey" in report.tables
