"""What a file *is*, from its bytes: never from its name or the Content-Type the browser sent.

:func:`file_kind_sniff` recognises exactly the kinds a service definition may
accept (``govserve.catalogue.definitions.schema.FILE_TYPES``) by their magic
numbers and structure, and nothing else:

============  ===================================================================
kind          recognised by
============  ===================================================================
pdf           ``%PDF-`` at offset 0 (no junk before it: a polyglot's favourite trick)
png           the 8-byte PNG signature
jpg           ``FF D8 FF``
gif           ``GIF87a`` / ``GIF89a``
tiff          ``II*\\0`` / ``MM\\0*`` (and BigTIFF)
heic          an ISO-BMFF ``ftyp`` box with a HEIF/HEVC brand (not AVIF)
odt, ods      a zip whose ``mimetype`` member names the ODF type, with a manifest
docx, xlsx    a zip whose ``[Content_Types].xml`` declares that main part, which exists;
              macro-enabled variants (``vbaProject.bin``) are not docx/xlsx
doc, xls      an OLE2 compound file with a ``WordDocument`` / ``Workbook`` stream
txt, csv      text (UTF-8, UTF-16 with a BOM, or Windows-1252) without control
              characters, that does not open like markup (HTML, SVG, XML)
============  ===================================================================

Markup (HTML, SVG, XML), executables, scripts, generic archives and anything
unrecognised are never a kind, so no definition can let them in, whatever
they are named. Containers are opened without decompressing more than a
bounded prefix of one member; an archive whose entries claim to expand past
:data:`MAX_ARCHIVE_EXPANSION` bytes is refused as a bomb.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from govserve.catalogue.definitions.schema import FILE_TYPES
from govserve.documents.errors import (
    ArchiveExpandsTooMuchError,
    FileDamagedError,
    FilePasswordProtectedError,
    FileTypeError,
)


@dataclass(frozen=True)
class FileKind:
    """A kind of file govserve accepts: its canonical name, MIME type and extensions (preferred first)."""

    name: str
    content_type: str
    extensions: tuple[str, ...]


def _kind(name: str, *extensions: str) -> FileKind:
    return FileKind(name=name, content_type=FILE_TYPES[name], extensions=(name, *extensions))


KINDS: dict[str, FileKind] = {
    kind.name: kind
    for kind in (
        _kind("pdf"),
        _kind("png"),
        _kind("jpg", "jpeg", "jpe"),
        _kind("gif"),
        _kind("tiff", "tif"),
        _kind("heic", "heif"),
        _kind("txt", "text"),
        _kind("csv"),
        _kind("odt"),
        _kind("ods"),
        _kind("docx"),
        _kind("xlsx"),
        _kind("doc"),
        _kind("xls"),
    )
}
# Names a definition may use for the same kind.
ALIASES = {"jpeg": "jpg"}

MAX_ARCHIVE_MEMBERS = 10_000
MAX_ARCHIVE_EXPANSION = 512 * 1024 * 1024
_MAX_MANIFEST_BYTES = 1024 * 1024

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})

_ODF_MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}
_OVERRIDE = re.compile(rb"<(?:\w+:)?Override\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""\b(PartName|ContentType)\s*=\s*(?:"([^"]*)"|'([^']*)')""")

# WHATWG MIME sniffing's markup openings, plus XML and SVG: text that a browser
# would render as a page is never accepted as "text".
_MARKUP_OPENINGS = (
    "<!doctype",
    "<html",
    "<head",
    "<body",
    "<script",
    "<iframe",
    "<svg",
    "<?xml",
    "<!--",
    "<title",
    "<style",
    "<div",
    "<table",
    "<font",
    "<a ",
    "<a>",
    "<b ",
    "<b>",
    "<br",
    "<p ",
    "<p>",
    "<h1",
    "<img",
    "<object",
    "<embed",
    "<form",
    "<meta",
    "<link",
    "<base",
)
_TEXT_ALLOWED_CONTROLS = frozenset("\t\n\r\f\x1a")
_TEXT_PROBE_BYTES = 64 * 1024


def kind_names_normalise(type_names: Iterable[str]) -> frozenset[str]:
    """Return the canonical kind names of a definition's ``types`` ("jpeg" -> "jpg").

    Raise ValueError for unknown names or none.
    """
    kinds: set[str] = set()
    for name in type_names:
        canonical = ALIASES.get(name.lower(), name.lower())
        if canonical not in KINDS:
            msg = f"unknown file type {name!r}: one of {', '.join(sorted(FILE_TYPES))}"
            raise ValueError(msg)
        kinds.add(canonical)
    if not kinds:
        msg = "at least one file type must be allowed"
        raise ValueError(msg)
    return frozenset(kinds)


# --- Magic numbers ---------------------------------------------------------------------------


def _heif_brands(data: bytes) -> set[bytes]:
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    (box_size,) = struct.unpack(">I", data[:4])
    if box_size < 16 or box_size > min(len(data), 4096) or box_size % 4:
        return set()
    brands = {data[8:12]}
    brands.update(data[offset : offset + 4] for offset in range(16, box_size, 4))
    return brands


def _magic(data: bytes) -> str | None:  # noqa: PLR0911 - one return per magic number reads best
    """Return the kind (or container family: "zip", "ole", "text") the first bytes announce, or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if _heif_brands(data) & _HEIF_BRANDS:
        return "heic"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(_OLE_SIGNATURE):
        return "ole"
    if _text_decode(data) is not None:
        return "text"
    return None


# --- Text -------------------------------------------------------------------------------------


def _text_decode(data: bytes) -> str | None:
    """Return the text of ``data`` (its first 64 KiB, enough to judge), or None when it is not plain text."""
    probe = data[:_TEXT_PROBE_BYTES]
    text: str | None = None
    if probe.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16-le" if probe.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        body = data[2:]
        body = body[: min(len(body), _TEXT_PROBE_BYTES) // 2 * 2]
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            return None
    else:
        if b"\x00" in probe:
            return None
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            # Not final: a multi-byte character cut by the probe's end is not an error.
            text = decoder.decode(probe, final=len(data) <= _TEXT_PROBE_BYTES)
        except UnicodeDecodeError:
            try:
                text = probe.decode("cp1252")
            except UnicodeDecodeError:
                return None
    if any((ord(ch) < 0x20 and ch not in _TEXT_ALLOWED_CONTROLS) or 0x7F <= ord(ch) <= 0x9F for ch in text):
        return None
    return text


def _is_markup(text: str) -> bool:
    opening = text.lstrip("\ufeff \t\r\n\f").lower()
    return opening.startswith(_MARKUP_OPENINGS)


def _looks_delimited(text: str) -> bool:
    """Return whether the first lines read as rows of one width (2+ fields): a table, not prose."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    try:
        rows = list(csv.reader(lines))
    except csv.Error:
        return False
    widths = {len(row) for row in rows}
    return len(widths) == 1 and widths.pop() >= 2


# --- Zip containers (ODF, OOXML) -----------------------------------------------------------------


def _zip_open(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise FileDamagedError(reason="zip_unreadable") from error
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ArchiveExpandsTooMuchError
    if sum(member.file_size for member in members) > MAX_ARCHIVE_EXPANSION:
        raise ArchiveExpandsTooMuchError
    if any(member.flag_bits & 0x1 for member in members):
        raise FilePasswordProtectedError
    return archive


def _member_read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise FileDamagedError(reason="zip_member_too_large")
    try:
        with archive.open(info) as member:
            content = member.read(limit + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as error:
        raise FileDamagedError(reason="zip_member_unreadable") from error
    if len(content) > limit:
        raise FileDamagedError(reason="zip_member_too_large")
    return content


def _zip_kind(data: bytes) -> str | None:
    archive = _zip_open(data)
    names = set(archive.namelist())
    mimetype = _member_read(archive, "mimetype", 200)
    if mimetype is not None:
        kind = _ODF_MIMETYPES.get(mimetype.decode("ascii", "replace").strip())
        return kind if kind is not None and "META-INF/manifest.xml" in names else None
    content_types = _member_read(archive, "[Content_Types].xml", _MAX_MANIFEST_BYTES)
    if content_types is None:
        return None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return None  # macro-enabled (docm/xlsm) whatever the manifest claims
    for element in _OVERRIDE.findall(content_types):
        attributes = {match[0]: (match[1] or match[2]) for match in _ATTRIBUTE.findall(element)}
        kind = _OOXML_MAIN_PARTS.get(attributes.get(b"ContentType", b"").decode("ascii", "replace"))
        part = attributes.get(b"PartName", b"").decode("utf-8", "replace").lstrip("/")
        if kind is not None and part in names:
            return kind
    return None


# --- OLE2 compound files (doc, xls) ---------------------------------------------------------------

_OLE_FREE = 0xFFFFFFFF
_OLE_END_OF_CHAIN = 0xFFFFFFFE
_OLE_MAX_SECTOR = 0xFFFFFFFA


def _ole_stream_names(data: bytes) -> set[str]:
    """Return the names in an OLE2 compound file's directory; raise FileDamagedError when it does not hold together."""
    if len(data) < 512:
        raise FileDamagedError(reason="ole_truncated")
    sector_shift = struct.unpack_from("<H", data, 0x1E)[0]
    if sector_shift not in (9, 12):
        raise FileDamagedError(reason="ole_header")
    sector_size = 1 << sector_shift
    fat_sector_count, first_directory = struct.unpack_from("<II", data, 0x2C)
    first_difat, difat_count = struct.unpack_from("<II", data, 0x44)
    sector_total = (len(data) - 512) // sector_size + 1

    def sector(number: int) -> bytes:
        if number > _OLE_MAX_SECTOR or number >= sector_total:
            raise FileDamagedError(reason="ole_sector")
        start = 512 + number * sector_size if sector_shift == 9 else sector_size * (number + 1)
        block = data[start : start + sector_size]
        if len(block) != sector_size:
            raise FileDamagedError(reason="ole_truncated")
        return block

    fat_sectors = [n for n in struct.unpack_from("<109I", data, 0x4C) if n != _OLE_FREE]
    next_difat, seen = first_difat, 0
    while next_difat not in (_OLE_END_OF_CHAIN, _OLE_FREE) and seen <= difat_count:
        entries = struct.unpack(f"<{sector_size // 4}I", sector(next_difat))
        fat_sectors.extend(n for n in entries[:-1] if n != _OLE_FREE)
        next_difat, seen = entries[-1], seen + 1
    if len(fat_sectors) < fat_sector_count or fat_sector_count == 0:
        raise FileDamagedError(reason="ole_fat")
    fat = b"".join(sector(n) for n in fat_sectors[:fat_sector_count])
    entries_per_fat = len(fat) // 4

    names: set[str] = set()
    current, visited = first_directory, set[int]()
    while current != _OLE_END_OF_CHAIN:
        if current in visited or current >= entries_per_fat or len(visited) > MAX_ARCHIVE_MEMBERS:
            raise FileDamagedError(reason="ole_chain")
        visited.add(current)
        block = sector(current)
        for offset in range(0, sector_size, 128):
            entry = block[offset : offset + 128]
            name_length = struct.unpack_from("<H", entry, 0x40)[0]
            if entry[0x42] in (1, 2, 5) and 2 <= name_length <= 64:
                names.add(entry[: name_length - 2].decode("utf-16-le", "replace"))
        (current,) = struct.unpack_from("<I", fat, current * 4)
    return names


def _ole_kind(data: bytes) -> str | None:
    names = _ole_stream_names(data)
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise FilePasswordProtectedError  # an encrypted docx/xlsx travels in an OLE2 envelope
    if "WordDocument" in names:
        return "doc"
    if names & {"Workbook", "Book"}:
        return "xls"
    return None


# --- The entry point ------------------------------------------------------------------------------


def file_kind_sniff(data: bytes, *, allowed_types: Sequence[str]) -> FileKind:
    """Return the kind of ``data`` when it is one of ``allowed_types``; raise an UploadRefusedError otherwise.

    ``allowed_types`` are a definition's type names, in its order ("pdf",
    "jpg", "jpeg", ...: ValueError for unknown ones); the type error lists
    them in that order, as the catalogue's default message does. Raise
    FileTypeError when the bytes are no accepted kind or not an allowed one
    (an HTML page named ``form.pdf``), FilePasswordProtectedError for an
    encrypted container, FileDamagedError for a container that does not hold
    together, ArchiveExpandsTooMuchError for a zip bomb. Containers are only
    opened when one of their kinds is allowed.
    """
    allowed_set = kind_names_normalise(allowed_types)
    family = _magic(data)
    kind_name: str | None = None
    if family in KINDS:
        kind_name = family
    elif family == "zip" and allowed_set & {"odt", "ods", "docx", "xlsx"}:
        kind_name = _zip_kind(data)
    elif family == "ole" and allowed_set & {"doc", "xls"}:
        kind_name = _ole_kind(data)
    elif family == "text":
        text = _text_decode(data) or ""
        if _is_markup(text):
            family = "markup"  # HTML, SVG, XML: never accepted, whatever the name says
        else:
            preference = ("csv", "txt") if _looks_delimited(text) else ("txt", "csv")
            kind_name = next((name for name in preference if name in allowed_set), "txt")
    if kind_name is None or kind_name not in allowed_set:
        raise FileTypeError(allowed_types=list(allowed_types), sniffed=kind_name or family or "unknown")
    return KINDS[kind_name]
