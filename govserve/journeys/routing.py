"""Page routing: which pages and fields an application shows, in which order, from its answers.

Pure functions over a compiled definition and the typed answers; no database.

**The walk.** :func:`journey_walk` follows the pages from the first one, as
the applicant would:

1. a page whose ``when`` is false is skipped: the walk goes on to the next
   page in the list;
2. a page on the walk is added to the *path*; an exit page ends the walk
   (``stop == "exit"``);
3. a page the applicant has not saved yet, or one with a visible required
   field without an answer, ends the walk (``stop == "unanswered"``): it is
   the *first unanswered page*, the furthest the applicant may go;
4. otherwise the page's answers join the evaluation context (only its
   visible fields: a field whose ``when`` is false counts as unanswered),
   the determinants are evaluated again, and the walk goes to the ``goto``
   of the first ``next`` route whose ``when`` holds, else to the next page in
   list order, else to check your answers (``stop == "complete"``).

The *path* is therefore the pages actually taken, which gives the back link
(the page before on the path) and the rule for out-of-order URLs (a page not
on the path redirects to the first unanswered page).

**Answers off the path.** Answers of pages that are no longer on the path
(the applicant changed an earlier answer) or of fields hidden by their
``when`` are kept while the application is a draft, so changing the earlier
answer back restores them, but they are ignored everywhere: they are
``null`` in every condition, not shown on check your answers, and deleted
when the application is sent (GOV.UK practice: the submission holds exactly
what the applicant checked).

**Conditions that cannot be decided yet.** While an application is being
filled in, many answers are ``null``. A condition or determinant whose
evaluation fails while one of the names it reads is ``null`` is *undecided*:
an undecided determinant is ``null`` itself, and an undecided condition
counts as false (the page, field, route, document or fee does not apply).
An evaluation error when every name it reads has a value is a fault in the
definition and propagates (``ExpressionEvaluationError``, a 500 that the
service team must fix), never silently hidden.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import (
    CHECK_ANSWERS,
    AnyField,
    FileField,
    GroupField,
    Page,
    ServiceDefinition,
)
from govserve.rules import EvaluationContext, build_context, evaluate, evaluate_condition
from govserve.rules.engine import CompiledExpression

Stop = Literal["unanswered", "exit", "complete"]

ITEM_ID = "_id"
"""The key of a repeating-group item's own id inside its stored map (never shown to CEL)."""

FILE_CEL_KEYS = ("name", "size", "content_type")
"""What a file answer shows to CEL (docs/rules.md); the stored answer also holds the document id."""


class RoutingLoopError(RuntimeError):
    """The routes of a definition lead back to a page already on the path (``govserve check`` refuses this)."""


# --- Fields --------------------------------------------------------------------------------------


def field_required(definition_field: AnyField) -> bool:
    """Return whether ``definition_field`` must be answered (a group: whether it needs at least one item)."""
    if isinstance(definition_field, GroupField):
        return definition_field.validation.min_items > 0
    return bool(definition_field.validation.required)


def top_level_field_ids(definition: ServiceDefinition) -> list[str]:
    """Return the ids CEL sees bare: every page field and every role's processing field (not group children)."""
    ids = [page_field.id for page in definition.pages for page_field in page.fields]
    ids += [role_field.id for role in definition.flow.roles for role_field in role.fields]
    return ids


def cel_value(definition_field: AnyField, value: Any) -> Any:
    """Return a stored typed answer as CEL reads it (group items keyed by child id; a file's metadata)."""
    if value is None:
        return None
    if isinstance(definition_field, GroupField):
        return [
            {child.id: cel_value(child, item.get(child.id)) for child in definition_field.fields}
            for item in value
            if isinstance(item, Mapping)
        ]
    if isinstance(definition_field, FileField) and isinstance(value, Mapping):
        return {key: value.get(key) for key in FILE_CEL_KEYS}
    return value


# --- Evaluation ----------------------------------------------------------------------------------


class Evaluator:
    """The answers of one application as CEL sees them, with tolerant conditions (module docstring).

    ``values`` mirrors the context (field ids and determinant ids to Python
    values) so an evaluation failure can be classified as *undecided* (a name
    it reads is null) or as a fault of the definition.

    Determinants are evaluated again only when a name they read (an answer,
    or another determinant) changed since they were last evaluated: the walk
    sets a page's answers and refreshes once per page, and most determinants
    read none of them. Evaluation is deterministic for a given ``today``, so
    the values are the same as evaluating every determinant every time.
    """

    def __init__(self, compiled: CompiledDefinition, values: Mapping[str, Any], *, today: dt.date) -> None:
        self.compiled = compiled
        self.today = today
        self.values: dict[str, Any] = dict(values)
        self.context: EvaluationContext = build_context(
            self.values, time_zone=compiled.definition.time_zone, today=today
        )
        self.determinants: dict[str, bool | None] = {}
        self._changed: set[str] | None = None  # None: evaluate every determinant
        self.refresh_determinants()

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Replace some answers (then call :meth:`refresh_determinants`)."""
        changed = {
            name: value
            for name, value in values.items()
            if name not in self.values or not _same_value(self.values[name], value)
        }
        if not changed:
            return
        self.values.update(changed)
        self.context.set_values(changed)
        if self._changed is not None:
            self._changed.update(changed)

    def refresh_determinants(self) -> None:
        """Evaluate again, in dependency order, the determinants reading a changed name; an undecided one is null."""
        changed = self._changed
        if changed is not None and not changed:
            return
        for name in self.compiled.determinant_order:
            expression = self.compiled.determinants[name]
            if changed is not None and changed.isdisjoint(expression.references):
                continue
            value = self._bool(expression)
            if name in self.determinants and self.determinants[name] is value:
                continue
            self.determinants[name] = value
            self.values[name] = value
            self.context.set_value(name, value)
            if changed is not None:
                changed.add(name)  # the determinants after it that read it are evaluated again
        self._changed = set()

    def _undecided(self, expression: CompiledExpression) -> bool:
        return any(self.values.get(name, 0) is None for name in expression.references)

    def _bool(self, expression: CompiledExpression) -> bool | None:
        return evaluate_condition(expression, self.context, undecided=self._undecided)

    def condition(self, path: str) -> bool:
        """Return the condition at ``path`` (``pages[2].when``): an undecided condition is false."""
        return self._bool(self.compiled.expression(path)) is True

    def decided(self, path: str) -> bool | None:
        """Return the condition at ``path``, or None when it cannot be decided yet."""
        return self._bool(self.compiled.expression(path))

    def value(self, path: str) -> Any:
        """Return the value of the formula at ``path`` (fees); failures propagate (the fee's ``when`` guards it)."""
        return evaluate(self.compiled.expression(path), self.context)

    def with_values(self, values: Mapping[str, Any]) -> Evaluator:
        """Return a new evaluator over these answers and ``values`` on top (e.g. a group item's siblings)."""
        return Evaluator(self.compiled, {**self._answers(), **values}, today=self.today)

    def _answers(self) -> dict[str, Any]:
        return {name: value for name, value in self.values.items() if name not in self.compiled.determinants}


def _same_value(old: Any, new: Any) -> bool:
    """Return whether ``new`` is the value already held (same type too: CEL tells 1 from 1.0 and true)."""
    return old is new or (type(old) is type(new) and old == new)


def empty_values(definition: ServiceDefinition) -> dict[str, Any]:
    """Return every top-level field id with the value null (CEL needs every declared name)."""
    return dict.fromkeys(top_level_field_ids(definition))


# --- Pages ---------------------------------------------------------------------------------------


def page_index(definition: ServiceDefinition) -> dict[str, int]:
    """Return the position of each page id in the definition's list."""
    return {page.id: index for index, page in enumerate(definition.pages)}


def _field_when(page_number: int, field_number: int) -> str:
    return f"pages[{page_number}].fields[{field_number}].when"


def reads(compiled: CompiledDefinition, expression: CompiledExpression) -> set[str]:
    """Return the field ids ``expression`` reads, directly or through the determinants it uses."""
    names: set[str] = set()
    pending = list(expression.references)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        determinant = compiled.determinants.get(name)
        if determinant is None:
            names.add(name)
        else:
            pending.extend(determinant.references)
    return names


def fields_decided_on_page(compiled: CompiledDefinition, page_number: int) -> set[str]:
    """Return the ids of fields whose ``when`` reads another field of the same page (revealed by that answer).

    Reads through determinants count: ``when: dangerous`` with ``dangerous``
    reading this page's ``problem`` is decided by this page too.
    """
    page = compiled.definition.pages[page_number]
    own = {page_field.id for page_field in page.fields}
    revealed: set[str] = set()
    for number, page_field in enumerate(page.fields):
        if page_field.when is None:
            continue
        read = reads(compiled, compiled.expression(_field_when(page_number, number)))
        if any(name in own and name != page_field.id for name in read):
            revealed.add(page_field.id)
    return revealed


def visible_fields(
    evaluator: Evaluator, definition: ServiceDefinition, page_number: int, *, for_display: bool = False
) -> list[AnyField]:
    """Return the fields of page ``page_number`` whose ``when`` holds with ``evaluator``'s answers.

    ``for_display``: also fields revealed by another answer of the same page
    (shown, and revealed conditionally by the page's own answer), because
    that answer is only known once the page is sent.
    """
    page = definition.pages[page_number]
    revealed = fields_decided_on_page(evaluator.compiled, page_number) if for_display else set()
    shown: list[AnyField] = []
    for number, page_field in enumerate(page.fields):
        if (
            page_field.when is None
            or page_field.id in revealed
            or evaluator.condition(_field_when(page_number, number))
        ):
            shown.append(page_field)
    return shown


def page_answered(
    page: Page, visible: Iterable[AnyField], answers: Mapping[str, Any], completed: frozenset[str]
) -> bool:
    """Return whether ``page`` counts as answered: saved once, and no visible required field without an answer."""
    if page.id not in completed:
        return False
    return all(answers.get(page_field.id) is not None for page_field in visible if field_required(page_field))


@dataclass
class JourneyState:
    """Where an application is: its path, how the walk stopped, and the effective answers.

    ``path`` lists the page ids taken, ending with the first unanswered page
    (``stop == "unanswered"``) or an exit page (``"exit"``), or with the last
    question page (``"complete"``: next is check your answers).
    ``visible`` gives, per page on the path, the ids of its visible fields;
    ``values_before`` the effective answers when the walk entered each page
    (what that page's conditions and validation rules read). ``final_values``
    holds the effective answers of the whole path, and :meth:`final_evaluator`
    evaluates over them (documents, fees).

    A state is read-only once walked: :func:`govserve.journeys.selectors.state_load`
    hands the same walk to several requests (:meth:`copy`), each with its own evaluator.
    """

    compiled: CompiledDefinition
    answers: Mapping[str, Any]
    completed: frozenset[str]
    today: dt.date
    path: list[str] = field(default_factory=list)
    stop: Stop = "complete"
    visible: dict[str, list[str]] = field(default_factory=dict)
    values_before: dict[str, dict[str, Any]] = field(default_factory=dict)
    final_values: dict[str, Any] = field(default_factory=dict)
    evaluator: Evaluator | None = None
    shown: dict[str, list[AnyField]] = field(default_factory=dict)  # fields_for_display, shared by copies

    def copy(self) -> JourneyState:
        """Return this walk for another request: the same (read-only) path and answers, a fresh evaluator."""
        return replace(self, evaluator=None)

    @property
    def definition(self) -> ServiceDefinition:
        """Return the pinned definition."""
        return self.compiled.definition

    @property
    def stop_page(self) -> str | None:
        """Return the page the walk stopped on (first unanswered, or the exit page), None when complete."""
        return self.path[-1] if self.stop != "complete" and self.path else None

    @property
    def first_unanswered(self) -> str | None:
        """Return the first page still to answer, None when every page on the path is answered (or exited)."""
        return self.path[-1] if self.stop == "unanswered" else None

    @property
    def exit_page(self) -> str | None:
        """Return the exit page the answers lead to, if any."""
        return self.path[-1] if self.stop == "exit" else None

    @property
    def complete(self) -> bool:
        """Return whether every question on the path is answered and no exit page was reached."""
        return self.stop == "complete"

    def on_path(self, page_id: str) -> bool:
        """Return whether the applicant may open ``page_id`` now (it is on the path taken)."""
        return page_id in self.path

    def previous(self, page_id: str) -> str | None:
        """Return the page before ``page_id`` on the path (the back link), None for the first page."""
        position = self.path.index(page_id)
        return self.path[position - 1] if position > 0 else None

    def next_after(self, page_id: str) -> str:
        """Return the page to show after ``page_id`` is saved: the next on the path, or ``check-answers``."""
        position = self.path.index(page_id)
        if position + 1 < len(self.path):
            return self.path[position + 1]
        return CHECK_ANSWERS if self.complete else page_id

    def last_question_page(self) -> str | None:
        """Return the last page on the path (the back link of the steps after the questions)."""
        return self.path[-1] if self.path else None

    def effective_answers(self) -> dict[str, Any]:
        """Return the answers that count: visible fields on the path, answered (what is sent)."""
        effective: dict[str, Any] = {}
        for page_id in self.path:
            for field_id in self.visible.get(page_id, []):
                value = self.answers.get(field_id)
                if value is not None:
                    effective[field_id] = value
        return effective

    def final_evaluator(self) -> Evaluator:
        """Return the evaluator over the effective answers of the whole path (made on first use)."""
        if self.evaluator is None:
            self.evaluator = Evaluator(self.compiled, self.final_values, today=self.today)
        return self.evaluator

    def fields_for_display(self, page_id: str) -> list[AnyField]:
        """Return the fields page ``page_id`` shows (:func:`visible_fields` ``for_display``, before its answers).

        Worked out once per walk: the copies of a cached walk share the result.
        """
        shown = self.shown.get(page_id)
        if shown is None:
            number = page_index(self.definition)[page_id]
            shown = visible_fields(self.page_evaluator(page_id), self.definition, number, for_display=True)
            self.shown[page_id] = shown
        return list(shown)

    def page_evaluator(self, page_id: str, page_values: Mapping[str, Any] | None = None) -> Evaluator:
        """Return an evaluator for ``page_id``: the answers before it on the path, plus ``page_values``."""
        before = self.values_before.get(page_id)
        if before is None:
            before = empty_values(self.definition)
        return Evaluator(self.compiled, {**before, **(page_values or {})}, today=self.today)


def journey_walk(
    compiled: CompiledDefinition,
    answers: Mapping[str, Any],
    *,
    completed: Iterable[str],
    today: dt.date,
) -> JourneyState:
    """Walk the pages with ``answers`` (typed, by field id) and return the state (module docstring).

    ``completed`` lists the pages the applicant has saved. Raise
    RoutingLoopError when routes lead back to a page already on the path.
    """
    definition = compiled.definition
    positions = page_index(definition)
    state = JourneyState(compiled=compiled, answers=answers, completed=frozenset(completed), today=today)
    evaluator = Evaluator(compiled, empty_values(definition), today=today)
    number: int | None = 0
    seen: set[str] = set()
    while number is not None:
        if number >= len(definition.pages):
            state.stop = "complete"
            break
        page = definition.pages[number]
        if page.when is not None and not evaluator.condition(f"pages[{number}].when"):
            number += 1
            continue
        if page.id in seen:
            msg = f"{compiled.service_id} v{compiled.version}: the routes lead back to page {page.id!r}"
            raise RoutingLoopError(msg)
        seen.add(page.id)
        state.path.append(page.id)
        state.values_before[page.id] = evaluator._answers()
        if page.exit:
            state.visible[page.id] = []
            state.stop = "exit"
            break
        # This page's answers decide its own fields' conditions (conditionally revealed fields).
        evaluator.set_values(
            {page_field.id: cel_value(page_field, answers.get(page_field.id)) for page_field in page.fields}
        )
        evaluator.refresh_determinants()
        shown = visible_fields(evaluator, definition, number)
        hidden = {page_field.id: None for page_field in page.fields if page_field not in shown}
        if hidden:
            evaluator.set_values(hidden)
            evaluator.refresh_determinants()
        state.visible[page.id] = [page_field.id for page_field in shown]
        if not page_answered(page, shown, answers, state.completed):
            # Undo: an unanswered page adds nothing to the context of what follows it.
            evaluator.set_values(dict.fromkeys(page_field.id for page_field in page.fields))
            evaluator.refresh_determinants()
            state.stop = "unanswered"
            break
        number = _next_page_number(evaluator, page, number, positions)
        if number is None:
            state.stop = "complete"
    state.evaluator = evaluator
    state.final_values = evaluator._answers()
    return state


def _next_page_number(evaluator: Evaluator, page: Page, number: int, positions: Mapping[str, int]) -> int | None:
    """Return the list position of the page after ``page``, None for check your answers."""
    for route_number, route in enumerate(page.next):
        if route.when is None or evaluator.condition(f"pages[{number}].next[{route_number}].when"):
            return None if route.goto == CHECK_ANSWERS else positions[route.goto]
    return number + 1
