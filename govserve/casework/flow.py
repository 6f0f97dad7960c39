"""The flow engine: where a file goes after each decision, read from the pinned version's flow.

Roles run in list order. A role whose ``when`` is false for the answers is
skipped (and the skip is recorded). A decision leads to its target in the
role's ``decisions``:

* a role id: a task for that role (its ``when`` is not checked again: the
  definition named it explicitly);
* ``next``: the next role in list order whose ``when`` holds, or the end when
  none is left;
* ``applicant``: the application is sent back; on resubmission the file
  returns to the role that sent it back;
* ``end``: the file closes.

When a file closes, ``approve`` means approved; ``reject`` and ``send_back``
(an unusual ``send_back: end``) mean rejected.

Conditions are evaluated with the journey's own evaluator over the
application's answers (:func:`govserve.journeys.selectors.state_load`), so a
role's ``when`` and a bot's ``rule`` read exactly what the journey's
conditions read (answers and determinants; an undecided condition is false).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import Role
from govserve.journeys.models import Application
from govserve.journeys.routing import Evaluator
from govserve.journeys.selectors import compiled_for, state_load

RouteKind = Literal["role", "applicant", "end"]


@dataclass(frozen=True)
class Route:
    """Where a decision leads: a role (``role_index``), the applicant, or the end (with ``outcome``)."""

    kind: RouteKind
    role_index: int | None = None
    outcome: str = ""
    skipped: tuple[int, ...] = ()


@dataclass
class FlowContext:
    """The pinned flow of one application, with its answers' evaluator built on first use."""

    application: Application
    compiled: CompiledDefinition = field(init=False)

    def __post_init__(self) -> None:
        self.compiled = compiled_for(self.application)

    @property
    def roles(self) -> list[Role]:
        """Return the flow's roles, in order."""
        return self.compiled.definition.flow.roles

    @cached_property
    def evaluator(self) -> Evaluator:
        """Return the evaluator over the application's answers (as the journey walks them)."""
        return state_load(self.application).final_evaluator()

    def role_index(self, role_id: str) -> int:
        """Return the position of ``role_id`` in the flow; raise KeyError if the version has no such role."""
        for index, role in enumerate(self.roles):
            if role.id == role_id:
                return index
        raise KeyError(role_id)

    def applies(self, index: int) -> bool:
        """Return whether the role at ``index`` applies to the answers (its ``when``, true when absent)."""
        if self.roles[index].when is None:
            return True
        return self.evaluator.condition(f"flow.roles[{index}].when")

    def bot_rule(self, index: int) -> bool:
        """Return the value of the bot role's ``rule`` (an undecided rule is false)."""
        return self.evaluator.condition(f"flow.roles[{index}].rule")

    def first(self) -> Route:
        """Return where a newly opened file goes: the first role that applies, or the end (approved)."""
        return self._next_from(-1, outcome="approved")

    def _next_from(self, index: int, *, outcome: str) -> Route:
        skipped: list[int] = []
        for candidate in range(index + 1, len(self.roles)):
            if self.applies(candidate):
                return Route(kind="role", role_index=candidate, skipped=tuple(skipped))
            skipped.append(candidate)
        return Route(kind="end", outcome=outcome, skipped=tuple(skipped))

    def route(self, index: int, decision: str) -> Route:
        """Return where ``decision`` by the role at ``index`` leads; KeyError if the role does not allow it."""
        target = dict(self.roles[index].decisions.items())[decision]  # type: ignore[index]
        outcome = "approved" if decision == "approve" else "rejected"
        if target == "end":
            return Route(kind="end", outcome=outcome)
        if target == "applicant":
            return Route(kind="applicant", role_index=index)
        if target == "next":
            return self._next_from(index, outcome=outcome)
        return Route(kind="role", role_index=self.role_index(target))

    def roles_ahead(self, index: int) -> list[Role]:
        """Return the roles after ``index`` that apply (what the expected decision date still counts)."""
        return [self.roles[later] for later in range(index + 1, len(self.roles)) if self.applies(later)]

    def rule_fields(self, index: int) -> list[str]:
        """Return the answers (field ids) the bot role's ``rule`` reads, through the determinants it uses."""
        seen: set[str] = set()
        pending = list(self.compiled.expression(f"flow.roles[{index}].rule").references)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            determinant = self.compiled.determinants.get(name)
            if determinant is not None:
                pending.extend(determinant.references)
        fields = {page_field.id for page in self.compiled.definition.pages for page_field in page.fields}
        return sorted(seen & fields)
