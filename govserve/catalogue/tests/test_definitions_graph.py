"""The page graph analysis, on its own and against a brute-force walk of every condition outcome."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from govserve.catalogue.definitions.graph import PageNode, Truth, analyse_pages

A, M, N = Truth.ALWAYS, Truth.MAYBE, Truth.NEVER


def test_a_straight_journey_has_no_findings() -> None:
    # When
    findings = analyse_pages([PageNode(A, []), PageNode(M, []), PageNode(A, [])])

    # Then
    assert findings.unreachable_pages == []
    assert findings.dead_ends == []
    assert findings.loops == []
    assert findings.unreachable_routes == []
    assert findings.end_reachable


def test_an_unconditional_jump_makes_the_pages_it_skips_unreachable() -> None:
    # When: page 0 always goes to page 3
    findings = analyse_pages([PageNode(A, [(A, 3)]), PageNode(A, []), PageNode(M, []), PageNode(A, [])])

    # Then
    assert findings.unreachable_pages == [1, 2]


def test_a_skipped_page_leads_on_to_the_next_in_the_list() -> None:
    # When: page 0 always goes to page 1, which may be skipped, so page 2 is reached too
    findings = analyse_pages([PageNode(A, [(A, 1)]), PageNode(M, [(A, 3)]), PageNode(A, []), PageNode(A, [])])

    # Then
    assert findings.unreachable_pages == []


def test_a_never_shown_page_is_not_reported_as_unreachable() -> None:
    # When
    findings = analyse_pages([PageNode(A, []), PageNode(N, [])])

    # Then
    assert findings.unreachable_pages == []
    assert findings.end_reachable


def test_routes_after_an_unconditional_one_are_unreachable() -> None:
    # When
    findings = analyse_pages([PageNode(A, [(M, 1), (A, 1), (M, 0), (N, 0)]), PageNode(A, [])])

    # Then
    assert findings.unreachable_routes == [(0, 2), (0, 3)]
    assert findings.loops == []


def test_a_loop_is_reported_with_the_route_that_closes_it() -> None:
    # When: 1 -> 2 -> 1 (conditionally), 2 may also fall through to the end
    findings = analyse_pages([PageNode(A, []), PageNode(A, [(A, 2)]), PageNode(A, [(M, 1)])])

    # Then
    assert findings.loops == [([1, 2], (2, 0))]
    assert findings.dead_ends == []
    assert findings.end_reachable


def test_a_self_loop_is_a_loop() -> None:
    # When
    findings = analyse_pages([PageNode(A, [(M, 0)])])

    # Then
    assert findings.loops == [([0], (0, 0))]


def test_an_exit_page_is_a_terminal_and_its_routes_are_ignored() -> None:
    # When: page 0 always exits
    findings = analyse_pages([PageNode(A, [(A, 1)]), PageNode(A, [(A, 0)], exit=True)])

    # Then
    assert findings.loops == []
    assert findings.dead_ends == []
    assert not findings.end_reachable


def test_pages_leading_only_into_a_closed_loop_are_dead_ends() -> None:
    # When: 0 -> 1 <-> 2 with no way out
    findings = analyse_pages([PageNode(A, [(A, 1)]), PageNode(A, [(A, 2)]), PageNode(A, [(A, 1)])])

    # Then
    assert findings.dead_ends == [0]
    assert findings.loops == [([1, 2], (2, 0))]
    assert not findings.end_reachable


def test_no_pages_reach_the_end_trivially() -> None:
    # When
    findings = analyse_pages([])

    # Then
    assert findings.end_reachable


def _walk(pages: list[PageNode], outcome: dict[tuple[int, int], bool]) -> tuple[set[int], str]:
    """Follow the journey for one outcome of every condition: the pages shown, and "end", "exit" or "loop"."""
    shown: set[int] = set()
    visited: set[int] = set()
    index = 0
    while index < len(pages):
        if index in visited:
            return shown, "loop"  # the same answers repeat the same path forever
        visited.add(index)
        page = pages[index]
        if not outcome[(index, -1)]:
            index += 1
            continue
        shown.add(index)
        if page.exit:
            return shown, "exit"
        target = index + 1
        for route_index, (_, route_target) in enumerate(page.routes):
            if route_target is not None and outcome[(index, route_index)]:
                target = route_target
                break
        index = target
    return shown, "end"


def _outcomes(pages: list[PageNode]) -> list[dict[tuple[int, int], bool]]:
    conditions: list[tuple[tuple[int, int], Truth]] = []
    for index, page in enumerate(pages):
        conditions.append(((index, -1), page.condition))
        conditions.extend(((index, route_index), truth) for route_index, (truth, _) in enumerate(page.routes))
    choices = [[True, False] if truth is M else [truth is A] for _, truth in conditions]
    return [dict(zip([key for key, _ in conditions], values, strict=True)) for values in itertools.product(*choices)]


@st.composite
def page_graphs(draw: st.DrawFn) -> list[PageNode]:
    count = draw(st.integers(min_value=1, max_value=5))
    truth = st.sampled_from([A, M, N])
    pages = []
    for _ in range(count):
        routes = draw(st.lists(st.tuples(truth, st.integers(min_value=0, max_value=count)), max_size=2))
        pages.append(PageNode(draw(truth), routes, exit=draw(st.booleans())))
    return pages


@given(page_graphs())
def test_the_analysis_matches_a_walk_of_every_outcome(pages: list[PageNode]) -> None:
    # Given: the pages shown and the endings over every outcome of the conditions
    shown_somewhere: set[int] = set()
    endings: set[str] = set()
    for outcome in _outcomes(pages):
        shown, ending = _walk(pages, outcome)
        shown_somewhere |= shown
        endings.add(ending)

    # When
    findings = analyse_pages(pages)

    # Then
    never_shown = {index for index, page in enumerate(pages) if page.condition is N}
    assert set(findings.unreachable_pages) == set(range(len(pages))) - shown_somewhere - never_shown
    assert findings.end_reachable == ("end" in endings)
    assert bool(findings.loops) == ("loop" in endings)
