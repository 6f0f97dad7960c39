"""The original name of an uploaded file: refused when it is an attack, otherwise made safe to show.

The name a browser sends is data from the person, never a path: govserve
stores the bytes under a random name (:mod:`govserve.documents.storage`) and
keeps the original name only to show it back (sealed, since a file name is
often personal: "passport-ada-lovelace.jpg").

Refused outright (:class:`~govserve.documents.errors.FileNameError`), because
no honest browser sends them and each is a known attack:

- NUL and other control characters (C0, DEL, C1): truncation tricks such as
  ``evil.html\\x00.pdf``, header and log injection;
- bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069,
  U+200E, U+200F, U+061C): ``invoice\\u202Efdp.exe`` *displays* as
  ``invoiceexe.pdf``;
- a ``..`` path segment: ``../../etc/passwd.pdf``;
- unpaired surrogates and Unicode non-characters (not text at all);
- names over :data:`MAX_INPUT_LENGTH` characters.

Made safe (:func:`filename_display`): Unicode NFC; only the last path segment
is kept (old browsers send ``C:\\Users\\ada\\photo.jpg``); characters Windows
reserves (``<>:"/\\|?*``) become ``_``; runs of white space collapse to one
space; leading dots and spaces, trailing dots and spaces go; reserved device
names (``CON``, ``NUL``, ``COM1``...) get a ``_`` prefix; the stem is cut to
keep the whole name within :data:`MAX_DISPLAY_LENGTH` characters; and the
extension is the one of the *sniffed* type (kept as the person spelt it when
it already names that type, otherwise the type's own extension is appended),
so the name never claims a type the bytes are not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from govserve.documents.errors import FileNameError

MAX_INPUT_LENGTH = 1024
MAX_DISPLAY_LENGTH = 150
FALLBACK_STEM = "document"

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_WINDOWS_RESERVED_CHARACTERS = re.compile(r'[<>:"|?*]')
_WHITESPACE = re.compile(r"\s+")
_RESERVED_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{n}" for n in "123456789¹²³"}
    | {f"lpt{n}" for n in "123456789¹²³"}
)


def _is_forbidden_character(character: str) -> bool:
    code = ord(character)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return True
    if character in _BIDI_CONTROLS:
        return True
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate (from a surrogateescape decode)
        return True
    # Non-characters: U+FDD0..U+FDEF and the last two code points of every plane.
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def filename_check(raw: str) -> str:
    """Return ``raw`` in NFC when it is acceptable as a file name; raise FileNameError otherwise.

    Refuse the characters and shapes listed in the module docstring. An
    empty name is acceptable here (the display name falls back to "document").
    """
    if len(raw) > MAX_INPUT_LENGTH:
        raise FileNameError(reason="too_long")
    if any(_is_forbidden_character(character) for character in raw):
        raise FileNameError(reason="forbidden_character")
    normalised = unicodedata.normalize("NFC", raw)
    if any(segment.strip() == ".." for segment in re.split(r"[/\\]", normalised)):
        raise FileNameError(reason="path_traversal")
    return normalised


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension or len(extension) > 10 or not extension.isalnum():
        return name, ""
    return stem, extension


def _safe_stem(stem: str) -> str:
    stem = _WINDOWS_RESERVED_CHARACTERS.sub("_", stem)
    stem = _WHITESPACE.sub(" ", stem).strip(" .")
    if stem.split(".", 1)[0].strip().lower() in _RESERVED_DEVICE_NAMES:
        stem = f"_{stem}"
    return stem or FALLBACK_STEM


def filename_display(raw: str, *, extensions: Iterable[str]) -> str:
    """Return the name to store and show for an upload named ``raw`` whose bytes are of a type with ``extensions``.

    ``extensions`` are the sniffed type's extensions, preferred first (for
    JPEG: ``("jpg", "jpeg")``). Raise FileNameError as :func:`filename_check`
    does. The result is at most MAX_DISPLAY_LENGTH characters, has no path,
    no control or bidi characters and ends with one of ``extensions``.
    """
    allowed = [extension.lower() for extension in extensions]
    if not allowed:
        msg = "a sniffed type has at least one extension"
        raise ValueError(msg)
    name = filename_check(raw)
    name = re.split(r"[/\\]", name)[-1]
    stem, extension = _split_extension(name.strip())
    if extension.lower() in allowed:
        kept_extension = extension.lower()
    else:
        # The bytes are not what the name says: keep the whole name as the stem
        # ("scan.jfif" -> "scan.jfif.jpg"), so nothing the person typed is lost
        # and the final extension tells the truth.
        stem = name.strip() if extension else stem
        kept_extension = allowed[0]
    stem = _safe_stem(stem)
    room = MAX_DISPLAY_LENGTH - len(kept_extension) - 1
    if len(stem) > room:
        stem = stem[:room].rstrip(" .") or FALLBACK_STEM
    return f"{stem}.{kept_extension}"
