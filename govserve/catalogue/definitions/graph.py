"""Analysis of the page graph: pages no path reaches, dead ends, routing loops.

The journey, as :class:`~govserve.catalogue.definitions.schema.Page` documents
it: pages in list order; a page whose condition is false is skipped (the
journey goes on to the next page in the list); after a page the first route
whose condition holds wins, else the next page in the list; after the last
page, check your answers (the *end*). An exit page ends the journey.

Every condition may be true or false (the analysis does not solve
conditions), except those known to be constant (:class:`Truth`): a constant
false condition removes its edge, a constant true one removes the alternative.
So a page is *unreachable* when no sequence of condition outcomes shows it,
a *dead end* when no outcomes lead from it to the end or an exit page, and a
*routing loop* is a cycle of pages (answers do not change by revisiting a
page, so a loop either never ends or needs the applicant to change an answer
to leave, which GOV.UK patterns never ask for: "add another" is a group).

We model two nodes per page: *entering* page ``i`` (it may be skipped) and
page ``i`` *shown*. Nodes are integers so that the analysis of a 200-page
service takes a millisecond; every traversal is iterative.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field


class Truth(enum.Enum):
    """What is known of a condition before any answer is given."""

    ALWAYS = "always"  # no condition, or a constant true one
    NEVER = "never"  # a constant false condition
    MAYBE = "maybe"


@dataclass(frozen=True, slots=True)
class PageNode:
    """A page for the analysis: its condition, its routes and whether it is an exit page.

    ``routes`` holds, in order, each route's condition and target page index
    (``len(pages)`` for the end; ``None`` for an unknown target, already
    reported elsewhere and ignored here).
    """

    condition: Truth
    routes: Sequence[tuple[Truth, int | None]]
    exit: bool = False


@dataclass(slots=True)
class PageGraphFindings:
    """What the analysis found, by page index (and route index within its page)."""

    unreachable_pages: list[int] = field(default_factory=list)
    dead_ends: list[int] = field(default_factory=list)
    loops: list[tuple[list[int], tuple[int, int] | None]] = field(default_factory=list)
    """Each loop's pages in list order, and the route that closes it (page, route), if any."""
    unreachable_routes: list[tuple[int, int]] = field(default_factory=list)
    end_reachable: bool = True


def analyse_pages(pages: Sequence[PageNode]) -> PageGraphFindings:
    """Return the unreachable pages, dead ends, loops and unreachable routes of ``pages``."""
    count = len(pages)
    end = count  # entering "page n" is reaching the end
    findings = PageGraphFindings()
    successors, route_edges = _edges(pages, findings)

    def shown(index: int) -> int:
        return count + 1 + index

    reachable = _reachable(successors, [0] if count else [end])
    findings.end_reachable = end in reachable
    findings.unreachable_pages = [
        index for index, page in enumerate(pages) if shown(index) not in reachable and page.condition is not Truth.NEVER
    ]

    in_loop: set[int] = set()
    for component in _strongly_connected(successors, reachable):
        loop_pages = sorted(node - count - 1 for node in component if node > count)
        if not loop_pages:
            continue
        members = set(component)
        routes = [route for (source, target), route in route_edges.items() if source in members and target in members]
        # The route that closes the loop goes back (or stays): its target is not after its page.
        backward = [route for route in routes if (pages[route[0]].routes[route[1]][1] or 0) <= route[0]]
        closing = min(backward or routes, default=None)
        findings.loops.append((loop_pages, closing))
        in_loop.update(loop_pages)

    predecessors: list[list[int]] = [[] for _ in successors]
    for node, targets in enumerate(successors):
        for target in targets:
            predecessors[target].append(node)
    terminals = [end] + [shown(index) for index, page in enumerate(pages) if page.exit]
    finishing = _reachable(predecessors, terminals)
    findings.dead_ends = [
        index
        for index in range(count)
        if shown(index) in reachable and shown(index) not in finishing and index not in in_loop
    ]
    findings.loops.sort()
    return findings


def _edges(
    pages: Sequence[PageNode], findings: PageGraphFindings
) -> tuple[list[list[int]], dict[tuple[int, int], tuple[int, int]]]:
    """Return the successors of every node, and the route behind each route edge.

    Node ``i`` is entering page ``i`` (``len(pages)``: the end); node
    ``len(pages) + 1 + i`` is page ``i`` shown. Routes after one that always
    applies are recorded in ``findings`` as unreachable.
    """
    count = len(pages)
    successors: list[list[int]] = [[] for _ in range(2 * count + 1)]
    route_edges: dict[tuple[int, int], tuple[int, int]] = {}
    for index, page in enumerate(pages):
        shown = count + 1 + index
        if page.condition is not Truth.NEVER:
            successors[index].append(shown)
        if page.condition is not Truth.ALWAYS:
            successors[index].append(index + 1)
        if page.exit:
            continue
        falls_through = True
        for route_index, (truth, target) in enumerate(page.routes):
            if not falls_through:
                findings.unreachable_routes.append((index, route_index))
            elif truth is not Truth.NEVER and target is not None:
                successors[shown].append(target)
                route_edges.setdefault((shown, target), (index, route_index))
                falls_through = truth is not Truth.ALWAYS
        if falls_through:
            successors[shown].append(index + 1)
    return successors, route_edges


def _reachable(successors: Sequence[Sequence[int]], starts: Sequence[int]) -> set[int]:
    seen = set(starts)
    stack = list(starts)
    while stack:
        for target in successors[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _strongly_connected(successors: Sequence[Sequence[int]], nodes: set[int]) -> list[list[int]]:
    """Return the cycles among ``nodes``: components of two or more nodes, or one with a self-edge.

    Tarjan's algorithm, iterative (a definition may have thousands of pages).
    """
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index_of:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, edge = work.pop()
            if edge == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = [target for target in successors[node] if target in nodes]
            if edge < len(targets):
                work.append((node, edge + 1))
                target = targets[edge]
                if target not in index_of:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index_of[target])
                continue
            if low[node] == index_of[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors[node]:
                    components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components
