"""File names: attacks refused, everything else made safe to store and show."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govserve.documents.errors import FileNameError
from govserve.documents.filenames import MAX_DISPLAY_LENGTH, filename_check, filename_display

JPEG = ("jpg", "jpeg", "jpe")
PDF = ("pdf",)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("../../etc/passwd.pdf", "path_traversal"),
        ("..\\..\\boot.ini.pdf", "path_traversal"),
        ("a/../b.pdf", "path_traversal"),
        (" .. /x.pdf", "path_traversal"),
        ("evil.html\x00.pdf", "forbidden_character"),
        ("line\nbreak.pdf", "forbidden_character"),
        ("tab\there.pdf", "forbidden_character"),
        ("del\x7f.pdf", "forbidden_character"),
        ("c1\x85.pdf", "forbidden_character"),
        ("invoice\u202efdp.exe", "forbidden_character"),
        ("isolate\u2066x\u2069.pdf", "forbidden_character"),
        ("mark\u200f.pdf", "forbidden_character"),
        ("surrogate\udc80.pdf", "forbidden_character"),
        ("nonchar\ufffe.pdf", "forbidden_character"),
        ("a" * 1025, "too_long"),
    ],
)
def test_attack_names_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(FileNameError) as refused:
        filename_check(raw)
    assert refused.value.reason == reason
    assert refused.value.message == "The file name contains characters we cannot accept"
    assert refused.value.code == "file_name"


@pytest.mark.parametrize(
    ("raw", "extensions", "shown"),
    [
        ("passport.pdf", PDF, "passport.pdf"),
        ("Passport.PDF", PDF, "Passport.pdf"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo.JPG", JPEG, "photo.jpg"),
        ("scan.jfif", JPEG, "scan.jfif.jpg"),
        ("invoice.exe", PDF, "invoice.exe.pdf"),
        ("no extension", PDF, "no extension.pdf"),
        ("C:\\Users\\ada\\Desktop\\birth certificate.pdf", PDF, "birth certificate.pdf"),
        ("/home/ada/scan.pdf", PDF, "scan.pdf"),
        ('what?<is>:"this"|*.pdf', PDF, "what__is___this___.pdf"),
        ("   lots    of\u00a0space   .pdf", PDF, "lots of space.pdf"),
        (".hidden.pdf", PDF, "hidden.pdf"),
        ("...", PDF, "document.pdf"),
        ("", PDF, "document.pdf"),
        ("CON.pdf", PDF, "_CON.pdf"),
        ("nul.tar.pdf", PDF, "_nul.tar.pdf"),
        ("com1.pdf", PDF, "_com1.pdf"),
        ("console.pdf", PDF, "console.pdf"),
        ("Cafe\u0301.pdf", PDF, "Café.pdf"),
        ("Zo\u00eb\u2019s \u51fa\u751f.pdf", PDF, "Zo\u00eb\u2019s \u51fa\u751f.pdf"),
    ],
)
def test_acceptable_names_are_made_safe_and_end_with_the_sniffed_extension(
    raw: str, extensions: tuple[str, ...], shown: str
) -> None:
    assert filename_display(raw, extensions=extensions) == shown


def test_a_long_name_is_cut_keeping_its_extension() -> None:
    shown = filename_display("x" * 400 + ".pdf", extensions=PDF)
    assert len(shown) == MAX_DISPLAY_LENGTH
    assert shown == "x" * (MAX_DISPLAY_LENGTH - 4) + ".pdf"


@given(st.text(max_size=300))
def test_any_accepted_name_is_safe_to_show(raw: str) -> None:
    try:
        shown = filename_display(raw, extensions=JPEG)
    except FileNameError:
        return
    assert 5 <= len(shown) <= MAX_DISPLAY_LENGTH
    assert shown.rsplit(".", 1)[1] in JPEG
    assert "/" not in shown
    assert "\\" not in shown
    assert not shown.startswith((".", " "))
    assert all(unicodedata.category(character) not in {"Cc", "Cs"} for character in shown)
    assert not any(character in shown for character in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert shown == unicodedata.normalize("NFC", shown)
