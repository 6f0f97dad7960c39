"""Checks that a file of a sniffed kind holds together and carries nothing dangerous.

PDF (no PDF library: a small tokeniser is enough for these questions):

- the header is ``%PDF-1.0`` .. ``%PDF-1.7`` or ``%PDF-2.0``; ``%%EOF`` is
  within the last 1024 bytes and ``startxref`` points inside the file,
  otherwise the file is truncated or malformed (:class:`FileDamagedError`);
- an ``/Encrypt`` dictionary means a password or permissions were set
  (:class:`FilePasswordProtectedError`): govserve cannot scan or show it;
- names of active content — ``/JavaScript``, ``/JS``, ``/Launch``,
  ``/EmbeddedFile(s)``, ``/RichMedia``, ``/GoToE`` — are refused
  (:class:`FileActiveContentError`). Names are compared after decoding
  ``#xx`` escapes (``/J#61vaScript``), and the object streams of PDF 1.5+
  (``/Type /ObjStm``, FlateDecode) are decompressed within a budget and
  searched too, so the names cannot hide inside them.

Images (Pillow, opened only as the sniffed format): the pixel count is read
from the header and bounded by ``GOVSERVE_UPLOAD_MAX_IMAGE_PIXELS`` (default
50 million) *before* any decoding, which stops decompression bombs (a 50 KB
PNG that inflates to gigabytes); then ``verify()`` (PNG: every chunk's CRC
and the IEND chunk) and, for JPEG, GIF and TIFF, a decode of the first frame
(JPEG at 1/8 scale), which fails on truncated data. HEIC (which Pillow
cannot decode without a plugin) gets a structural check of its ISO-BMFF
boxes and the bound on every ``ispe`` (image spatial extent) it declares.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator

from django.conf import settings

from govserve.documents.errors import (
    ArchiveExpandsTooMuchError,
    FileActiveContentError,
    FileDamagedError,
    FilePasswordProtectedError,
    ImageTooLargeError,
)
from govserve.documents.sniffing import FileKind

DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_FRAMES = 1000
PDF_INFLATE_BUDGET = 64 * 1024 * 1024
_PDF_HEADER = re.compile(rb"^%PDF-(1\.[0-7]|2\.0)\b")
_PDF_STARTXREF = re.compile(rb"startxref\s+(\d{1,12})\s+%%EOF")
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /<>\[\]()%{}]*)")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_ACTIVE_NAMES = frozenset(
    {b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"GoToE"}
)
_PDF_FLATE_NAMES = frozenset({b"FlateDecode", b"Fl"})


def max_image_pixels() -> int:
    """Return the largest pixel count an uploaded image may have (``GOVSERVE_UPLOAD_MAX_IMAGE_PIXELS``)."""
    return int(getattr(settings, "GOVSERVE_UPLOAD_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


# --- PDF -------------------------------------------------------------------------------------


def _pdf_names(data: bytes) -> Iterator[bytes]:
    for match in _PDF_NAME.finditer(data):
        raw = match.group(1)
        yield _PDF_HEX_ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), raw) if b"#" in raw else raw


def _pdf_stream_headers(data: bytes) -> Iterator[tuple[bytes, int]]:
    """Yield (dictionary text, data start) for each ``stream`` keyword: the bytes since the object's ``obj``.

    A plain ``bytes.find`` loop: a regular expression anchored on a word
    boundary would try every position of a 25 MB file.
    """
    position = data.find(b"stream")
    while position != -1:
        after = position + len(b"stream")
        if data[position - 3 : position] != b"end" and data[after : after + 1] in (b"\r", b"\n"):
            start = data.rfind(b"obj", max(0, position - 4096), position)
            if start != -1:
                begin = after + (2 if data[after : after + 2] == b"\r\n" else 1)
                yield data[start:position], begin
        position = data.find(b"stream", after)


def _pdf_object_streams(data: bytes) -> Iterator[bytes]:
    """Yield the inflated content of every FlateDecode object stream; raise when the budget is spent."""
    budget = PDF_INFLATE_BUDGET
    for header, begin in _pdf_stream_headers(data):
        names = set(_pdf_names(header))
        if b"ObjStm" not in names:
            continue
        filters = names & (_PDF_FLATE_NAMES | {b"ASCIIHexDecode", b"ASCII85Decode", b"LZWDecode", b"RunLengthDecode"})
        if not filters or not filters <= _PDF_FLATE_NAMES:
            continue  # another filter chain: rare for object streams; the scanner still reads the file
        end = data.find(b"endstream", begin)
        body = data[begin : end if end != -1 else len(data)]
        inflater = zlib.decompressobj()
        try:
            content = inflater.decompress(body, budget + 1)
        except zlib.error as error:
            raise FileDamagedError(reason="pdf_stream") from error
        if len(content) > budget or inflater.unconsumed_tail:
            raise ArchiveExpandsTooMuchError
        budget -= len(content)
        yield content


def pdf_check(data: bytes) -> None:
    """Return when ``data`` is a complete, unencrypted PDF without active content.

    Raise FileDamagedError, FilePasswordProtectedError or FileActiveContentError otherwise.
    """
    if not _PDF_HEADER.match(data):
        raise FileDamagedError(reason="pdf_header")
    tail = data[-1024:]
    if b"%%EOF" not in tail:
        raise FileDamagedError(reason="pdf_no_eof")
    offsets = _PDF_STARTXREF.findall(data[-2048:])
    if not offsets or int(offsets[-1]) >= len(data) or int(offsets[-1]) == 0:
        raise FileDamagedError(reason="pdf_startxref")
    sources: list[bytes] = [data]
    sources.extend(_pdf_object_streams(data))
    for source in sources:
        for name in _pdf_names(source):
            if name == b"Encrypt":
                raise FilePasswordProtectedError
            if name in _PDF_ACTIVE_NAMES:
                raise FileActiveContentError(feature=name.decode("ascii"))


# --- Images ----------------------------------------------------------------------------------


def _pixels_check(width: int, height: int, *, frames: int = 1) -> None:
    if width <= 0 or height <= 0:
        raise FileDamagedError(reason="image_dimensions")
    if width * height > max_image_pixels():
        raise ImageTooLargeError(max_pixels=max_image_pixels())
    if frames > MAX_IMAGE_FRAMES:
        raise ImageTooLargeError(max_pixels=max_image_pixels())


_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "tiff": "TIFF"}


def _pillow_check(data: bytes, kind: FileKind) -> None:
    from PIL import Image, ImageFile  # noqa: PLC0415 - Pillow loads only when an image is checked

    # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import (it
    # renders what it can of damaged images), which would make load() accept a
    # truncated upload once any PDF has been generated in this process. Uploads
    # must be whole: insist, whatever was imported before.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    pillow_format = _PILLOW_FORMATS[kind.name]
    with warnings.catch_warnings():
        # Our own bound applies before Pillow's (a warning at 89 MP, an error at 179 MP).
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                width, height = image.size
                _pixels_check(width, height, frames=int(getattr(image, "n_frames", 1)))
                image.verify()
            if kind.name == "png":
                return  # verify() read every chunk and checked its CRC; decoding would cost 4 bytes a pixel
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                if kind.name == "jpg":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
        except Image.DecompressionBombError as error:
            raise ImageTooLargeError(max_pixels=max_image_pixels()) from error
        except (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError, KeyError, TypeError) as error:
            # Pillow reports a malformed or truncated image with any of these.
            raise FileDamagedError(reason="image_unreadable") from error


def _bmff_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, content start, box end) of the ISO-BMFF boxes in ``data[start:end]``.

    Raise FileDamagedError when the boxes do not tile the range exactly.
    """
    offset = start
    while offset < end:
        if end - offset < 8:
            raise FileDamagedError(reason="heic_box")
        size, box_type = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if end - offset < 16:
                raise FileDamagedError(reason="heic_box")
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise FileDamagedError(reason="heic_box")
        yield box_type, offset + header, offset + size
        offset += size


def _heic_check(data: bytes) -> None:
    boxes = list(_bmff_boxes(data, 0, len(data)))
    types = [box_type for box_type, _, _ in boxes]
    if not types or types[0] != b"ftyp" or b"meta" not in types or b"mdat" not in types:
        raise FileDamagedError(reason="heic_structure")
    extents = 0
    for match in re.finditer(rb"ispe", data):
        position = match.end() + 4  # version and flags
        if position + 8 <= len(data):
            width, height = struct.unpack_from(">II", data, position)
            _pixels_check(width, height)
            extents += 1
    if not extents:
        raise FileDamagedError(reason="heic_no_extent")


_CHECKS: dict[str, Callable[[bytes], None]] = {"pdf": pdf_check, "heic": _heic_check}


def file_sanity_check(data: bytes, kind: FileKind) -> None:
    """Return when ``data`` (already sniffed as ``kind``) holds together; raise an UploadRefusedError otherwise.

    Kinds without a check here (text, office documents) were checked
    structurally while sniffing.
    """
    if kind.name in _PILLOW_FORMATS:
        _pillow_check(data, kind)
        return
    check = _CHECKS.get(kind.name)
    if check is not None:
        check(data)
