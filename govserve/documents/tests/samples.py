"""Sample files for the upload tests, built byte by byte (nothing downloaded, nothing binary in the repo)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pydyf  # type: ignore[import-untyped]
from PIL import Image

from govserve.documents.scanning.test_scanner import EICAR

# A value that must never reach the disk or the database in clear.
SECRET_TEXT = "Ada Lovelace passport 1815-12-10 QX7731"


# --- PDF ----------------------------------------------------------------------------------------


def _stream(content: bytes, dictionary: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(content), dictionary) + content + b"\nendstream"


def pdf_document(
    text: str = SECRET_TEXT,
    *,
    extra_catalog: bytes = b"",
    extra_objects: tuple[bytes, ...] = (),
    trailer_extra: bytes = b"",
    version: bytes = b"1.7",
    raw_content: bytes | None = None,
) -> bytes:
    """Return a small, valid one-page PDF showing ``text`` (with exact xref offsets)."""
    content = raw_content if raw_content is not None else b"BT /F1 18 Tf 72 700 Td (" + text.encode() + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra_objects,
    ]
    out = b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer_extra,
        xref_at,
    )
    return out


def pdf_encrypted() -> bytes:
    """Return a PDF whose trailer names an /Encrypt dictionary (as every password-protected PDF does)."""
    encrypt = b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <00> /U <00> >>"
    return pdf_document(extra_objects=(encrypt,), trailer_extra=b"/Encrypt 6 0 R /ID [<01> <01>] ")


def pdf_with_javascript(*, escaped: bool = False) -> bytes:
    """Return a PDF that runs JavaScript when opened (optionally spelling the name ``/J#61vaScript``)."""
    name = b"/J#61vaScript" if escaped else b"/JavaScript"
    action = b"<< /Type /Action /S " + name + b" /JS (app.alert\\(1\\)) >>"
    return pdf_document(extra_catalog=b"/OpenAction 6 0 R ", extra_objects=(action,))


def pdf_with_launch() -> bytes:
    """Return a PDF whose open action launches a program."""
    action = b"<< /Type /Action /S /Launch /F (cmd.exe) >>"
    return pdf_document(extra_catalog=b"/OpenAction 6 0 R ", extra_objects=(action,))


def pdf_with_embedded_file() -> bytes:
    """Return a PDF carrying an attached file."""
    embedded = _stream(b"MZ attached program", b"/Type /EmbeddedFile ")
    names = b"<< /EmbeddedFiles << /Names [(a.exe) << /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>] >> >>"
    return pdf_document(extra_catalog=b"/Names 6 0 R ", extra_objects=(names, embedded))


def pdf_with_javascript_in_object_stream() -> bytes:
    """Return a PDF 1.7 (pydyf, compressed object streams) whose catalog's open action is JavaScript."""
    pdf = pydyf.PDF()
    pdf.add_page(
        pydyf.Dictionary({"Type": "/Page", "Parent": pdf.pages.reference, "MediaBox": pydyf.Array([0, 0, 200, 200])})
    )
    action = pydyf.Dictionary({"Type": "/Action", "S": "/JavaScript", "JS": pydyf.String("app.alert(1)")})
    pdf.add_object(action)
    pdf.catalog["OpenAction"] = action.reference
    output = io.BytesIO()
    pdf.write(output, version=b"1.7", compress=True)
    return output.getvalue()


def pdf_compressed_clean() -> bytes:
    """Return a clean PDF 1.7 with compressed object streams and an xref stream (pydyf)."""
    pdf = pydyf.PDF()
    content = pydyf.Stream([b"BT /F1 12 Tf 10 100 Td (" + SECRET_TEXT.encode() + b") Tj ET"], compress=True)
    pdf.add_object(content)
    font = pydyf.Dictionary({"Type": "/Font", "Subtype": "/Type1", "BaseFont": "/Helvetica"})
    pdf.add_object(font)
    page = pydyf.Dictionary(
        {
            "Type": "/Page",
            "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, 200, 200]),
            "Contents": content.reference,
            "Resources": pydyf.Dictionary({"Font": pydyf.Dictionary({"F1": font.reference})}),
        }
    )
    pdf.add_page(page)
    output = io.BytesIO()
    pdf.write(output, version=b"1.7", compress=True)
    return output.getvalue()


# --- Images -------------------------------------------------------------------------------------


def image_bytes(image_format: str, *, size: tuple[int, int] = (64, 48)) -> bytes:
    """Return a small real image in ``image_format`` (PNG, JPEG, GIF, TIFF) drawn by Pillow."""
    image = Image.new("RGB", size, (30, 120, 200))
    for x in range(0, size[0], 4):
        image.putpixel((x, x % size[1]), (255, 255, 0))
    output = io.BytesIO()
    image.save(output, format=image_format)
    return output.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_decompression_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """Return a valid, tiny PNG declaring ``width`` x ``height`` 1-bit pixels: gigapixels once decoded.

    The image data is the first rows only (zlib of zeros compresses ~1000:1); a
    decoder that trusted the header would allocate the whole bitmap.
    """
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    data = zlib.compress(row * 64, 9)
    return _png_signature() + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def _png_signature() -> bytes:
    return b"\x89PNG\r\n\x1a\n"


def heic_minimal(width: int = 640, height: int = 480) -> bytes:
    """Return the box skeleton of a HEIC file: ftyp, meta (with an ispe extent) and mdat."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    ftyp = box(b"ftyp", b"heic" + b"\x00\x00\x00\x00" + b"mif1heic")
    ispe = box(b"ispe", b"\x00\x00\x00\x00" + struct.pack(">II", width, height))
    meta = box(b"meta", b"\x00\x00\x00\x00" + box(b"iprp", box(b"ipco", ispe)))
    mdat = box(b"mdat", b"\x00" * 64)
    return ftyp + meta + mdat


# --- Office documents ---------------------------------------------------------------------------

_DOCX_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)


def docx_document(*, macro: bool = False, encrypted_entry: bool = False) -> bytes:
    """Return a minimal .docx (zip with [Content_Types].xml and word/document.xml)."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr(
            "word/document.xml", b"<w:document><w:body><w:p>" + SECRET_TEXT.encode() + b"</w:p></w:body></w:document>"
        )
        if macro:
            archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    data = output.getvalue()
    if encrypted_entry:
        # Set the "encrypted" flag of the first entry in both headers (what zip encryption sets).
        flagged = bytearray(data)
        flagged[6] |= 0x01
        central = flagged.find(b"PK\x01\x02")
        flagged[central + 8] |= 0x01
        return bytes(flagged)
    return data


def odt_document() -> bytes:
    """Return a minimal OpenDocument text (``mimetype`` first, stored, plus the manifest)."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("mimetype", b"application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", b"<manifest:manifest/>")
        archive.writestr("content.xml", b"<office:document-content/>")
    return output.getvalue()


def zip_bomb() -> bytes:
    """Return a docx-shaped zip with a member that says it expands to 2 GiB (a bomb's central directory).

    Only the sizes recorded in the archive are forged (compressing 2 GiB of
    zeros for real takes seconds): the sniffer judges an archive by what its
    directory claims, before decompressing anything.
    """
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/media/bomb.bin", b"\x00" * 1024 * 1024)
    forged = bytearray(output.getvalue())
    central = forged.rfind(b"PK\x01\x02")  # the last member's central directory entry
    struct.pack_into("<I", forged, central + 24, 0x7FFFFFFF)
    local = forged.rfind(b"PK\x03\x04")
    struct.pack_into("<I", forged, local + 22, 0x7FFFFFFF)
    return bytes(forged)


def ole_document(stream_name: str) -> bytes:
    """Return a minimal OLE2 compound file whose directory holds ``stream_name`` (doc: WordDocument)."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 0x2C, 1)  # one FAT sector
    struct.pack_into("<I", header, 0x30, 1)  # directory starts at sector 1
    struct.pack_into("<I", header, 0x38, 4096)
    struct.pack_into("<II", header, 0x3C, end, 0)  # no mini FAT
    struct.pack_into("<II", header, 0x44, end, 0)  # no DIFAT sectors
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 0x40, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 0x44, free, free, 1 if kind == 5 else free)
        struct.pack_into("<I", raw, 0x74, end)
        return bytes(raw)

    directory = entry("Root Entry", 5) + entry(stream_name, 2) + bytes(256)
    return bytes(header) + fat + directory


# --- Attacks --------------------------------------------------------------------------------------

HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_IMAGE = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
WINDOWS_EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode.\r\r\n$"
)
EICAR_FILE = EICAR
