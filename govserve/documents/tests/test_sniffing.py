"""Type sniffing from the bytes, and the PDF and image sanity checks."""

from __future__ import annotations

import pytest

from govserve.documents import errors
from govserve.documents.sanity import file_sanity_check, pdf_check
from govserve.documents.sniffing import KINDS, file_kind_sniff, kind_names_normalise
from govserve.documents.tests import samples

EVERYTHING = ["pdf", "jpg", "png", "gif", "tiff", "heic", "txt", "csv", "odt", "ods", "docx", "xlsx", "doc", "xls"]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (samples.pdf_document(), "pdf"),
        (samples.pdf_compressed_clean(), "pdf"),
        (samples.image_bytes("PNG"), "png"),
        (samples.image_bytes("JPEG"), "jpg"),
        (samples.image_bytes("GIF"), "gif"),
        (samples.image_bytes("TIFF"), "tiff"),
        (samples.heic_minimal(), "heic"),
        (samples.docx_document(), "docx"),
        (samples.odt_document(), "odt"),
        (samples.ole_document("WordDocument"), "doc"),
        (samples.ole_document("Workbook"), "xls"),
        (b"name,amount\nrent,500\nfood,200\n", "csv"),
        ("Dear sir,\nI enclose my café receipt.\n".encode(), "txt"),
        ("\ufeffNotes in UTF-8 with a BOM\n".encode(), "txt"),
        ("Notes in UTF-16\n".encode("utf-16"), "txt"),
        ("Caf\u00e9 in Windows-1252\n".encode("cp1252"), "txt"),
    ],
)
def test_each_accepted_kind_is_recognised_from_its_bytes(data: bytes, kind: str) -> None:
    sniffed = file_kind_sniff(data, allowed_types=EVERYTHING)
    assert sniffed.name == kind
    assert sniffed.content_type == KINDS[kind].content_type
    file_sanity_check(data, sniffed)


def test_the_type_message_lists_the_definition_types_in_its_order() -> None:
    with pytest.raises(errors.FileTypeError) as refused:
        file_kind_sniff(samples.HTML_PAGE, allowed_types=["png", "jpeg", "pdf"])
    assert refused.value.message == "The selected file must be a PNG, JPEG or PDF"
    assert refused.value.extra == {"allowed_types": ["png", "jpeg", "pdf"], "sniffed": "markup"}


def test_jpeg_and_jpg_name_the_same_kind() -> None:
    assert file_kind_sniff(samples.image_bytes("JPEG"), allowed_types=["jpeg"]).name == "jpg"
    assert kind_names_normalise(["JPEG", "jpg"]) == frozenset({"jpg"})


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(samples.HTML_PAGE, id="html"),
        pytest.param(b"  \n<html><body>hi</body></html>", id="html-after-whitespace"),
        pytest.param(b"<!-- comment --><script>alert(1)</script>", id="html-comment"),
        pytest.param(samples.SVG_IMAGE, id="svg"),
        pytest.param(b"<svg onload=alert(1)>", id="svg-no-prolog"),
        pytest.param(samples.WINDOWS_EXECUTABLE, id="exe"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, id="elf"),
        pytest.param(b"#!/bin/sh\nrm -rf /\x00", id="script-with-nul"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 100, id="broken-zip"),
        pytest.param(
            samples.odt_document().replace(b"META-INF/manifest.xml", b"META-INF/manifest.xmx"), id="odf-no-manifest"
        ),
        pytest.param(samples.ole_document("PowerPoint Document"), id="ole-powerpoint"),
        pytest.param(b"%!PS-Adobe-3.0\n", id="postscript-is-text-but-txt-not-allowed"),
    ],
)
def test_anything_else_is_refused_as_the_wrong_type(data: bytes) -> None:
    allowed = [name for name in EVERYTHING if name not in {"txt", "csv"}]
    with pytest.raises((errors.FileTypeError, errors.FileDamagedError)):
        file_kind_sniff(data, allowed_types=allowed)


def test_markup_is_refused_even_where_plain_text_is_allowed() -> None:
    for data in (samples.HTML_PAGE, samples.SVG_IMAGE):
        with pytest.raises(errors.FileTypeError) as refused:
            file_kind_sniff(data, allowed_types=["txt", "csv"])
        assert refused.value.message == "The selected file must be a TXT or CSV"


def test_a_jpeg_is_not_a_png_whatever_its_name() -> None:
    with pytest.raises(errors.FileTypeError) as refused:
        file_kind_sniff(samples.image_bytes("JPEG"), allowed_types=["png"])
    assert refused.value.message == "The selected file must be a PNG"


def test_containers_are_not_opened_when_none_of_their_kinds_is_allowed() -> None:
    # A zip bomb where only PDFs are allowed is just the wrong type: nothing is decompressed.
    with pytest.raises(errors.FileTypeError):
        file_kind_sniff(samples.zip_bomb(), allowed_types=["pdf"])


def test_an_encrypted_office_document_in_its_ole_envelope_is_password_protected() -> None:
    with pytest.raises(errors.FilePasswordProtectedError):
        file_kind_sniff(samples.ole_document("EncryptedPackage"), allowed_types=["docx", "doc"])


def test_a_truncated_ole_file_is_damaged() -> None:
    with pytest.raises(errors.FileDamagedError) as refused:
        file_kind_sniff(samples.ole_document("WordDocument")[:700], allowed_types=["doc"])
    assert refused.value.reason == "ole_truncated"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.9\n" + samples.pdf_document()[9:], "pdf_header"),
        (samples.pdf_document().replace(b"%%EOF", b"%%EOX"), "pdf_no_eof"),
        (samples.pdf_document().replace(b"startxref", b"startxxxx"), "pdf_startxref"),
        (samples.pdf_document().rsplit(b"startxref", 1)[0] + b"startxref\n999999\n%%EOF\n", "pdf_startxref"),
    ],
)
def test_malformed_pdfs_are_damaged(data: bytes, reason: str) -> None:
    with pytest.raises(errors.FileDamagedError) as refused:
        pdf_check(data)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("data", "feature"),
    [
        (samples.pdf_with_javascript(), "JavaScript"),
        (samples.pdf_with_javascript(escaped=True), "JavaScript"),
        (samples.pdf_with_javascript_in_object_stream(), "JavaScript"),
        (samples.pdf_with_javascript_in_object_stream().replace(b"/Type /ObjStm", b"/Type /Obj#53tm"), "JavaScript"),
        (samples.pdf_with_launch(), "Launch"),
        (samples.pdf_with_embedded_file(), "EmbeddedFiles"),
    ],
)
def test_active_pdf_content_is_found_even_when_escaped_or_compressed(data: bytes, feature: str) -> None:
    with pytest.raises(errors.FileActiveContentError) as refused:
        pdf_check(data)
    assert refused.value.feature == feature


def test_pdf_2_0_is_accepted() -> None:
    pdf_check(samples.pdf_document(version=b"2.0"))


def test_an_image_bomb_is_refused_before_any_decoding() -> None:
    bomb = samples.png_decompression_bomb(width=60_000, height=60_000)
    assert len(bomb) < 10_000  # 3.6 gigapixels in a few kilobytes
    with pytest.raises(errors.ImageTooLargeError) as refused:
        file_sanity_check(bomb, KINDS["png"])
    assert refused.value.message == "The selected image is too big – it must be 50 megapixels or fewer"  # noqa: RUF001


def test_the_pixel_bound_is_a_setting(settings: object) -> None:
    settings.GOVSERVE_UPLOAD_MAX_IMAGE_PIXELS = 2_000_000  # type: ignore[attr-defined]
    big = samples.png_decompression_bomb(width=2000, height=1001)
    with pytest.raises(errors.ImageTooLargeError) as refused:
        file_sanity_check(big, KINDS["png"])
    assert refused.value.message == "The selected image is too big – it must be 2 megapixels or fewer"  # noqa: RUF001
    file_sanity_check(samples.png_decompression_bomb(width=2000, height=1000), KINDS["png"])


@pytest.mark.parametrize("image_format", ["PNG", "GIF", "TIFF"])
def test_truncated_images_are_damaged(image_format: str) -> None:
    data = samples.image_bytes(image_format, size=(300, 200))
    kind = file_kind_sniff(data, allowed_types=EVERYTHING)
    with pytest.raises(errors.FileDamagedError):
        file_sanity_check(data[: len(data) // 2], kind)


@pytest.mark.parametrize("image_format", ["GIF", "TIFF"])
def test_truncated_images_are_damaged_even_after_weasyprint_was_imported(image_format: str) -> None:
    import weasyprint  # noqa: F401, PLC0415 - sets ImageFile.LOAD_TRUNCATED_IMAGES = True on import
    from PIL import ImageFile  # noqa: PLC0415

    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as after any PDF was rendered in this process
    data = samples.image_bytes(image_format, size=(300, 200))
    kind = file_kind_sniff(data, allowed_types=EVERYTHING)

    with pytest.raises(errors.FileDamagedError):
        file_sanity_check(data[: len(data) // 2], kind)


def test_a_heic_that_does_not_tile_its_boxes_is_damaged() -> None:
    with pytest.raises(errors.FileDamagedError) as refused:
        file_sanity_check(samples.heic_minimal()[:-10], KINDS["heic"])
    assert refused.value.reason == "heic_box"


def test_a_heic_declaring_a_huge_extent_is_too_big() -> None:
    with pytest.raises(errors.ImageTooLargeError):
        file_sanity_check(samples.heic_minimal(width=100_000, height=100_000), KINDS["heic"])
