"""Result templates (certificates, licences): found, read safely, and stored with the version that names them.

A registration's result names its template by a path relative to the
definition file (``template: templates/street-trading-licence.html``).
Publishing reads each named file and stores its text in the version row
(``ServiceVersion.templates``, ``{path: text}``), covered by the content
hash: a published version is self-contained and immutable, so editing the
file on disk later changes nothing until the next version is published, and
an export bundle carries the texts to another installation.

The rules, the same for files on disk and for bundles:

* a path is relative and POSIX-style: segments joined by ``/``, none empty,
  ``.`` or ``..``; no leading ``/``, no backslash, no drive (``C:``), no
  control character, at most :data:`MAX_PATH_LENGTH` characters; it is
  stored exactly as the definition writes it (so a reader looks the
  result's ``template`` up directly);
* a file on disk must resolve (symbolic links followed) to a regular file
  inside the definition's directory;
* a template is UTF-8 text without NUL characters, at most
  :data:`MAX_TEMPLATE_BYTES` bytes (checked before reading);
* a template compiles in the sandboxed Jinja2 environment results are
  rendered with (:func:`template_compile`): a syntax error, an unknown filter
  or test is refused when the version is published or checked, with the line
  in the template, rather than when a certificate is issued.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from govserve.catalogue.definitions.schema import ServiceDefinition

MAX_TEMPLATE_BYTES = 1024 * 1024
"""The largest template accepted (1 MiB): certificates are small HTML documents."""

MAX_PATH_LENGTH = 500
"""As the definition schema allows for ``template``."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")

TemplatePath = tuple[str | int, ...]


class TemplateReadError(Exception):
    """A template file cannot be used; ``code`` is the problem code, ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_PATH_RULES: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda path: not path, "is empty"),
    (lambda path: len(path) > MAX_PATH_LENGTH, f"is longer than {MAX_PATH_LENGTH} characters"),
    (lambda path: _CONTROL.search(path) is not None, "contains a control character"),
    (lambda path: "\\" in path, "contains a backslash: separate folders with /"),
    (
        lambda path: path.startswith("/") or _DRIVE.match(path) is not None,
        "is absolute: write it relative to the definition file",
    ),
    (
        lambda path: ".." in path.split("/"),
        "goes up a folder with '..': keep templates beside or below the definition file",
    ),
    (
        lambda path: any(segment in {"", "."} for segment in path.split("/")),
        "has an empty or '.' segment: write it like templates/licence.html",
    ),
)


def template_path_problem(path: str) -> str | None:
    """Return why ``path`` is not an acceptable template path (the first rule it breaks), or None when it is."""
    return next((message for broken, message in _PATH_RULES if broken(path)), None)


def template_text_problem(text: str) -> str | None:
    """Return why ``text`` is not an acceptable template, or None when it is."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_TEMPLATE_BYTES:
        return f"is {size:,} bytes; the most a template may be is {MAX_TEMPLATE_BYTES:,} bytes"
    if "\x00" in text:
        return "contains a NUL character: it is not a text file"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


@functools.cache
def _environment() -> ImmutableSandboxedEnvironment:
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415 - only publishing and rendering need it

    return ImmutableSandboxedEnvironment(autoescape=True, trim_blocks=False, lstrip_blocks=False)


def template_compile(text: str) -> Template:
    """Return the compiled result template ``text`` (sandboxed, autoescaped).

    Raise jinja2.TemplateSyntaxError for a broken one (unknown filters and
    tests included: Jinja2 finds them when compiling).
    """
    return _environment().from_string(text)


def template_syntax_problem(text: str) -> str | None:
    """Return why ``text`` does not compile as a result template ("on line N: ..."), or None when it does."""
    from jinja2 import TemplateSyntaxError  # noqa: PLC0415 - see _environment

    try:
        template_compile(text)
    except TemplateSyntaxError as error:
        return f"does not compile on line {error.lineno}: {error.message}"
    return None


def template_references(definition: ServiceDefinition) -> list[tuple[TemplatePath, str]]:
    """Return (path in the definition, template path) for every result with a template, in file order."""
    return [
        (("registrations", registration_index, "results", result_index, "template"), result.template)
        for registration_index, registration in enumerate(definition.registrations)
        for result_index, result in enumerate(registration.results)
        if result.template is not None
    ]


def template_read(directory: Path, relative: str) -> str:
    """Return the text of the template ``relative`` to ``directory`` (the definition file's folder).

    ``relative`` must already pass :func:`template_path_problem`. Raise
    TemplateReadError (``publish.template_missing``,
    ``publish.template_outside``, ``publish.template_too_large``,
    ``publish.template_not_text``).
    """
    base = directory.resolve()
    candidate = base / relative
    try:
        resolved = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise TemplateReadError(
            "publish.template_missing", f"There is no file {relative} beside the definition file"
        ) from None
    except (OSError, RuntimeError) as error:  # a symbolic link loop, a permission problem
        raise TemplateReadError("publish.template_missing", f"{relative} cannot be read: {error}") from None
    if not resolved.is_relative_to(base):
        raise TemplateReadError(
            "publish.template_outside", f"{relative} leads outside the definition's folder (a symbolic link)"
        )
    if not resolved.is_file():
        raise TemplateReadError("publish.template_missing", f"{relative} is not a file")
    size = resolved.stat().st_size
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateReadError(
            "publish.template_too_large",
            f"{relative} is {size:,} bytes; the most a template may be is {MAX_TEMPLATE_BYTES:,} bytes",
        )
    with resolved.open("rb") as file:
        data = file.read(MAX_TEMPLATE_BYTES + 1)  # the file may have grown since stat()
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateReadError(
            "publish.template_too_large",
            f"{relative} is over {MAX_TEMPLATE_BYTES:,} bytes, the most a template may be",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TemplateReadError(
            "publish.template_not_text", f"{relative} is not UTF-8 text (byte {error.start})"
        ) from None
    problem = template_text_problem(text)
    if problem is not None:
        raise TemplateReadError("publish.template_not_text", f"{relative} {problem}")
    return text
