"""Load a definition file: bytes -> YAML -> pydantic models -> validated definition.

:func:`load_definition_file` and :func:`load_definition_text` never raise for
bad input: every problem (hostile bytes, YAML, schema, CEL, page graph) comes
back in :attr:`LoadResult.problems`, located at a line and column of the file.
Only bugs raise. A file is a service definition, or a catalogue file when its
top level has ``catalogues`` and no ``pages``.

Pydantic's errors are rewritten here into :class:`Problem` objects with
specific messages: which key is unknown and what was probably meant, what type
was expected and what was found (and how to quote YAML's surprising
``no``/``yes``), which values are allowed.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

import pydantic

from govserve.catalogue.definitions import schema
from govserve.catalogue.definitions.errors import Path, Problem, ProblemCode, Severity, format_path
from govserve.catalogue.definitions.source import MAX_BYTES, MAX_PROBLEMS, SourceMap, decode, parse, too_large


@dataclass(slots=True)
class LoadResult:
    """What loading one file produced.

    ``definition`` is set for a service file whose schema is valid (it may
    still have semantic errors: check :attr:`ok`); ``catalogues`` holds the
    catalogues of a catalogue file. ``problems`` are in file order.
    """

    filename: str
    definition: schema.ServiceDefinition | None = None
    catalogues: list[schema.Catalogue] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    source: SourceMap = field(default_factory=SourceMap)

    @property
    def ok(self) -> bool:
        """Return whether the file has no errors (warnings allowed)."""
        return not any(problem.is_error for problem in self.problems)

    @property
    def errors(self) -> list[Problem]:
        """Return the problems that block publishing."""
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """Return the problems that do not block publishing."""
        return [problem for problem in self.problems if not problem.is_error]


def load_definition_file(path: str | os.PathLike[str], *, validate: bool = True) -> LoadResult:
    """Load and check the definition or catalogue file at ``path``.

    The size is checked before the file is read. A missing or unreadable file
    is a problem (``file.not_found``, ``file.unreadable``), not an exception.
    ``validate=False`` stops after the schema (no CEL, no page graph).
    """
    filename = os.fspath(path)
    try:
        size = os.stat(filename).st_size
        if size > MAX_BYTES:
            return LoadResult(filename, problems=[too_large(filename, size)])
        with open(filename, "rb") as handle:
            # Read one byte more than allowed: the file may have grown since stat.
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return LoadResult(
            filename, problems=[_file_problem(ProblemCode.FILE_NOT_FOUND, "The file does not exist", filename)]
        )
    except IsADirectoryError:
        return LoadResult(
            filename, problems=[_file_problem(ProblemCode.FILE_UNREADABLE, "This is a directory, not a file", filename)]
        )
    except OSError as exc:
        message = f"The file cannot be read: {exc.strerror or exc}"
        return LoadResult(filename, problems=[_file_problem(ProblemCode.FILE_UNREADABLE, message, filename)])
    return load_definition_text(data, filename=filename, validate=validate)


def load_definition_text(
    text: str | bytes,
    *,
    filename: str,
    validate: bool = True,
) -> LoadResult:
    """Load and check a definition or catalogue from ``text`` (bytes must be UTF-8).

    ``filename`` names the source in problems; ``validate=False`` stops after
    the schema.
    """
    result = LoadResult(filename)
    problems = result.problems
    decoded = decode(text, filename, problems)
    if decoded is None:
        return result
    data, result.source = parse(decoded, filename, problems)
    if data is not None:
        _load_document(data, result)
        if validate and result.definition is not None:
            from govserve.catalogue.definitions.validate import validate_definition  # noqa: PLC0415 - cycle

            problems.extend(validate_definition(result.definition, source=result.source, filename=filename))
        elif validate and result.catalogues:
            from govserve.catalogue.definitions.validate import validate_catalogues  # noqa: PLC0415 - cycle

            problems.extend(validate_catalogues(result.catalogues, source=result.source, filename=filename))
    problems.sort(key=lambda problem: (problem.line or 0, problem.column or 0))
    if len(problems) >= MAX_PROBLEMS:
        del problems[MAX_PROBLEMS:]
        problems.append(
            _file_problem(
                ProblemCode.FILE_TOO_MANY_PROBLEMS,
                f"Stopped after {MAX_PROBLEMS} problems; fix these and check again",
                filename,
            )
        )
    return result


def _file_problem(code: ProblemCode, message: str, filename: str) -> Problem:
    return Problem(code, "error", message, filename, None, None, "")


def _load_document(data: Any, result: LoadResult) -> None:
    """Validate the parsed document against the models and fill ``result``."""
    source, filename = result.source, result.filename
    reporter = _Reporter(result.problems, source, filename)
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else _describe(data, source.value(()))
        reporter.add(
            ProblemCode.SCHEMA_EXPECTED_MAPPING,
            (),
            f"A definition file must be a mapping of keys (schema_version, id, title...), not {found}",
        )
        return
    if not _version_supported(data, reporter):
        return
    is_catalogue_file = "catalogues" in data and "pages" not in data
    model: type[pydantic.BaseModel] = schema.CatalogueFile if is_catalogue_file else schema.ServiceDefinition
    if not is_catalogue_file and "integrations" in data:
        reporter.add(
            ProblemCode.SCHEMA_RESERVED_KEY,
            ("integrations",),
            "`integrations` is reserved: connectors to other systems are not available yet",
            "Remove the `integrations` section",
            at_key=True,
        )
        data = {key: value for key, value in data.items() if key != "integrations"}
    try:
        document = model.model_validate(data)
    except pydantic.ValidationError as exc:
        _report_validation_error(exc, model, data, reporter)
        return
    if isinstance(document, schema.CatalogueFile):
        result.catalogues = list(document.catalogues)
    else:
        assert isinstance(document, schema.ServiceDefinition)  # noqa: S101 - model chosen above
        result.definition = document


def _version_supported(data: dict[str, Any], reporter: _Reporter) -> bool:
    if "schema_version" not in data:
        reporter.add(
            ProblemCode.SCHEMA_UNSUPPORTED_VERSION,
            (),
            "`schema_version` is missing",
            f"Add `schema_version: {schema.SCHEMA_VERSION}` as the first line",
        )
        return False
    version = data["schema_version"]
    if type(version) is not int or version != schema.SCHEMA_VERSION:
        shown = _describe(version, reporter.source.value(("schema_version",)))
        reporter.add(
            ProblemCode.SCHEMA_UNSUPPORTED_VERSION,
            ("schema_version",),
            f"`schema_version` {shown} is not supported: this version of govserve reads {schema.SCHEMA_VERSION}",
            f"Write `schema_version: {schema.SCHEMA_VERSION}`",
        )
        return False
    return True


@dataclass(slots=True)
class _Reporter:
    problems: list[Problem]
    source: SourceMap
    filename: str
    seen: set[tuple[Path, ProblemCode]] = field(default_factory=set)

    def add(
        self,
        code: ProblemCode,
        path: Path,
        message: str,
        suggestion: str | None = None,
        *,
        severity: Severity = "error",
        at_key: bool = False,
        at: Path | None = None,
    ) -> None:
        """Record a problem about ``path``, located at its key or value (or at ``at``)."""
        if self.source.is_refused(path):
            return  # The reader refused this value (an alias) and said so already.
        if (path, code) in self.seen:
            return  # One problem per place: a union reports each member's failure.
        self.seen.add((path, code))
        where = at if at is not None else path
        mark = self.source.key(where) if at_key else self.source.value(where)
        line, column = (mark.line, mark.column) if mark is not None else (1, 1)
        self.problems.append(
            Problem(code, severity, message, self.filename, line, column, format_path(path), suggestion)
        )


# --- Pydantic errors -> problems ------------------------------------------------


@dataclass(slots=True)
class _Target:
    """Where a pydantic error ``loc`` points, in the data and in the models."""

    path: Path
    annotation: Any  # the declared type at the end of the path (None when unknown)
    model: type[pydantic.BaseModel] | None  # the model whose key the path ends on
    union: tuple[Any, ...]  # the members of a union passed through at the end of the path
    value: Any
    found: bool  # whether the path exists in the data


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` from a type."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [member for member in get_args(annotation) if member is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)


_UNION_TAGS = {bool: ("bool",), int: ("int",), float: ("float",), str: ("str", "constrained-str")}


def _union_member(members: Iterable[Any], tag: str | int) -> Any:
    """Return the member of a union that pydantic names ``tag`` in an error location."""
    for member in members:
        plain = _unwrap(member)
        if _is_model(plain):
            type_field = plain.model_fields.get("type")
            if type_field is not None and tag in get_args(type_field.annotation):
                return member
            if plain.__name__ == tag:
                return member
        elif tag in _UNION_TAGS.get(plain, ()):
            return member
    return None


def _resolve(root: type[pydantic.BaseModel], loc: tuple[str | int, ...], data: Any) -> _Target:
    annotation: Any = root
    model: type[pydantic.BaseModel] | None = None
    union: tuple[Any, ...] = ()
    path: list[str | int] = []
    value, found = data, True
    for element in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            union = tuple(member for member in get_args(annotation) if member is not type(None))
            annotation = _union_member(union, element)
            if annotation is not None:
                continue
            # Not a member name: pydantic named the union's own key. Fall through unknown.
        union = ()
        if _is_model(annotation):
            model = annotation
            model_field = annotation.model_fields.get(element) if isinstance(element, str) else None
            annotation = model_field.annotation if model_field is not None else None
        elif origin in (list, dict):
            model = None
            annotation = get_args(annotation)[-1]
        else:
            model, annotation = None, None
        path.append(element)
        in_mapping = isinstance(value, dict) and element in value
        in_list = isinstance(value, list) and isinstance(element, int) and 0 <= element < len(value)
        if found and (in_mapping or in_list):
            value = value[element]
        else:
            value, found = None, False
    return _Target(tuple(path), annotation, model, union, value, found)


def _report_validation_error(
    exc: pydantic.ValidationError, root: type[pydantic.BaseModel], data: Any, reporter: _Reporter
) -> None:
    for error in exc.errors(include_url=False):
        if len(reporter.problems) > MAX_PROBLEMS:
            break  # the rest would not be shown
        target = _resolve(root, tuple(error["loc"]), data)
        _report_error(error, target, reporter)


def _name(path: Path) -> str:
    """Return how a message names the key at ``path``: ``label``, or ``languages[1]``."""
    for index in range(len(path) - 1, -1, -1):
        if isinstance(path[index], str):
            if path[index] in get_args(schema.Language) and index > 0 and isinstance(path[index - 1], str):
                index -= 1  # noqa: PLW2901 - name the text, not its language: `summary.en`
            return format_path(path[index:])
    return "the document"


def _describe(value: Any, mark: Any = None) -> str:
    """Describe a YAML value for a message: ``a list``, ``the number 12``, ``no (a yes/no value)``."""
    raw = getattr(mark, "raw", None)
    if isinstance(value, bool):
        return f"`{raw}` (read as {'true' if value else 'false'})" if raw is not None else str(value).lower()
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, int | float):
        return f"the number {raw if raw is not None else value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"`{shown}`"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _expected(annotation: Any) -> str:
    plain = _unwrap(annotation)
    if plain is schema.LocalisedText:
        return "text (or a mapping by language: {en: ..., cy: ...})"
    if _is_model(plain) or get_origin(plain) is dict:
        return "a mapping"
    if get_origin(plain) is list:
        return "a list"
    if get_origin(plain) is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(plain))
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(plain, "a value")


_PATTERN_HELP = {
    schema.NAME_PATTERN: "lower-case letters, digits and underscores, starting with a letter (e.g. `date_of_birth`)",
    schema.SLUG_PATTERN: "lower-case letters and digits, words joined by '-' or '_' (e.g. `proof-of-address`)",
    schema.DURATION_PATTERN: "an ISO 8601 period such as P6Y, P18M, P2W or P90D",
    schema.DATE_BOUND_PATTERN: "today, tomorrow, yesterday or a date such as 2025-01-31",
    schema.CURRENCY_PATTERN: "a three-letter ISO 4217 currency code such as GBP",
    schema.REGION_PATTERN: "a two-letter ISO 3166 region code such as GB",
}


def _identifier_suggestion(value: str, separator: str) -> str | None:
    words = re.findall(r"[a-z0-9]+", value.lower())
    if not words or not words[0][0].isalpha():
        return None
    return f"Did you mean `{separator.join(words)}`?"


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


@dataclass(frozen=True, slots=True)
class _ErrorContext:
    """One pydantic error, resolved: what the handlers below need."""

    kind: str
    target: _Target
    ctx: dict[str, Any]
    message: str
    mark: Any

    @property
    def path(self) -> Path:
        return self.target.path

    @property
    def name(self) -> str:
        return _name(self.target.path)

    @property
    def found(self) -> str:
        return _describe(self.target.value, self.mark)

    @property
    def raw(self) -> str | None:
        return getattr(self.mark, "raw", None)


def _report_error(error: Any, target: _Target, reporter: _Reporter) -> None:
    mark = reporter.source.value(target.path) if target.found else None
    context = _ErrorContext(error["type"], target, error.get("ctx") or {}, error["msg"], mark)
    handler = _HANDLERS.get(context.kind)
    if handler is not None:
        handler(context, reporter)
    elif context.kind in _BOUND_MESSAGES:
        reporter.add(ProblemCode.SCHEMA_INVALID_VALUE, context.path, f"`{context.name}` {_bound_message(context)}")
    else:
        reporter.add(ProblemCode.SCHEMA_INVALID_VALUE, context.path, f"`{context.name}`: {context.message}")


def _missing(error: _ErrorContext, reporter: _Reporter) -> None:
    path = error.path
    reporter.add(ProblemCode.SCHEMA_MISSING_KEY, path, f"Required key `{path[-1]}` is missing", at=path[:-1])


def _unknown_key(error: _ErrorContext, reporter: _Reporter) -> None:
    path, model = error.path, error.target.model
    allowed = sorted(model.model_fields) if model is not None else []
    closest = _closest(str(path[-1]), allowed)
    suggestion = f"Did you mean `{closest}`?" if closest else "Allowed keys here: " + ", ".join(allowed)
    reporter.add(ProblemCode.SCHEMA_UNKNOWN_KEY, path, f"Unknown key `{path[-1]}`", suggestion, at_key=True)


def _field_type(error: _ErrorContext, reporter: _Reporter) -> None:
    field_types = get_args(schema.FieldType)
    listing = "Field types: " + ", ".join(field_types)
    path = (*error.path, "type")
    if error.kind == "union_tag_not_found":
        reporter.add(ProblemCode.SCHEMA_MISSING_KEY, path, "Required key `type` is missing", listing, at=error.path)
        return
    tag = str(error.ctx.get("tag", ""))
    closest = _closest(tag, field_types)
    suggestion = f"Did you mean `{closest}`?" if closest else listing
    reporter.add(ProblemCode.SCHEMA_UNKNOWN_FIELD_TYPE, path, f"Unknown field type `{tag}`", suggestion)


def _not_a_mapping(error: _ErrorContext, reporter: _Reporter) -> None:
    annotation = error.target.annotation
    expected = _expected(annotation) if annotation is not None else "a mapping"
    code = ProblemCode.SCHEMA_EXPECTED_MAPPING
    suggestion = None
    if _unwrap(annotation) is schema.LocalisedText and not isinstance(error.target.value, list):
        code = ProblemCode.SCHEMA_WRONG_TYPE
        if error.raw is not None:
            suggestion = f'Put it in quotes: "{error.raw}"'
    reporter.add(code, error.path, f"`{error.name}` must be {expected}, not {error.found}", suggestion)


def _not_a_list(error: _ErrorContext, reporter: _Reporter) -> None:
    reporter.add(
        ProblemCode.SCHEMA_EXPECTED_LIST,
        error.path,
        f"`{error.name}` must be a list, not {error.found}",
        "Write each item on its own line starting with '- '",
    )


def _wrong_type(error: _ErrorContext, reporter: _Reporter) -> None:
    target = error.target
    members = target.union or ((target.annotation,) if target.annotation is not None else ())
    expected = " or ".join(dict.fromkeys(_expected(member) for member in members)) or "another type"
    suggestion = None
    if expected == "text" and error.raw is not None:
        suggestion = f'Put it in quotes: "{error.raw}"'
    elif isinstance(target.value, float) and "whole number" in expected:
        suggestion = "Write a whole number"
        if target.path[-1] == "amount" or target.model is schema.MoneyValidation:
            suggestion = "Amounts of money are whole numbers of minor units: write 2550 for 25.50"
    reporter.add(
        ProblemCode.SCHEMA_WRONG_TYPE, error.path, f"`{error.name}` must be {expected}, not {error.found}", suggestion
    )


def _not_allowed(error: _ErrorContext, reporter: _Reporter) -> None:
    plain = _unwrap(error.target.annotation)
    allowed = [str(value) for value in get_args(plain)] if get_origin(plain) is Literal else []
    listing = ", ".join(f"`{value}`" for value in allowed) or str(error.ctx.get("expected", ""))
    value = error.target.value
    closest = _closest(value, allowed) if isinstance(value, str) else None
    reporter.add(
        ProblemCode.SCHEMA_INVALID_VALUE,
        error.path,
        f"`{error.name}` must be one of {listing}, not {error.found}",
        f"Did you mean `{closest}`?" if closest else None,
    )


def _pattern(error: _ErrorContext, reporter: _Reporter) -> None:
    pattern = str(error.ctx.get("pattern", ""))
    help_text = _PATTERN_HELP.get(pattern, f"text matching {pattern}")
    suggestion = None
    value = error.target.value
    if isinstance(value, str) and pattern in (schema.NAME_PATTERN, schema.SLUG_PATTERN):
        suggestion = _identifier_suggestion(value, "_" if pattern == schema.NAME_PATTERN else "-")
    reporter.add(
        ProblemCode.SCHEMA_INVALID_VALUE,
        error.path,
        f"`{error.name}` must be {help_text}, not {error.found}",
        suggestion,
    )


_HANDLERS: dict[str, Any] = {
    "missing": _missing,
    "extra_forbidden": _unknown_key,
    "union_tag_invalid": _field_type,
    "union_tag_not_found": _field_type,
    "model_type": _not_a_mapping,
    "dict_type": _not_a_mapping,
    "model_attributes_type": _not_a_mapping,
    "list_type": _not_a_list,
    "string_type": _wrong_type,
    "int_type": _wrong_type,
    "bool_type": _wrong_type,
    "float_type": _wrong_type,
    "int_from_float": _wrong_type,
    "literal_error": _not_allowed,
    "string_pattern_mismatch": _pattern,
}

_BOUND_MESSAGES = {
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "greater_than_equal": "must be {ge} or more, not {found}",
    "greater_than": "must be more than {gt}, not {found}",
    "less_than_equal": "must be {le} or less, not {found}",
    "less_than": "must be less than {lt}, not {found}",
}


def _bound_message(error: _ErrorContext) -> str:
    if error.kind == "string_too_short" and error.ctx.get("min_length") == 1:
        return "must not be empty"
    return _BOUND_MESSAGES[error.kind].format(found=error.found, **error.ctx)
