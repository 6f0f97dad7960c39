"""Determinants: named conditions that may use each other by name.

A service's determinants form a dependency graph (a determinant depends on
each other determinant it references). :func:`determinant_order` sorts it so
that every determinant comes after the ones it uses, refusing cycles with the
cycle spelled out; :func:`evaluate_determinants` evaluates them in that order
into the context, so later determinants (and every condition after them) read
earlier results as plain bool values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from govserve.rules.engine import CompiledExpression, EvaluationContext, evaluate_bool
from govserve.rules.errors import DeterminantCycleError


def determinant_order(determinants: Mapping[str, CompiledExpression]) -> list[str]:
    """Return the determinant names so that each follows every determinant it references.

    The order is deterministic: among independent determinants the mapping's
    own order is kept. Raise DeterminantCycleError with ``cycle`` listing the
    names along the cycle, the first repeated at the end (``["a", "b", "a"]``;
    a determinant that references itself gives ``["a", "a"]``).
    """
    dependencies = {
        name: sorted(other for other in expression.references if other in determinants)
        for name, expression in determinants.items()
    }
    order: list[str] = []
    done: set[str] = set()
    for root in determinants:
        if root in done:
            continue
        # Iterative depth-first search: definitions may chain thousands of determinants.
        path: list[str] = [root]
        on_path: set[str] = {root}
        pending: list[list[str]] = [list(reversed(dependencies[root]))]
        while path:
            if pending[-1]:
                dependency = pending[-1].pop()
                if dependency in done:
                    continue
                if dependency in on_path:
                    raise DeterminantCycleError([*path[path.index(dependency) :], dependency])
                path.append(dependency)
                on_path.add(dependency)
                pending.append(list(reversed(dependencies[dependency])))
            else:
                finished = path.pop()
                on_path.discard(finished)
                pending.pop()
                done.add(finished)
                order.append(finished)
    return order


def evaluate_determinants(
    determinants: Mapping[str, CompiledExpression],
    context: EvaluationContext,
    *,
    order: Sequence[str] | None = None,
) -> dict[str, bool]:
    """Evaluate every determinant into ``context`` and return their values by name.

    ``order`` may pass a :func:`determinant_order` computed once per version,
    saving the sort on each request. Raise DeterminantCycleError for a cycle
    and ExpressionEvaluationError when a determinant fails or is not a bool.
    """
    results: dict[str, bool] = {}
    for name in determinant_order(determinants) if order is None else order:
        value = evaluate_bool(determinants[name], context)
        context.set_value(name, value)
        results[name] = value
    return results
