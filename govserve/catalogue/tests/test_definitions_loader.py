"""The loader: reading bytes and YAML safely, every refusal with its own code, message and location."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from govserve.catalogue.definitions import Problem, ProblemCode, load_definition_file, load_definition_text
from govserve.catalogue.definitions.source import MAX_BYTES, MAX_PROBLEMS, Mark, parse
from govserve.catalogue.tests.definitions_helpers import FILENAME, at, formatted, load, service

FIXTURES = Path(__file__).parent / "fixtures"


# --- LoadResult -------------------------------------------------------------------------


def test_a_valid_definition_loads_with_its_source_positions() -> None:
    # Given
    text = service()

    # When
    result = load(text)

    # Then
    assert result.ok
    assert result.problems == []
    assert result.filename == FILENAME
    assert result.definition is not None
    assert result.definition.pages[0].fields[0].id == "full_name"
    assert result.catalogues == []
    assert result.source.position(("pages", 0, "fields", 0, "id")) == (14, 13)
    assert at(text, "full_name") == "14:13"
    assert result.source.key(("pages", 0, "fields", 0, "id")) == Mark(14, 9, "", None)


def test_load_definition_text_accepts_bytes_and_a_byte_order_mark() -> None:
    # When
    result = load_definition_text(b"\xef\xbb\xbf" + service().encode(), filename="bom.yaml")

    # Then
    assert result.ok
    assert result.definition is not None
    assert result.definition.id == "minimal"


def test_a_catalogue_file_loads_into_catalogues() -> None:
    # Given
    text = """\
schema_version: 1
catalogues:
  - id: nationalities
    title: Nationalities
    options:
      - value: british
        label: British
      - value: irish
        label: {en: Irish, cy: Gwyddelig}
"""

    # When
    result = load(text)

    # Then
    assert result.ok
    assert result.definition is None
    assert [catalogue.id for catalogue in result.catalogues] == ["nationalities"]
    assert [option.value for option in result.catalogues[0].options] == ["british", "irish"]
    assert result.catalogues[0].options[1].label.get("cy") == "Gwyddelig"


def test_validate_false_stops_after_the_schema() -> None:
    # Given: a CEL name error, which only validation finds
    text = service(determinants="determinants:\n  - id: adult\n    expression: agee >= 18\n")

    # When
    unvalidated = load_definition_text(text, filename=FILENAME, validate=False)
    validated = load(text)

    # Then
    assert unvalidated.ok
    assert unvalidated.definition is not None
    assert [problem.code for problem in validated.problems] == [ProblemCode.CEL_UNKNOWN_NAME]


def test_problems_come_back_in_file_order() -> None:
    # Given: a schema error near the end and one near the start
    text = service(top="currency: pounds\n", flow=FLOW_WITH_TYPO)

    # When
    result = load(text)

    # Then
    assert [problem.line for problem in result.problems] == sorted(problem.line or 0 for problem in result.problems)
    assert [problem.code for problem in result.problems] == [
        ProblemCode.SCHEMA_INVALID_VALUE,
        ProblemCode.SCHEMA_UNKNOWN_KEY,
    ]


FLOW_WITH_TYPO = """\
flow:
  roles:
    - id: officer
      name: Officer
      institution: council
      sla_workingdays: 5
      decisions:
        approve: end
"""


# --- file.* ---------------------------------------------------------------------------------


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    # When
    result = load_definition_file(tmp_path / "absent.yaml")

    # Then
    assert formatted(result) == [f"{tmp_path / 'absent.yaml'}: error file.not_found: The file does not exist"]
    assert result.definition is None


def test_a_directory_is_file_unreadable(tmp_path: Path) -> None:
    # When
    result = load_definition_file(tmp_path)

    # Then
    assert formatted(result) == [f"{tmp_path}: error file.unreadable: This is a directory, not a file"]


def test_a_file_that_cannot_be_read_is_file_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: reading fails as it does without permission (tests run as root, who may read anything)
    path = tmp_path / "secret.yaml"
    path.write_text(service())

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", deny)

    # When
    result = load_definition_file(path)

    # Then
    assert formatted(result) == [f"{path}: error file.unreadable: The file cannot be read: Permission denied"]


def test_a_file_over_5_mb_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a sparse file one byte over the limit, and a loader that must not open it
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)

    def refuse_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr("builtins.open", refuse_open)

    # When
    result = load_definition_file(path)

    # Then
    assert formatted(result) == [
        f"{path}: error file.too_large: The file is 5,242,881 bytes; definitions may be at most 5,242,880 bytes (5 MB) "
        "(Move option lists into catalogue files)"
    ]


def test_text_over_5_mb_is_refused() -> None:
    # When
    result = load("#" * (MAX_BYTES + 1))

    # Then
    assert [problem.code for problem in result.problems] == [ProblemCode.FILE_TOO_LARGE]
    assert result.problems[0].line is None


def test_a_file_of_exactly_5_mb_is_read() -> None:
    # Given: a valid definition padded with a comment to the limit
    text = service()
    padded = text + "#" + "x" * (MAX_BYTES - len(text) - 2) + "\n"
    assert len(padded.encode()) == MAX_BYTES

    # When
    result = load(padded)

    # Then
    assert result.ok


def test_bytes_that_are_not_utf8_are_located() -> None:
    # Given: Latin-1 "é" on line 3
    data = b"schema_version: 1\nid: minimal\ntitle: Caf\xe9\n"

    # When
    result = load(data)

    # Then
    assert formatted(result) == [
        "service.yaml:3:11: error file.not_utf8: The file is not valid UTF-8 (byte 0xe9 at offset 40) "
        "(Save the file as UTF-8)"
    ]


def test_utf16_is_not_utf8() -> None:
    # When
    result = load(service().encode("utf-16"))

    # Then
    assert [problem.code for problem in result.problems] == [ProblemCode.FILE_NOT_UTF8]


def test_text_with_a_lone_surrogate_is_not_utf8() -> None:
    # When
    result = load("schema_version: 1\ntitle: \ud800\n")

    # Then
    assert formatted(result) == [
        "service.yaml:2:8: error file.not_utf8: The text holds a lone surrogate (U+D800), which UTF-8 cannot encode "
        "(Save the file as UTF-8)"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("   \n\n", "The file is empty"),
        ("# only a comment\n", "The file is empty"),
        ("~\n", "The file holds no definition (the document is empty)"),
        ("---\n", "The file holds no definition (the document is empty)"),
    ],
)
def test_an_empty_file_is_file_empty(text: str, message: str) -> None:
    # When
    result = load(text)

    # Then
    assert formatted(result) == [f"service.yaml:1:1: error file.empty: {message} (Start with `schema_version: 1`)"]


def test_reporting_stops_after_500_problems() -> None:
    # Given: 600 duplicate keys
    text = "schema_version: 1\n" + "id: x\n" * 601

    # When
    result = load(text)

    # Then
    assert len(result.problems) == MAX_PROBLEMS + 1
    assert formatted(result)[-1] == (
        "service.yaml: error file.too_many_problems: Stopped after 500 problems; fix these and check again"
    )


# --- yaml.* ---------------------------------------------------------------------------------


def test_a_yaml_syntax_error_is_located_with_its_context() -> None:
    # Given: a mapping key inside a list
    text = "schema_version: 1\npages:\n  - id: a\n  title: b\n"

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        "service.yaml:4:3: error yaml.syntax: YAML syntax error: did not find expected '-' indicator "
        "(while parsing a block collection started on line 3)"
    ]


def test_an_unquoted_cel_conditional_is_a_yaml_syntax_error_at_its_colon() -> None:
    # Given
    text = service(determinants="determinants:\n  - id: fee\n    expression: a ? 1 : 2\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, ': 2', offset=0)}: error yaml.syntax: YAML syntax error: mapping values are not "
        "allowed in this context"
    ]


def test_control_characters_are_a_yaml_syntax_error() -> None:
    # When
    result = load("schema_version: 1\ntitle: a\x07b\n")

    # Then
    assert formatted(result) == [
        "service.yaml:2:9: error yaml.syntax: YAML syntax error: control characters are not allowed"
    ]


def test_a_duplicate_key_is_reported_where_it_repeats_and_the_first_value_kept() -> None:
    # Given
    text = service(top="time_zone: Europe/London\ntime_zone: Europe/Paris\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'time_zone', occurrence=2)}: error yaml.duplicate_key: Duplicate key `time_zone` "
        f"(first on line {at(text, 'time_zone').split(':')[0]}) (Remove one of them; YAML keeps only one)"
    ]
    assert result.definition is not None
    assert result.definition.time_zone == "Europe/London"


def test_duplicate_keys_deep_inside_lists_are_found() -> None:
    # Given
    text = service(pages=PAGES_WITH_DUPLICATE_LABEL)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'label', occurrence=2)}: error yaml.duplicate_key: Duplicate key `label` "
        f"(first on line {at(text, 'label').split(':')[0]}) (Remove one of them; YAML keeps only one)"
    ]


PAGES_WITH_DUPLICATE_LABEL = """\
pages:
  - id: name
    title: What is your name?
    fields:
      - id: full_name
        type: text
        label: Full name
        label: Name
        classification: personal
"""


def test_anchors_and_aliases_are_refused_outright() -> None:
    # Given
    text = service(top="currency: &money GBP\nphone_region: *money\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '&money')}: error yaml.anchor: YAML anchors are not allowed (&money) "
        "(Remove the anchor and write repeated values out in full)",
        f"service.yaml:{at(text, '*money')}: error yaml.alias: YAML aliases are not allowed (*money) "
        "(Write the value out in full)",
    ]


def test_a_billion_laughs_is_refused_without_expanding_anything() -> None:
    # Given
    lines = ["schema_version: 1", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    text = "\n".join(lines) + "\n"

    # When
    result = load(text)

    # Then: ten anchors and 81 aliases refused (and the document has none of a service's keys)
    codes = [problem.code for problem in result.problems if problem.code.startswith("yaml.")]
    assert codes.count(ProblemCode.YAML_ANCHOR) == 10
    assert codes.count(ProblemCode.YAML_ALIAS) == 81


def test_explicit_tags_are_refused() -> None:
    # Given
    text = service(top="currency: !!python/object:os.system GBP\n")

    # When
    result = load(text)

    # Then
    assert formatted(result)[0] == (
        f"service.yaml:{at(text, '!!python')}: error yaml.explicit_tag: YAML tags are not allowed "
        "(!!python/object:os.system) (Remove the tag; quote the value if it must be text)"
    )


def test_nesting_deeper_than_64_levels_is_refused() -> None:
    # Given: block mappings 65 deep
    text = "schema_version: 1\n" + "".join("  " * depth + f"k{depth}:\n" for depth in range(65)) + "  " * 65 + "x\n"

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'k64')}: error yaml.too_deep: Nesting is deeper than 64 levels "
        "(Flatten the structure; a definition never needs this depth)"
    ]


def test_64_levels_of_nesting_are_allowed_by_the_reader() -> None:
    # Given: 64 nested mappings (the document is a mapping, plus 63 below it)
    problems: list[Problem] = []
    text = "".join("  " * depth + f"k{depth}:\n" for depth in range(63)) + "  " * 63 + "k63: x\n"

    # When
    value, _ = parse(text, FILENAME, problems)

    # Then
    assert problems == []
    assert value is not None


def test_millions_of_open_brackets_are_too_deep_not_a_crash() -> None:
    # When
    result = load("a: " + "[" * 2_000_000)

    # Then
    assert [problem.code for problem in result.problems] == [ProblemCode.YAML_TOO_DEEP]


def test_more_than_100000_values_are_refused_without_reading_on() -> None:
    # Given: a list of 200,000 tiny values (400 KB)
    text = "schema_version: 1\npages: [" + "1," * 200_000 + "1]\n"

    # When
    result = load(text)

    # Then
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.code == ProblemCode.YAML_TOO_MANY_VALUES
    assert problem.message == "The file holds more than 100,000 values; a definition never needs as many"
    assert problem.suggestion == "Split the service, or move long option lists into catalogue files"
    # At the 100,001st value: the document, two keys, the version and the list come before the items.
    assert (problem.line, problem.column) == (2, 9 + 2 * (100_001 - 5 - 1))


@pytest.mark.parametrize(("key", "shown"), [("1", "1"), ("yes", "yes"), ("null", "null"), ("3.5", "3.5")])
def test_keys_that_are_not_text_are_refused(key: str, shown: str) -> None:
    # Given
    text = service(top=f"{key}: value\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, key + ': value')}: error yaml.non_string_key: Keys must be text, not {shown} "
        f'(Quote the key: "{shown}")'
    ]


def test_a_list_as_a_key_is_refused() -> None:
    # Given
    text = service(top="? [a, b]\n: value\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '[a, b]')}: error yaml.non_string_key: Keys must be text, not a mapping or a list"
    ]


def test_a_second_document_is_refused() -> None:
    # Given
    text = service() + "---\nid: other\n"

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '---')}: error yaml.multiple_documents: The file holds more than one YAML document "
        "(Put one service per file; remove the '---' separator)"
    ]


def test_timestamps_stay_text_and_merge_keys_are_ordinary_keys() -> None:
    # Given
    problems: list[Problem] = []

    # When
    value, _ = parse("day: 2025-01-31\n<<: {a: 1}\n", FILENAME, problems)

    # Then
    assert problems == []
    assert value == {"day": "2025-01-31", "<<": {"a": 1}}


# --- hostile input never crashes --------------------------------------------------------


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_loader(data: bytes) -> None:
    result = load(data)
    assert result.definition is None or result.ok or result.problems
    assert all(problem.code in ProblemCode for problem in result.problems)


YAML_PIECES = st.sampled_from(
    [
        "schema_version: 1\n",
        "id: x\n",
        "pages:\n",
        "  - id: p\n",
        "    fields:\n",
        "      - type: text\n",
        "&a ",
        "*a ",
        "!!str ",
        "? ",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "'",
        '"',
        "|\n",
        ">\n",
        "---\n",
        "...\n",
        "  ",
        "\t",
        "\n",
        "#",
        "yes",
        "no",
        "~",
        "1",
        "1.5",
        "when: a ? b : c\n",
        "expression: x > 1\n",
        "\x00",
        "\u2028",
        "é",
        "((",
        "))",
    ]
)


@given(st.lists(YAML_PIECES, max_size=60).map("".join))
def test_yaml_shaped_junk_never_crashes_the_loader(text: str) -> None:
    result = load(text)
    assert all(problem.code in ProblemCode for problem in result.problems)
    for problem in result.problems:
        assert problem.file == FILENAME
        assert problem.line is None or problem.line >= 1
        assert problem.column is None or problem.column >= 1


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=30,
    )
)
def test_any_yaml_document_under_a_valid_header_never_crashes(document: object) -> None:
    # Given: a structurally random document in place of the pages
    text = service(pages=yaml.safe_dump({"pages": document}))

    # When
    result = load(text)

    # Then: refused with located problems (or, rarely, accepted)
    assert result.ok or result.problems
    assert all(problem.line is not None for problem in result.problems)


FIXTURE_DATA = yaml.safe_load((FIXTURES / "valid_service.yaml").read_text(encoding="utf-8"))

REPLACEMENTS = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        10**20,
        1.5,
        "",
        "x",
        "today",
        "P1Y",
        "check-answers",
        "end",
        "next",
        "applicant",
        "date_of_birth",
        "is_adult",
        "helpers",
        "helper_name",
        "goods",
        "too-young",
        "a ? b : c",
        "1 +",
        "((",
        "age(date_of_birth) >= 18",
        "helpers.map(h, h.helper_name)",
        "size(goods) > 1",
        "[1, 2].map(x, x)",
        "licence-fee",
        "((reference))",
        "((full_name??x))",
        [],
        {},
        ["x"],
        {"en": "x"},
        {"en": "x", "cy": "y"},
    ]
)


def _mutate(document: object, choices: list[tuple[str, int, object]]) -> object:
    """Apply ``choices`` (action, which node, new value) to a copy of ``document``, visiting nodes in order."""
    counter = iter(range(10**9))
    plan = {index: (action, value) for action, index, value in choices}

    def visit(node: object) -> object:
        step = plan.get(next(counter))
        if step is not None:
            action, value = step
            if action == "replace":
                return value
            if action == "drop" and isinstance(node, dict) and node:
                node = dict(list(node.items())[1:])
            if action == "double" and isinstance(node, list) and node:
                node = [*node, node[0]]
        if isinstance(node, dict):
            return {key: visit(value) for key, value in node.items()}
        if isinstance(node, list):
            return [visit(item) for item in node]
        return node

    return visit(document)


MUTATIONS = st.tuples(
    st.sampled_from(["replace", "drop", "double"]), st.integers(min_value=0, max_value=700), REPLACEMENTS
)


@given(st.lists(MUTATIONS, min_size=1, max_size=4))
def test_mutations_of_a_valid_definition_never_crash_the_checks(choices: list[tuple[str, int, object]]) -> None:
    # Given: the valid fixture with a few values replaced, keys dropped or list items doubled
    text = yaml.safe_dump(_mutate(FIXTURE_DATA, choices), allow_unicode=True, sort_keys=False)

    # When: every check runs on whatever survives the schema
    result = load(text)

    # Then: problems, located, with known codes (or none)
    assert all(problem.code in ProblemCode for problem in result.problems)
    assert all(problem.line is not None and problem.line >= 1 for problem in result.problems)
