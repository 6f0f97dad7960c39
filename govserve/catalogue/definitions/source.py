"""Read definition YAML safely, keeping where every key and value came from.

We drive PyYAML's C parser (a :class:`yaml.CSafeLoader` subclass) event by
event and build plain Python values ourselves, because that is the one place
where we can, cheaply and without recursion:

* record the line and column of every key and value (a :class:`SourceMap`
  keyed by the value's path), so that schema and CEL errors point at the text;
* refuse what a definition must not contain: duplicate keys, anchors and
  aliases (no "billion laughs"), explicit tags (``!!python/object``), keys that
  are not text, nesting deeper than :data:`MAX_DEPTH`, more than one document.

Bytes are checked before the parser sees them: at most :data:`MAX_BYTES`,
UTF-8 only, not empty. Timestamps stay text (``2025-01-31`` is a string; the
models parse dates where they expect them). Hostile input yields problems,
never an exception: the only exceptions that escape are bugs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from govserve.catalogue.definitions.errors import Path, Problem, ProblemCode

MAX_BYTES = 5 * 1024 * 1024
"""The largest definition file we read (5 MiB); larger files are refused before parsing."""

MAX_DEPTH = 64
"""The deepest nesting of mappings and lists a definition may have."""

MAX_VALUES = 100_000
"""The most values (scalars, mappings, lists) a definition may hold.

A 200-page, 2,000-field service holds about 26,000; a file of millions of
tiny values (``[1,1,1,...]``) is an attack on the time the check takes.
"""

MAX_PROBLEMS = 500
"""Stop reporting after this many problems in one file (hostile files could have millions)."""

# Plain scalars YAML may read as something other than text: numbers (and timestamps), and
# these words (YAML 1.1 booleans and nulls). Any other plain scalar is text: no resolver runs.
_NUMERIC_START = frozenset("0123456789+-.~")
_SPECIAL_WORDS = frozenset(
    {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE"}
    | {"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL"}
)

# The implicit types we construct; everything else (timestamps, ``<<``, ``=``) stays text.
_CONSTRUCTED_TAGS = frozenset(
    {"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
)


class Mark(NamedTuple):
    """A 1-based position in the file, and for text values how the scalar was written.

    ``style`` is the YAML scalar style: ``""`` plain, ``"'"`` or ``'"'`` quoted,
    ``"|"`` literal block, ``">"`` folded block (``None`` for mappings and
    lists). ``raw`` is the scalar as written when YAML gave it a non-text type
    (``no`` -> ``False``), so messages can show what the author typed.
    """

    line: int
    column: int
    style: str | None = None
    raw: str | None = None


@dataclass(slots=True)
class SourceMap:
    """Where each value (and each mapping key) of a document is in its file."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    refused: set[Path] = field(default_factory=set)
    """Paths whose value was refused (an alias): the schema's complaints about them are noise."""
    text: str = ""
    _lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """Return the lines of the file (split on first use: only errors need them)."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def position(self, path: Path) -> tuple[int, int]:
        """Return the line and column of the value at ``path`` (of the document when unknown)."""
        mark = self.value(path)
        return (mark.line, mark.column) if mark is not None else (1, 1)

    def position_in_scalar(self, path: Path, offset: int) -> tuple[int, int]:
        """Return the line and column of character ``offset`` of the text value at ``path``.

        Exact for plain and quoted one-line scalars and for literal blocks
        (``|``); for folded and multi-line scalars, where YAML joins lines with
        a space, exact unless the text has escapes or blank lines.
        """
        mark = self.values.get(path)
        if mark is None or mark.style is None:
            return self.position(path)
        lines = self.lines
        if mark.style in {"|", ">"}:
            return self._position_in_block(mark, offset)
        start = mark.column - 1 + (1 if mark.style in {"'", '"'} else 0)
        row = mark.line - 1
        remaining = offset
        segment = lines[row][start:].rstrip() if row < len(lines) else ""
        if remaining <= len(segment) or row + 1 >= len(lines):
            return row + 1, start + remaining + 1
        remaining -= len(segment) + 1
        for row in range(mark.line, len(lines)):
            text = lines[row]
            stripped = text.lstrip()
            segment = stripped.rstrip()
            if remaining <= len(segment):
                return row + 1, len(text) - len(stripped) + remaining + 1
            remaining -= len(segment) + 1
        return mark.line, mark.column

    def _position_in_block(self, mark: Mark, offset: int) -> tuple[int, int]:
        lines = self.lines
        remaining = offset
        indent: int | None = None
        end = (mark.line, mark.column)  # just after the last character of the block seen so far
        for row in range(mark.line, len(lines)):
            text = lines[row]
            if not text.strip():
                if remaining <= 0:
                    return row + 1, 1
                remaining -= 1
                continue
            leading = len(text) - len(text.lstrip(" "))
            if indent is None:
                indent = leading
            elif leading < indent:
                break  # the block has ended: the offset is past its last character
            content = text[indent:]
            if remaining <= len(content):
                return row + 1, indent + remaining + 1
            remaining -= len(content) + 1
            end = (row + 1, len(text) + 1)
        return end

    def is_refused(self, path: Path) -> bool:
        """Return whether ``path`` is, or is inside, a value the reader refused."""
        return bool(self.refused) and any(path[:length] in self.refused for length in range(len(path) + 1))

    def value(self, path: Path) -> Mark | None:
        """Return the mark of the value at ``path``, or of its nearest located ancestor."""
        while True:
            mark = self.values.get(path)
            if mark is not None or not path:
                return mark
            path = path[:-1]

    def key(self, path: Path) -> Mark | None:
        """Return the mark of the key naming ``path`` (the value's mark for list items)."""
        mark = self.keys.get(path)
        return mark if mark is not None else self.value(path)


if not hasattr(yaml, "CSafeLoader"):  # pragma: no cover - the PyYAML wheels ship libyaml
    # The pure-Python parser would work, about twenty times slower: refuse loudly rather than
    # let `govserve check` quietly miss its one-second budget.
    raise ImportError("govserve needs PyYAML built with libyaml (yaml.CSafeLoader); reinstall PyYAML from a wheel")


class DefinitionLoader(yaml.CSafeLoader):
    """PyYAML's C loader, used only as an event source and a scalar resolver."""


class _StopParsingError(Exception):
    """Parsing cannot go on (too deep, a second document): the problem is already recorded."""


class _Frame:
    """A mapping or list being built."""

    __slots__ = ("container", "key", "mark", "path", "skip_value")

    def __init__(self, container: dict[str, Any] | list[Any], path: Path, mark: Mark) -> None:
        self.container = container
        self.path = path
        self.mark = mark
        # Mappings alternate key, value: ``key`` is None while a key is expected.
        self.key: str | None = None
        self.skip_value = False


class _Composer:
    """Build Python values from parser events, recording marks and problems."""

    def __init__(self, text: str, filename: str, problems: list[Problem]) -> None:
        self.loader = DefinitionLoader(text)
        self.text = text
        self.filename = filename
        self.problems = problems
        self.source = SourceMap()
        self.stack: list[_Frame] = []
        self.anchor_reported = False

    def problem(self, code: ProblemCode, message: str, mark: Any, suggestion: str | None = None) -> None:
        """Record a problem at ``mark``: one of ours (1-based) or the parser's (0-based)."""
        if isinstance(mark, Mark):
            line, column = mark.line, mark.column
        elif mark is not None:
            line, column = mark.line + 1, mark.column + 1
        else:
            line, column = 1, 1
        if len(self.problems) >= MAX_PROBLEMS:
            return
        self.problems.append(Problem(code, "error", message, self.filename, line, column, "", suggestion))

    def compose(self) -> tuple[Any, SourceMap, bool]:
        """Return ``(value, source map, found a document)``; problems are appended as found."""
        try:
            return self._compose()
        except yaml.MarkedYAMLError as exc:
            self._syntax_problem(exc)
            return None, self.source, True
        except yaml.reader.ReaderError as exc:
            # libyaml refuses control characters before any token is built.
            offset = exc.position
            line, column = line_and_column(self.text, offset) if isinstance(offset, int) else (1, 1)
            self.problem(ProblemCode.YAML_SYNTAX, f"YAML syntax error: {exc.reason}", Mark(line, column))
            return None, self.source, True
        except _StopParsingError:
            return None, self.source, True
        finally:
            self.loader.dispose()

    def _syntax_problem(self, exc: yaml.MarkedYAMLError) -> None:
        problem = (exc.problem or "invalid YAML").strip()
        if "maximum nesting depth" in problem:
            self.problem(
                ProblemCode.YAML_TOO_DEEP,
                f"Nesting is deeper than {MAX_DEPTH} levels",
                exc.problem_mark,
                "Flatten the structure; a definition never needs this depth",
            )
            return
        message = f"YAML syntax error: {problem}"
        if exc.context:
            message += f" ({exc.context.strip()}"
            if exc.context_mark is not None and exc.context_mark.line != getattr(exc.problem_mark, "line", None):
                message += f" started on line {exc.context_mark.line + 1}"
            message += ")"
        self.problem(ProblemCode.YAML_SYNTAX, message, exc.problem_mark or exc.context_mark)

    def _compose(self) -> tuple[Any, SourceMap, bool]:  # noqa: PLR0912, PLR0915 - the hot loop, in one piece
        # A method call per event costs a third of the parse of a large definition, so the
        # common events (plain mappings, lists and scalars) are handled inline; anything
        # unusual (anchors, tags, aliases, bad keys, depth) goes through _event.
        loader: Any = self.loader
        get_event = loader.get_event
        resolve = loader.resolve
        values = self.source.values
        keys = self.source.keys
        stack = self.stack
        scalar_event = yaml.ScalarEvent
        mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        new_tuple = tuple.__new__  # Mark(...) without the Python-level __new__ of a NamedTuple
        root: Any = None
        documents = 0
        node_events = (scalar_event, mapping_start, sequence_start, yaml.AliasEvent)
        remaining_values = MAX_VALUES
        while True:
            event: Any = get_event()
            kind = type(event)
            if kind in node_events:
                remaining_values -= 1
                if remaining_values < 0:
                    self.problem(
                        ProblemCode.YAML_TOO_MANY_VALUES,
                        f"The file holds more than {MAX_VALUES:,} values; a definition never needs as many",
                        event.start_mark,
                        "Split the service, or move long option lists into catalogue files",
                    )
                    raise _StopParsingError
            container: Any
            if kind is scalar_event and event.anchor is None and event.tag is None and stack:
                # The fast path: a plain or quoted scalar inside a mapping or a list (most events).
                value: Any = event.value
                style = event.style or ""
                raw = None
                if not style and (not value or value[0] in _NUMERIC_START or value in _SPECIAL_WORDS):
                    resolved = resolve(yaml.ScalarNode, value, event.implicit)
                    if resolved in _CONSTRUCTED_TAGS:
                        raw = value
                        value = loader.construct_object(yaml.ScalarNode(resolved, value, style=style))
                start = event.start_mark
                mark = new_tuple(Mark, (start.line + 1, start.column + 1, style, raw))
                frame = stack[-1]
                container = frame.container
                if type(container) is list:
                    values[(*frame.path, len(container))] = mark
                    container.append(value)
                elif frame.key is None and not frame.skip_value:
                    if type(value) is str and value not in container:
                        frame.key = value
                        keys[(*frame.path, value)] = mark
                    else:
                        self._key(value, mark)
                elif frame.skip_value:
                    values[(*frame.path, "<invalid key>")] = mark
                    frame.key, frame.skip_value = None, False
                else:
                    key: Any = frame.key
                    values[(*frame.path, key)] = mark
                    container[key] = value
                    frame.key = None
                continue
            if kind is mapping_end or kind is sequence_end:
                popped = stack.pop()
                container = popped.container
                if not stack:
                    root = container
                    continue
                frame = stack[-1]
                parent: Any = frame.container
                if type(parent) is list:
                    parent.append(container)
                elif frame.key is not None and not frame.skip_value:
                    parent[frame.key] = container
                    frame.key = None
                else:
                    self._attach(container, popped.mark)
                continue
            if (
                (kind is mapping_start or kind is sequence_start)
                and event.anchor is None
                and event.tag is None
                and stack
                and len(stack) < MAX_DEPTH
            ):
                frame = stack[-1]
                if type(frame.container) is list:
                    path = (*frame.path, len(frame.container))
                elif frame.key is not None and not frame.skip_value:
                    path = (*frame.path, frame.key)
                else:
                    done, value = self._event(event)  # a collection as a key, or after a refused key
                    continue
                start = event.start_mark
                values[path] = new_tuple(Mark, (start.line + 1, start.column + 1, None, None))
                stack.append(_Frame({} if kind is mapping_start else [], path, values[path]))
                continue
            if event is None or kind is yaml.StreamEndEvent:
                return root, self.source, documents > 0
            if kind is yaml.StreamStartEvent or kind is yaml.DocumentEndEvent:
                continue
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.problem(
                        ProblemCode.YAML_MULTIPLE_DOCUMENTS,
                        "The file holds more than one YAML document",
                        event.start_mark,
                        "Put one service per file; remove the '---' separator",
                    )
                    raise _StopParsingError
                continue
            done, value = self._event(event)
            if done:
                root = value

    def _event(self, event: yaml.Event) -> tuple[bool, Any]:
        """Handle one node event; return ``(True, value)`` when the document's root is complete."""
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            return self._attach(frame.container, frame.mark)
        if isinstance(event, yaml.AliasEvent):
            self.problem(
                ProblemCode.YAML_ALIAS,
                f"YAML aliases are not allowed (*{event.anchor})",
                event.start_mark,
                "Write the value out in full",
            )
            path = self._child_path()
            mark = Mark(*_start(event))
            if path is None:  # an alias as a key: skip its value
                self.stack[-1].skip_value = True
                return False, None
            self.source.values[path] = mark
            self.source.refused.add(path)
            return self._attach(None, mark)
        assert isinstance(event, yaml.NodeEvent)  # noqa: S101 - the parser's event grammar guarantees it
        if event.anchor is not None:
            self.problem(
                ProblemCode.YAML_ANCHOR,
                f"YAML anchors are not allowed (&{event.anchor})",
                event.start_mark,
                "Remove the anchor and write repeated values out in full",
            )
        tag: str | None = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            self.problem(
                ProblemCode.YAML_EXPLICIT_TAG,
                f"YAML tags are not allowed ({tag.replace('tag:yaml.org,2002:', '!!')})",
                event.start_mark,
                "Remove the tag; quote the value if it must be text",
            )
        if isinstance(event, yaml.ScalarEvent):
            return self._scalar(event)
        assert isinstance(event, yaml.CollectionStartEvent)  # noqa: S101 - see above
        path = self._child_path()
        if len(self.stack) >= MAX_DEPTH:
            self.problem(
                ProblemCode.YAML_TOO_DEEP,
                f"Nesting is deeper than {MAX_DEPTH} levels",
                event.start_mark,
                "Flatten the structure; a definition never needs this depth",
            )
            raise _StopParsingError
        mark = Mark(*_start(event))
        if path is not None:
            self.source.values[path] = mark
        container: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Frame(container, path if path is not None else ("<key>",), mark))
        return False, None

    def _child_path(self) -> Path | None:
        """Return the path of the node about to be built (``None`` when it is a mapping key)."""
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        if frame.key is None and not frame.skip_value:
            return None
        return (*frame.path, frame.key if frame.key is not None else "<invalid key>")

    def _scalar(self, event: yaml.ScalarEvent) -> tuple[bool, Any]:
        value: Any = event.value
        raw: str | None = None
        if event.tag is None or event.tag == "!":
            resolved = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
            if resolved in _CONSTRUCTED_TAGS:
                node = yaml.ScalarNode(resolved, event.value, style=event.style)
                value = self.loader.construct_object(node)
                raw = event.value
        path = self._child_path()
        mark = Mark(*_start(event), event.style or "", raw)
        if path is None:
            self._key(value, mark)
            return False, None
        self.source.values[path] = mark
        return self._attach(value, mark)

    def _key(self, key: Any, mark: Mark) -> None:
        frame = self.stack[-1]
        assert isinstance(frame.container, dict)  # noqa: S101 - keys only occur in mappings
        if not isinstance(key, str):
            shown = mark.raw if mark.raw is not None else "a mapping or a list"
            self.problem(
                ProblemCode.YAML_NON_STRING_KEY,
                f"Keys must be text, not {shown}",
                mark,
                f'Quote the key: "{mark.raw}"' if mark.raw is not None else None,
            )
            frame.skip_value = True
            return
        if key in frame.container:
            first = self.source.keys.get((*frame.path, key))
            where = f" (first on line {first.line})" if first is not None else ""
            self.problem(
                ProblemCode.YAML_DUPLICATE_KEY,
                f"Duplicate key `{key}`{where}",
                mark,
                "Remove one of them; YAML keeps only one",
            )
            frame.skip_value = True
            return
        frame.key = key
        self.source.keys[(*frame.path, key)] = mark

    def _attach(self, value: Any, mark: Mark | None) -> tuple[bool, Any]:
        """Attach a finished value to its parent; return ``(True, value)`` for the root."""
        if not self.stack:
            return True, value
        frame = self.stack[-1]
        container = frame.container
        if isinstance(container, list):
            container.append(value)
        elif frame.key is None and not frame.skip_value:
            # A mapping or a list used as a key (``? [a, b]: c``).
            self.problem(ProblemCode.YAML_NON_STRING_KEY, "Keys must be text, not a mapping or a list", mark)
            frame.skip_value = True
        else:
            if not frame.skip_value and frame.key is not None:
                container[frame.key] = value
            frame.key = None
            frame.skip_value = False
        return False, None


def _start(event: yaml.Event) -> tuple[int, int]:
    """Return the 1-based line and column where ``event`` starts."""
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def line_and_column(text: str | bytes, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of character (or byte) ``offset`` in ``text``."""
    newline: Any = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, offset) + 1
    column = offset - (text.rfind(newline, 0, offset) + 1) + 1
    return line, column


def decode(data: bytes | str, filename: str, problems: list[Problem]) -> str | None:
    """Return the text of ``data`` (UTF-8, without a byte order mark), or ``None`` after a problem."""
    size = len(data.encode("utf-8", errors="surrogatepass")) if isinstance(data, str) else len(data)
    if size > MAX_BYTES:
        problems.append(too_large(filename, size))
        return None
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, column = line_and_column(data, exc.start)
            problems.append(
                Problem(
                    ProblemCode.FILE_NOT_UTF8,
                    "error",
                    f"The file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                    filename,
                    line,
                    column,
                    "",
                    "Save the file as UTF-8",
                )
            )
            return None
    else:
        text = data
        for index, character in enumerate(text):
            if 0xD800 <= ord(character) <= 0xDFFF:
                line, column = line_and_column(text, index)
                problems.append(
                    Problem(
                        ProblemCode.FILE_NOT_UTF8,
                        "error",
                        f"The text holds a lone surrogate (U+{ord(character):04X}), which UTF-8 cannot encode",
                        filename,
                        line,
                        column,
                        "",
                        "Save the file as UTF-8",
                    )
                )
                return None
    return text.removeprefix("\ufeff")


def too_large(filename: str, size: int) -> Problem:
    """Return the problem for a file of ``size`` bytes, over :data:`MAX_BYTES`."""
    return Problem(
        ProblemCode.FILE_TOO_LARGE,
        "error",
        f"The file is {size:,} bytes; definitions may be at most {MAX_BYTES:,} bytes (5 MB)",
        filename,
        None,
        None,
        "",
        "Move option lists into catalogue files",
    )


def parse(text: str, filename: str, problems: list[Problem]) -> tuple[Any, SourceMap]:
    """Parse ``text`` into plain values and a source map, appending problems as found.

    Return ``(None, source map)`` when the document cannot be built (syntax
    error, too deep) or is empty; the reason is in ``problems``.
    """
    value, source, found = _Composer(text, filename, problems).compose()
    source.text = text
    if not any(problem.is_error for problem in problems) and value is None:
        problems.append(
            Problem(
                ProblemCode.FILE_EMPTY,
                "error",
                "The file is empty" if not found else "The file holds no definition (the document is empty)",
                filename,
                1,
                1,
                "",
                "Start with `schema_version: 1`",
            )
        )
    return value, source
