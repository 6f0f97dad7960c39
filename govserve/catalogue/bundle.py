"""Definition bundles: one published service version with the catalogues it uses, in one file.

A bundle moves a service between environments (test → production) or into
version control. It is a JSON document (UTF-8, keys sorted, indented so a
diff of two bundles reads well)::

    {
      "format": "govserve-definition-bundle",
      "format_version": 2,
      "service": "street-trading-licence",
      "version": 3,
      "content_hash": "<sha-256 of the version, see content_hash_for>",
      "published_at": "2026-11-27T16:00:00+00:00",
      "publish_reason": "Fee rise from April",
      "definition": {"name": "street-trading-licence.yaml", "text": "<the YAML as written>"},
      "catalogues": [
        {"id": "countries", "version": 2, "content_hash": "<sha-256>",
         "name": "countries.yaml", "text": "<the catalogue file as written>"}
      ],
      "templates": [
        {"path": "templates/street-trading-licence.html", "text": "<the template as written>"}
      ]
    }

The definition travels as the text its authors wrote (comments included),
each catalogue as the text of the file it was published from, and each
result template (:mod:`govserve.catalogue.templates`) as its text under the
relative path the definition names, so importing on another database
recreates the same content hash. :func:`bundle_parse` refuses anything else
with :class:`~govserve.catalogue.errors.BundleInvalidError`: not JSON,
another format or format version, missing or mistyped members, a template
path that is absolute, climbs with ``..`` or is otherwise not a plain
relative path, a template over the size limit or not text, the same path
twice, more than :data:`MAX_BUNDLE_BYTES`. The hashes are checked against
the texts once they are parsed (``definition_import``), so a bundle edited
by hand is refused.

Format 1 (before templates travelled) is still read: it has no
``templates`` member, and its version imports without templates, as it was
published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govserve.catalogue.errors import BundleInvalidError
from govserve.catalogue.templates import template_path_problem, template_text_problem

BUNDLE_FORMAT = "govserve-definition-bundle"
BUNDLE_FORMAT_VERSION = 2
READABLE_FORMAT_VERSIONS = (1, 2)
TEMPLATES_SINCE_FORMAT = 2
"""Bundles of format 1 carry no result templates."""
MAX_BUNDLE_BYTES = 20 * 1024 * 1024
"""A definition (at most 5 MiB) plus its catalogues; anything bigger is refused before parsing."""

_HASH_PREFIX = b"govserve-service-version/1\n"


def canonical_json(value: Any) -> str:
    """Return ``value`` as canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def catalogue_hash_for(parsed: Mapping[str, Any]) -> str:
    """Return the content hash of one catalogue: SHA-256 of its canonical JSON.

    A catalogue is data: two files that give the same options (whatever their
    comments, layout, or sibling catalogues) give the same hash.
    """
    return hashlib.sha256(canonical_json(parsed).encode("utf-8")).hexdigest()


def content_hash_for(
    *, definition_text: str, catalogue_hashes: Mapping[str, str], templates: Mapping[str, str] | None = None
) -> str:
    """Return the content hash of a service version.

    SHA-256 over a format prefix and the canonical JSON of the definition's
    text exactly as written, the content hash of each pinned catalogue by
    id, and the text of each result template by path. Two versions with the
    same hash publish the same thing. ``templates`` enters the payload only
    when there are some, so versions without templates keep the hash they
    were published with.
    """
    content: dict[str, Any] = {"definition": definition_text, "catalogues": dict(catalogue_hashes)}
    if templates:
        content["templates"] = dict(templates)
    payload = canonical_json(content)
    return hashlib.sha256(_HASH_PREFIX + payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BundledCatalogue:
    """A catalogue as carried in a bundle: its id, the file it came from, and hash."""

    id: str
    version: int
    content_hash: str
    name: str
    text: str


@dataclass(frozen=True)
class BundledTemplate:
    """A result template as carried in a bundle: the relative path the definition names, and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class Bundle:
    """A parsed bundle: not yet validated against the definition language.

    ``format_version`` is the format it was read in (1 carries no templates).
    """

    service: str
    version: int
    content_hash: str
    published_at: str
    publish_reason: str
    definition_name: str
    definition_text: str
    catalogues: tuple[BundledCatalogue, ...]
    templates: tuple[BundledTemplate, ...] = ()
    format_version: int = BUNDLE_FORMAT_VERSION

    def as_json(self) -> dict[str, Any]:
        """Return the JSON form of the bundle (always the current format)."""
        return {
            "format": BUNDLE_FORMAT,
            "format_version": BUNDLE_FORMAT_VERSION,
            "service": self.service,
            "version": self.version,
            "content_hash": self.content_hash,
            "published_at": self.published_at,
            "publish_reason": self.publish_reason,
            "definition": {"name": self.definition_name, "text": self.definition_text},
            "catalogues": [
                {
                    "id": catalogue.id,
                    "version": catalogue.version,
                    "content_hash": catalogue.content_hash,
                    "name": catalogue.name,
                    "text": catalogue.text,
                }
                for catalogue in self.catalogues
            ],
            "templates": [{"path": template.path, "text": template.text} for template in self.templates],
        }

    def to_bytes(self) -> bytes:
        """Return the bundle file's bytes (UTF-8 JSON, sorted keys, a final newline)."""
        return (json.dumps(self.as_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _member(document: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in document:
        raise BundleInvalidError(f"The bundle has no '{key}' in {where}.")
    value = document[key]
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise BundleInvalidError(f"'{key}' in {where} must be {_KINDS[kind]}, not {_KINDS.get(type(value), 'null')}.")
    return value


_KINDS: dict[type, str] = {
    int: "a whole number",
    bool: "true or false",
    float: "a number",
    str: "text",
    dict: "a JSON object",
    list: "a JSON list",
}


def bundle_parse(data: bytes) -> Bundle:
    """Return the bundle in ``data``; raise BundleInvalidError describing the first thing wrong."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleInvalidError(
            f"The bundle is {len(data):,} bytes; the most a bundle may be is {MAX_BUNDLE_BYTES:,} bytes."
        )
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BundleInvalidError(f"The bundle is not UTF-8 text (byte {error.start}).") from error
    except json.JSONDecodeError as error:
        raise BundleInvalidError(
            f"The bundle is not JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from error
    if not isinstance(document, dict):
        raise BundleInvalidError("The bundle must be a JSON object.")
    if document.get("format") != BUNDLE_FORMAT:
        raise BundleInvalidError(f"This is not a govserve definition bundle (format must be '{BUNDLE_FORMAT}').")
    format_version = _member(document, "format_version", int, "the bundle")
    if format_version not in READABLE_FORMAT_VERSIONS:
        raise BundleInvalidError(
            f"Bundle format version {format_version} is not supported; this govserve reads versions "
            f"{', '.join(str(number) for number in READABLE_FORMAT_VERSIONS)}."
        )
    definition = _member(document, "definition", dict, "the bundle")
    catalogues: list[BundledCatalogue] = []
    for index, entry in enumerate(_member(document, "catalogues", list, "the bundle")):
        where = f"catalogues[{index}]"
        if not isinstance(entry, dict):
            raise BundleInvalidError(f"{where} must be a JSON object.")
        catalogues.append(
            BundledCatalogue(
                id=_member(entry, "id", str, where),
                version=_member(entry, "version", int, where),
                content_hash=_member(entry, "content_hash", str, where),
                name=_member(entry, "name", str, where),
                text=_member(entry, "text", str, where),
            )
        )
    ids = [catalogue.id for catalogue in catalogues]
    if len(set(ids)) != len(ids):
        raise BundleInvalidError("The bundle lists a catalogue twice.")
    templates = _templates(document) if format_version >= TEMPLATES_SINCE_FORMAT else ()
    return Bundle(
        service=_member(document, "service", str, "the bundle"),
        version=_member(document, "version", int, "the bundle"),
        content_hash=_member(document, "content_hash", str, "the bundle"),
        published_at=_member(document, "published_at", str, "the bundle"),
        publish_reason=_member(document, "publish_reason", str, "the bundle"),
        definition_name=_member(definition, "name", str, "definition"),
        definition_text=_member(definition, "text", str, "definition"),
        catalogues=tuple(catalogues),
        templates=templates,
        format_version=format_version,
    )


def _templates(document: Mapping[str, Any]) -> tuple[BundledTemplate, ...]:
    templates: list[BundledTemplate] = []
    seen: set[str] = set()
    for index, entry in enumerate(_member(document, "templates", list, "the bundle")):
        where = f"templates[{index}]"
        if not isinstance(entry, dict):
            raise BundleInvalidError(f"{where} must be a JSON object.")
        path = _member(entry, "path", str, where)
        text = _member(entry, "text", str, where)
        problem = template_path_problem(path)
        if problem is not None:
            raise BundleInvalidError(f"The template path {path!r} in {where} {problem}.")
        problem = template_text_problem(text)
        if problem is not None:
            raise BundleInvalidError(f"The template {path} in {where} {problem}.")
        if path in seen:
            raise BundleInvalidError(f"The bundle carries the template {path} twice.")
        seen.add(path)
        templates.append(BundledTemplate(path=path, text=text))
    return tuple(templates)
