"""Building blocks for the definition tests: a minimal valid service, and locating text in it.

Expected locations are computed from the YAML text itself (:func:`at`), never
from the loader, so a test fails when the loader points at the wrong place.
"""

from __future__ import annotations

import textwrap

from govserve.catalogue.definitions import LoadResult, load_definition_text

FILENAME = "service.yaml"

HEADER = """\
schema_version: 1
id: minimal
title: Minimal service
summary: The least a definition needs.
institution: council
sign_in: anonymous
retention: P1Y
start_page:
  body: Start here.
"""

PAGES = """\
pages:
  - id: name
    title: What is your name?
    fields:
      - id: full_name
        type: text
        label: Full name
        classification: personal
"""

FLOW = """\
flow:
  roles:
    - id: officer
      name: Officer
      institution: council
      decisions:
        approve: end
"""


def service(
    *,
    top: str = "",
    determinants: str = "",
    pages: str = PAGES,
    registrations: str = "",
    flow: str = FLOW,
    notifications: str = "",
) -> str:
    """Return a definition: the minimal one with the given sections (each YAML text at column 0)."""
    sections = [HEADER, top, determinants, pages, registrations, flow, notifications]
    return "".join(textwrap.dedent(section) for section in sections if section)


def load(text: str | bytes) -> LoadResult:
    """Load ``text`` as the file ``service.yaml``."""
    return load_definition_text(text, filename=FILENAME)


def formatted(result: LoadResult) -> list[str]:
    """Return the problems as ``govserve check`` prints them."""
    return [problem.format() for problem in result.problems]


def at(text: str, needle: str, *, offset: int = 0, occurrence: int = 1) -> str:
    """Return ``line:column`` (1-based) of the ``occurrence``-th ``needle`` in ``text``, plus ``offset`` columns."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1 + offset
    return f"{line}:{column}"
