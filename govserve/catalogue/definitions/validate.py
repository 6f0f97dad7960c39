"""Checks that need the whole definition, after its shape is valid.

:func:`validate_definition` finds, each located at a line and column of the
file:

* identifiers used twice (fields and determinants share one namespace, since
  CEL reads them bare), reserved names, unknown pages, roles and fields;
* CEL: syntax errors (at the character where the parser stopped), names that
  are neither a field nor a determinant (suggesting the nearest one),
  functions that do not exist, determinant cycles, and type errors found by
  evaluating each expression against typed sample values of the fields it
  reads (:func:`govserve.rules.check_expression_types`; see docs/rules.md for
  what that covers: the branches the samples take, with answered fields);
* the page graph (:mod:`~govserve.catalogue.definitions.graph`): pages no
  path reaches, dead ends, routing loops; conditions that are constant
  (no field in them) are evaluated, and a constant false one is a warning;
* fields: options, regular expressions, ranges, messages for rules not set;
* registrations (fees, results, documents), the flow of roles, notification
  placeholders, and text missing its Welsh version.

Nothing here needs the database: institutions and catalogues that exist only
there are verified when a version is published.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel

from govserve.catalogue.definitions import schema
from govserve.catalogue.definitions.errors import Path, Problem, ProblemCode, Severity, format_path
from govserve.catalogue.definitions.graph import PageNode, Truth, analyse_pages
from govserve.catalogue.definitions.placeholders import parse_placeholders
from govserve.catalogue.definitions.source import SourceMap
from govserve.rules import (
    PLATFORM_FUNCTIONS,
    CompiledExpression,
    DeterminantCycleError,
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    build_context,
    check_expression_types,
    compile_expression,
    determinant_order,
    evaluate,
    sample_value,
)
from govserve.rules.names import CEL_RESERVED_WORDS, CEL_TYPE_NAMES, COMPREHENSION_MACROS, tokens

ExpressionKind = Literal["condition", "formula"]

TIME_DEPENDENT_FUNCTIONS = frozenset({"today", "age"})
"""Functions whose result depends on the day: an expression calling them is never constant."""

MAX_COMPREHENSION_DEPTH = 2
"""How deeply comprehensions (``.map``, ``.all``...) may nest in one expression.

Each level multiplies the work by the length of its list: three levels over
literal lists can take hours to evaluate, in ``check`` and in every request.
Two levels cover a group inside a condition over another list."""

COMMON_PLACEHOLDERS = frozenset({"reference", "service_title", "link"})
"""Placeholders every notification may use: the application's reference, the service's title, a link to it."""

EVENT_PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "submitted": frozenset(),
    "sent_back": frozenset({"reason"}),
    "decision_made": frozenset({"decision", "reason"}),
    "message_received": frozenset(),
    "draft_expiring": frozenset({"expires_on"}),
    "payment_received": frozenset({"amount"}),
    "result_issued": frozenset({"result_name", "verify_link"}),
}
"""The platform's own placeholders per event, beyond :data:`COMMON_PLACEHOLDERS`."""

PLATFORM_PLACEHOLDERS = COMMON_PLACEHOLDERS.union(*EVENT_PLACEHOLDERS.values())

RESERVED_NAMES = CEL_RESERVED_WORDS | CEL_TYPE_NAMES | PLATFORM_PLACEHOLDERS
"""Names a field or determinant may not have: CEL's reserved words and types, and platform placeholders."""

JOURNEY_STEP_PAGES: Mapping[str, str] = {
    schema.CHECK_ANSWERS: "check your answers",
    "documents": "documents",
    "fees": "fees",
    "confirmation": "confirmation",
    "save-and-return": "save and come back later",
}
"""The citizen journey's own steps, by the page id their address takes (``/apply/<id>/<step>``).

A question page with one of these ids could never be reached: the step's
address is matched first (govserve/journeys/urls.py; a journeys test keeps
the two lists in step)."""

RESERVED_PAGE_IDS = frozenset(JOURNEY_STEP_PAGES)
RESERVED_ROLE_IDS = schema.FLOW_TARGETS
STAFF_ROLE_IDS = frozenset({"team-leader", "administrator", "analyst", "reviewer", "auditor"})
"""Roles staff hold outside any flow (casework's team leaders, the platform roles): never a flow role id,
or holding it would also grant the flow's tasks."""


@dataclass(frozen=True, slots=True)
class Scope:
    """The names an expression may read: top-level names, plus a group's children inside it."""

    group: schema.GroupField | None = None


@dataclass(slots=True)
class _Expression:
    path: Path
    source: str
    kind: ExpressionKind
    scope: Scope
    compiled: CompiledExpression | None = None


@dataclass(slots=True)
class _Validator:
    definition: schema.ServiceDefinition
    source: SourceMap
    filename: str
    problems: list[Problem] = field(default_factory=list)
    # Every field by id, with its path; group children too.
    fields: dict[str, tuple[Path, schema.AnyField]] = field(default_factory=dict)
    group_of: dict[str, schema.GroupField] = field(default_factory=dict)
    top_level: set[str] = field(default_factory=set)
    determinants: dict[str, schema.Determinant] = field(default_factory=dict)
    expressions: list[_Expression] = field(default_factory=list)
    compiled: dict[Path, CompiledExpression] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)

    # --- reporting -------------------------------------------------------------

    def add(
        self,
        code: ProblemCode,
        path: Path,
        message: str,
        suggestion: str | None = None,
        *,
        severity: Severity = "error",
        at_key: bool = False,
        position: tuple[int, int] | None = None,
    ) -> None:
        if position is None:
            mark = self.source.key(path) if at_key else self.source.value(path)
            position = (mark.line, mark.column) if mark is not None else (1, 1)
        self.problems.append(
            Problem(code, severity, message, self.filename, position[0], position[1], format_path(path), suggestion)
        )

    def location(self, path: Path) -> str:
        line, column = self.source.position(path)
        return f"{self.filename}:{line}:{column}"

    def line_of(self, path: Path) -> int:
        return self.source.position(path)[0]

    # --- the checks ---------------------------------------------------------------

    def run(self) -> list[Problem]:
        self.check_service()
        self.collect_names()
        self.check_pages()
        self.check_fields()
        self.check_registrations()
        self.check_flow()
        self.collect_expressions()
        self.check_expressions()
        self.check_page_graph()
        self.check_forward_references()
        self.check_notifications()
        self.check_translations()
        self.check_data_protection()
        return self.problems

    def check_service(self) -> None:
        definition = self.definition
        try:
            ZoneInfo(definition.time_zone)
        except (ValueError, LookupError):
            closest = _closest(definition.time_zone, available_timezones())
            self.add(
                ProblemCode.SCHEMA_INVALID_VALUE,
                ("time_zone",),
                f"`time_zone` `{definition.time_zone}` is not an IANA time zone",
                f"Did you mean `{closest}`?" if closest else "Use a name such as Europe/London",
            )
        if definition.phone_region != "GB" and definition.phone_region not in _phone_regions():
            self.add(
                ProblemCode.SCHEMA_INVALID_VALUE,
                ("phone_region",),
                f"`phone_region` `{definition.phone_region}` is not a region phone numbers can be read in",
                "Use an ISO 3166 region code such as GB",
            )
        languages = definition.languages
        if languages[0] != "en":
            self.add(
                ProblemCode.SCHEMA_INVALID_VALUE,
                ("languages",),
                "`languages` must start with `en`: English is the language every text has",
            )
        for index, language in enumerate(languages):
            if language in languages[:index]:
                self.add(ProblemCode.DEFINITION_DUPLICATE_ID, ("languages", index), f"`{language}` is listed twice")

    def collect_names(self) -> None:
        """Index fields and determinants, reporting ids used twice (the later in the file) and reserved ones."""
        declarations: list[tuple[Path, str, str]] = []
        for path, item in self.definition.iter_fields():
            declarations.append((path, item.id, "field"))
            if item.id not in self.fields:
                self.fields[item.id] = (path, item)
            if isinstance(item, schema.GroupField):
                for child in item.fields:
                    self.group_of.setdefault(child.id, item)
        for index, determinant in enumerate(self.definition.determinants):
            declarations.append((("determinants", index), determinant.id, "determinant"))
            self.determinants.setdefault(determinant.id, determinant)
        self.top_level = {name for name in self.fields if name not in self.group_of} | set(self.determinants)
        first_seen: dict[str, Path] = {}
        for path, name, what in sorted(declarations, key=lambda declaration: self.source.position(declaration[0])):
            if name in first_seen:
                earlier = first_seen[name]
                self.add(
                    ProblemCode.DEFINITION_DUPLICATE_ID,
                    (*path, "id"),
                    f"The id `{name}` is already used by {format_path(earlier)} (line {self.line_of(earlier)})",
                    "Fields and determinants share one set of names: rename one of them",
                )
                continue
            first_seen[name] = path
            if name in RESERVED_NAMES:
                self.add(
                    ProblemCode.DEFINITION_RESERVED_NAME,
                    (*path, "id"),
                    f"`{name}` is reserved ({_reserved_reason(name)}) and cannot be the id of a {what}",
                    f"Rename it, e.g. `{name}_answer`",
                )

    def check_pages(self) -> None:
        pages = self.definition.pages
        _check_unique(self, [(("pages", index), page.id) for index, page in enumerate(pages)], "page")
        page_ids = {page.id for page in pages}
        for index, page in enumerate(pages):
            path: Path = ("pages", index)
            if page.id == schema.CHECK_ANSWERS:
                self.add(
                    ProblemCode.DEFINITION_RESERVED_NAME,
                    (*path, "id"),
                    f"`{page.id}` is reserved: it is the route target that ends the questions",
                )
            elif page.id in RESERVED_PAGE_IDS:
                self.add(
                    ProblemCode.DEFINITION_RESERVED_NAME,
                    (*path, "id"),
                    f"`{page.id}` is reserved: it is the address of the journey's own "
                    f"{JOURNEY_STEP_PAGES[page.id]} page",
                    f"Rename the page, e.g. `{page.id}-details`",
                )
            if page.exit and (page.fields or page.next):
                what = "fields" if page.fields else "next"
                self.add(
                    ProblemCode.GRAPH_INVALID_EXIT_PAGE,
                    (*path, what),
                    f"Exit page `{page.id}` ends the journey, so it cannot have `{what}`",
                    "Remove `exit: true`, or move the fields to another page",
                    at_key=True,
                )
            for route_index, route in enumerate(page.next):
                if route.goto not in page_ids and route.goto != schema.CHECK_ANSWERS:
                    closest = _closest(route.goto, [*page_ids, schema.CHECK_ANSWERS])
                    self.add(
                        ProblemCode.DEFINITION_UNKNOWN_PAGE,
                        (*path, "next", route_index, "goto"),
                        f"No page has the id `{route.goto}`",
                        f"Did you mean `{closest}`?" if closest else f"Use a page id or `{schema.CHECK_ANSWERS}`",
                    )

    def check_fields(self) -> None:
        for path, item in self.definition.iter_fields():
            if isinstance(item, schema.RadiosField | schema.SelectField | schema.CheckboxesField):
                self.check_options(path, item)
            if isinstance(item, schema.GroupField):
                for child_index, child in enumerate(item.fields):
                    if isinstance(child, schema.GroupField):
                        self.add(
                            ProblemCode.FIELD_NESTED_GROUP,
                            (*path, "fields", child_index, "type"),
                            f"Group `{child.id}` is inside group `{item.id}`: groups cannot be nested",
                            "Ask for the inner list on its own page, or flatten it into the outer group",
                        )
            self.check_validation(path, item)

    def check_options(self, path: Path, item: schema.RadiosField | schema.SelectField | schema.CheckboxesField) -> None:
        if (item.options is None) == (item.options_from is None):
            both = item.options is not None
            self.add(
                ProblemCode.FIELD_OPTIONS,
                path,
                f"Field `{item.id}` has both `options` and `options_from`"
                if both
                else f"Field `{item.id}` needs `options` or `options_from` (a catalogue id)",
                "Keep one of them" if both else None,
            )
            return
        if item.options is None:
            return
        if not item.options:
            self.add(ProblemCode.FIELD_OPTIONS, (*path, "options"), f"Field `{item.id}` has no options")
        seen: dict[str, int] = {}
        for index, option in enumerate(item.options):
            if option.value in seen:
                self.add(
                    ProblemCode.FIELD_DUPLICATE_OPTION,
                    (*path, "options", index, "value"),
                    f"The option value `{option.value}` is already used by options[{seen[option.value]}]",
                )
            seen.setdefault(option.value, index)
            if option.exclusive and not isinstance(item, schema.CheckboxesField):
                self.add(
                    ProblemCode.FIELD_OPTIONS,
                    (*path, "options", index, "exclusive"),
                    "`exclusive` applies to checkboxes only",
                )

    def check_validation(self, path: Path, item: schema.AnyField) -> None:
        validation = item.validation
        vpath: Path = (*path, "validation")
        present = validation.__dict__  # getattr of a missing name is slow on pydantic models
        for low, high in _RANGES:
            low_value, high_value = present.get(low), present.get(high)
            if low_value is not None and high_value is not None and low_value > high_value:
                self.add(
                    ProblemCode.FIELD_INVALID_RANGE,
                    (*vpath, low),
                    f"`{low}` ({low_value}) is greater than `{high}` ({high_value}): no answer can pass",
                )
        if isinstance(validation, schema.DateValidation) and validation.after and validation.before:
            after, before = _date_bound_order(validation.after), _date_bound_order(validation.before)
            if after is not None and before is not None and after >= before:
                self.add(
                    ProblemCode.FIELD_INVALID_RANGE,
                    (*vpath, "after"),
                    f"`after` ({validation.after}) is not before `before` ({validation.before}): no date can pass",
                )
        if isinstance(validation, schema.TextValidation) and validation.pattern is not None:
            failure = pattern_error(validation.pattern)
            if failure is not None:
                message, offset = failure
                self.add(
                    ProblemCode.FIELD_INVALID_PATTERN,
                    (*vpath, "pattern"),
                    f"The regular expression does not compile: {message} (at character {offset + 1})",
                    position=self.source.position_in_scalar((*vpath, "pattern"), offset),
                )
            if not isinstance(item, schema.TextField | schema.LongTextField):
                self.add(
                    ProblemCode.FIELD_INVALID_PATTERN,
                    (*vpath, "pattern"),
                    f"`pattern` applies to text and long_text fields; a {item.type} field has its own format check",
                    severity="warning",
                )
        self.check_messages(vpath, item)

    def check_messages(self, vpath: Path, item: schema.AnyField) -> None:
        messages = getattr(item.validation, "messages", None)
        if messages is None:
            return
        for key in messages.model_fields_set:
            if getattr(messages, key) is None or _message_is_used(item, key):
                continue
            self.add(
                ProblemCode.FIELD_UNUSED_MESSAGE,
                (*vpath, "messages", key),
                f"The `{key}` message is never shown: "
                + (
                    "the field is optional"
                    if key == "required"
                    else f"`{key}` does not apply to a {item.type} field"
                    if key == "format"
                    else f"the field has no `{key}` rule"
                ),
                severity="warning",
                at_key=True,
            )

    def check_registrations(self) -> None:
        registrations = self.definition.registrations
        _check_unique(self, [(("registrations", i), r.id) for i, r in enumerate(registrations)], "registration")
        fees: list[tuple[Path, str]] = []
        results: list[tuple[Path, str]] = []
        documents: dict[str, tuple[Path, schema.Document]] = {}
        for index, registration in enumerate(registrations):
            path: Path = ("registrations", index)
            _check_unique(
                self,
                [((*path, "documents", i), d.id) for i, d in enumerate(registration.documents)],
                "document in this registration",
            )
            for doc_index, document in enumerate(registration.documents):
                doc_path: Path = (*path, "documents", doc_index)
                earlier = documents.get(document.id)
                if earlier is None:
                    documents[document.id] = (doc_path, document)
                elif earlier[0][:2] != path and earlier[1].delivery != document.delivery:
                    self.add(
                        ProblemCode.REGISTRATION_DOCUMENT_CONFLICT,
                        (*doc_path, "delivery"),
                        f"Document `{document.id}` is also required by {format_path(earlier[0][:2])} with delivery "
                        f"`{earlier[1].delivery}`, here `{document.delivery}`: a shared document is asked for once",
                        "Use the same delivery mode, or give the documents different ids",
                    )
            for fee_index, fee in enumerate(registration.fees):
                fee_path: Path = (*path, "fees", fee_index)
                fees.append((fee_path, fee.id))
                if (fee.amount is None) == (fee.formula is None):
                    self.add(
                        ProblemCode.REGISTRATION_FEE_AMOUNT,
                        fee_path,
                        f"Fee `{fee.id}` has both `amount` and `formula`"
                        if fee.amount is not None
                        else f"Fee `{fee.id}` needs an `amount` (in minor units) or a `formula`",
                        "Keep one of them" if fee.amount is not None else "For example `amount: 2500` for 25.00",
                    )
            for result_index, result in enumerate(registration.results):
                result_path: Path = (*path, "results", result_index)
                results.append((result_path, result.id))
                if result.template is None:
                    self.add(
                        ProblemCode.REGISTRATION_RESULT_WITHOUT_TEMPLATE,
                        result_path,
                        f"Result `{result.id}` has no `template`: nothing can be issued",
                        "Add `template:` with the path of the certificate template",
                    )
                self.check_holder_name(result_path, result)
        _check_unique(self, fees, "fee")
        _check_unique(self, results, "result")

    def check_holder_name(self, path: Path, result: schema.Result) -> None:
        """Check that a result's ``holder_name`` names answers outside groups, and that showing it has one."""
        for index, name in enumerate(result.holder_name):
            if name not in self.fields or name in self.group_of:
                closest = _closest(name, [known for known in self.fields if known not in self.group_of])
                self.add(
                    ProblemCode.DEFINITION_UNKNOWN_FIELD,
                    (*path, "holder_name", index),
                    f"No field outside a repeating group has the id `{name}`",
                    f"Did you mean `{closest}`?" if closest else None,
                )
        if result.show_holder_name and not result.holder_name:
            self.add(
                ProblemCode.DEFINITION_UNKNOWN_FIELD,
                (*path, "show_holder_name"),
                f"Result `{result.id}` shows the holder's name but names no `holder_name` fields",
                "Add `holder_name: [full_name]` with the fields that make up the name",
            )

    def check_flow(self) -> None:
        roles = self.definition.flow.roles
        role_ids = [role.id for role in roles]
        _check_unique(self, [(("flow", "roles", i), role.id) for i, role in enumerate(roles)], "role")
        known = set(role_ids)
        targets_known = True
        for index, role in enumerate(roles):
            path: Path = ("flow", "roles", index)
            if role.id in RESERVED_ROLE_IDS:
                self.add(
                    ProblemCode.DEFINITION_RESERVED_NAME,
                    (*path, "id"),
                    f"`{role.id}` is reserved as a decision target and cannot be a role id",
                )
            elif role.id in STAFF_ROLE_IDS:
                self.add(
                    ProblemCode.DEFINITION_RESERVED_NAME,
                    (*path, "id"),
                    f"`{role.id}` is a staff role outside flows and cannot be a role id",
                    "Name the role after the work it does, like licensing-officer",
                )
            decisions = dict(role.decisions.items())
            if not decisions:
                self.add(
                    ProblemCode.FLOW_UNKNOWN_DECISION,
                    (*path, "decisions"),
                    f"Role `{role.id}` allows no decision: give at least one of approve, reject, send_back",
                )
            for decision, target in decisions.items():
                if target not in known and target not in schema.FLOW_TARGETS:
                    targets_known = False
                    closest = _closest(target, [*role_ids, *schema.FLOW_TARGETS])
                    self.add(
                        ProblemCode.FLOW_UNKNOWN_ROLE,
                        (*path, "decisions", decision),
                        f"`{decision}` leads to `{target}`, which is not a role",
                        f"Did you mean `{closest}`?" if closest else "Use a role id, next, applicant or end",
                    )
            self.check_role_kind(path, role, decisions)
            for key, names in (("sees", role.sees or []), ("corrects", role.corrects)):
                for name_index, name in enumerate(names):
                    if name not in self.fields:
                        closest = _closest(name, self.fields)
                        self.add(
                            ProblemCode.DEFINITION_UNKNOWN_FIELD,
                            (*path, key, name_index),
                            f"No field has the id `{name}`",
                            f"Did you mean `{closest}`?" if closest else None,
                        )
        if targets_known:
            # With a decision leading nowhere known, the graph's findings would only echo that error.
            self.check_flow_graph()

    def check_role_kind(self, path: Path, role: schema.Role, decisions: Mapping[schema.Decision, str]) -> None:
        """Check that bot roles have a rule recording allowed decisions, and human roles none."""
        if role.kind == "bot":
            if role.rule is None:
                self.add(
                    ProblemCode.FLOW_BOT_RULE,
                    path,
                    f"Bot role `{role.id}` has no `rule`: a bot decides by a CEL condition",
                )
            for key, decision in (("on_true", role.on_true), ("on_false", role.on_false)):
                if decision not in decisions:
                    self.add(
                        ProblemCode.FLOW_UNKNOWN_DECISION,
                        (*path, key),
                        f"`{key}` records `{decision}`, which role `{role.id}` does not allow",
                        f"Add `{decision}` to its decisions",
                    )
        else:
            if role.rule is not None:
                self.add(
                    ProblemCode.FLOW_BOT_RULE,
                    (*path, "rule"),
                    f"Role `{role.id}` is human: only bot roles have a `rule`",
                    "Add `kind: bot`, or remove the rule",
                    at_key=True,
                )
            for key in ("on_true", "on_false"):
                if key in role.model_fields_set:
                    self.add(
                        ProblemCode.FLOW_BOT_RULE,
                        (*path, key),
                        f"Role `{role.id}` is human: `{key}` applies to bot roles only",
                        at_key=True,
                    )

    def check_flow_graph(self) -> None:
        roles = self.definition.flow.roles
        index_of = {role.id: index for index, role in enumerate(roles)}
        count = len(roles)

        def targets(index: int, target: str) -> list[int]:
            """Return the role indexes (``count`` for the end) a decision may lead to."""
            if target == "end":
                return [count]
            if target == "applicant":
                return [index]  # the applicant resubmits to the same role
            if target == "next":
                found: list[int] = []
                for later in range(index + 1, count):
                    found.append(later)
                    if roles[later].when is None:
                        return found
                return [*found, count]
            later_index = index_of.get(target)
            if later_index is None:
                return []
            # A role whose condition is false is skipped: it leads on like "next".
            return [later_index] if roles[later_index].when is None else [later_index, *targets(later_index, "next")]

        forward: list[list[int]] = [[] for _ in range(count + 1)]
        progress: list[list[int]] = [[] for _ in range(count + 1)]
        for index, role in enumerate(roles):
            for decision, target in role.decisions.items():
                reached = targets(index, target)
                forward[index].extend(reached)
                if decision != "send_back":
                    progress[index].extend(reached)
        reachable = _reach(forward, targets(-1, "next"))
        for index in range(count):
            if index not in reachable:
                self.add(
                    ProblemCode.FLOW_UNREACHABLE_ROLE,
                    ("flow", "roles", index),
                    f"No decision leads to role `{roles[index].id}`: it never gets a task",
                    severity="warning",
                )
        if count not in reachable:
            self.add(
                ProblemCode.FLOW_NO_END,
                ("flow", "roles"),
                "No sequence of decisions ends the processing: every path returns to a role",
                "Let some decision lead to `end` (or to `next` from the last role)",
                at_key=True,
            )
        for cycle in _cycles(progress, count):
            names = " -> ".join(roles[index].id for index in [*cycle, cycle[0]])
            self.add(
                ProblemCode.FLOW_LOOP,
                ("flow", "roles", cycle[0], "decisions"),
                f"Approving or rejecting can go round in a loop: {names}",
                "Only `send_back` may lead to an earlier role",
            )

    # --- expressions -----------------------------------------------------------

    def collect_expressions(self) -> None:
        top = Scope()
        for index, determinant in enumerate(self.definition.determinants):
            self.expect(("determinants", index, "expression"), determinant.expression)
        for index, page in enumerate(self.definition.pages):
            self.expect(("pages", index, "when"), page.when)
            for route_index, route in enumerate(page.next):
                self.expect(("pages", index, "next", route_index, "when"), route.when)
        for path, item in self.definition.iter_fields():
            scope = Scope(self.group_of.get(item.id))
            self.expect((*path, "when"), item.when, scope=scope)
            for rule_index, rule in enumerate(item.validation.rules):
                self.expect((*path, "validation", "rules", rule_index, "expression"), rule.expression, scope=scope)
        for index, registration in enumerate(self.definition.registrations):
            registration_path: Path = ("registrations", index)
            if isinstance(registration.mandatory, str):
                self.expect((*registration_path, "mandatory"), registration.mandatory)
            self.expect((*registration_path, "when"), registration.when)
            parts: list[tuple[str, list[Any]]] = [
                ("documents", registration.documents),
                ("fees", registration.fees),
                ("results", registration.results),
            ]
            for kind, items in parts:
                for item_index, part in enumerate(items):
                    self.expect((*registration_path, kind, item_index, "when"), part.when)
            for fee_index, fee in enumerate(registration.fees):
                self.expect((*registration_path, "fees", fee_index, "formula"), fee.formula, kind="formula")
        for role_index, role in enumerate(self.definition.flow.roles):
            self.expect(("flow", "roles", role_index, "when"), role.when, scope=top)
            self.expect(("flow", "roles", role_index, "rule"), role.rule, scope=top)

    def expect(
        self, path: Path, source: str | None, *, kind: ExpressionKind = "condition", scope: Scope | None = None
    ) -> None:
        """Queue the expression at ``path`` (if there is one) for checking."""
        if source is not None:
            self.expressions.append(_Expression(path, source, kind, scope or Scope()))

    def check_expressions(self) -> None:
        determinant_expressions: dict[str, CompiledExpression] = {}
        for expression in self.expressions:
            self.compile(expression)
            if expression.compiled is not None and expression.path[0] == "determinants":
                name = self.definition.determinants[int(expression.path[1])].id
                determinant_expressions.setdefault(name, expression.compiled)
        names_ok = {
            id(expression): self.check_names(expression) and self.check_complexity(expression)
            for expression in self.expressions
        }
        in_cycles = self.check_determinant_cycles(determinant_expressions)
        self.fold_constants({name: value for name, value in determinant_expressions.items() if name not in in_cycles})
        for expression in self.expressions:
            if expression.compiled is not None and names_ok[id(expression)]:
                self.check_types(expression)

    def compile(self, expression: _Expression) -> None:
        try:
            expression.compiled = compile_expression(expression.source, location=self.location(expression.path))
        except ExpressionSyntaxError as error:
            self.add(
                ProblemCode.CEL_SYNTAX,
                expression.path,
                f"{error.message} (column {error.column}"
                + (f" of line {error.line}" if error.line > 1 else "")
                + " of the expression)",
                _syntax_hint(expression.source),
                position=self.source.position_in_scalar(expression.path, error.offset),
            )
            return
        self.compiled[expression.path] = expression.compiled

    def names_in_scope(self, scope: Scope) -> set[str]:
        if scope.group is None:
            return self.top_level
        return self.top_level | {child.id for child in scope.group.fields}

    def check_names(self, expression: _Expression) -> bool:
        """Report unknown names and functions; return whether there were none."""
        compiled = expression.compiled
        if compiled is None:
            return False
        known = self.names_in_scope(expression.scope)
        ok = True
        for name in sorted(compiled.references - known):
            ok = False
            position = self.position_of_name(expression, name)
            group = self.group_of.get(name)
            if group is not None:
                self.add(
                    ProblemCode.CEL_UNKNOWN_NAME,
                    expression.path,
                    f"`{name}` is a field of the repeating group `{group.id}`, not a name of its own here",
                    f"Read it through the group, e.g. `{group.id}.map(item, item.{name})`",
                    position=position,
                )
                continue
            closest = _closest(name, known)
            self.add(
                ProblemCode.CEL_UNKNOWN_NAME,
                expression.path,
                f"`{name}` is not a field or a determinant",
                f"Did you mean `{closest}`?" if closest else None,
                position=position,
            )
        for function in sorted(compiled.functions - PLATFORM_FUNCTIONS):
            ok = False
            closest = _closest(function, PLATFORM_FUNCTIONS)
            self.add(
                ProblemCode.CEL_UNKNOWN_FUNCTION,
                expression.path,
                f"`{function}()` is not a function",
                f"Did you mean `{closest}()`?" if closest else "See docs/rules.md for the functions",
                position=self.position_of_name(expression, function),
            )
        return ok

    def check_complexity(self, expression: _Expression) -> bool:
        """Report comprehensions nested too deeply; return whether the expression may be evaluated."""
        depth, offset = comprehension_depth(expression.source)
        if depth <= MAX_COMPREHENSION_DEPTH:
            return True
        self.add(
            ProblemCode.CEL_TOO_COMPLEX,
            expression.path,
            f"Comprehensions (map, filter, all, exists) are nested {depth} deep; at most "
            f"{MAX_COMPREHENSION_DEPTH} are allowed, since each level multiplies the work",
            "Split the expression into determinants",
            position=self.source.position_in_scalar(expression.path, offset),
        )
        return False

    def position_of_name(self, expression: _Expression, name: str) -> tuple[int, int]:
        for token in tokens(expression.source):
            if token.kind == "ident" and token.text == name:
                return self.source.position_in_scalar(expression.path, token.offset)
        return self.source.position(expression.path)

    def check_determinant_cycles(self, determinants: dict[str, CompiledExpression]) -> set[str]:
        """Report each determinant cycle once; return the names on cycles."""
        remaining = dict(determinants)
        in_cycles: set[str] = set()
        index_of = {determinant.id: index for index, determinant in enumerate(self.definition.determinants)}
        while remaining:
            try:
                determinant_order(remaining)
            except DeterminantCycleError as error:
                cycle = error.cycle
                first = cycle[0]
                self.add(
                    ProblemCode.CEL_DETERMINANT_CYCLE,
                    ("determinants", index_of[first], "expression"),
                    "Determinants depend on each other in a cycle: " + " -> ".join(cycle),
                    "Break the cycle: a determinant cannot depend on itself, even through others",
                    position=self.position_of_name(
                        _Expression(
                            ("determinants", index_of[first], "expression"),
                            self.determinants[first].expression,
                            "condition",
                            Scope(),
                        ),
                        cycle[1],
                    ),
                )
                in_cycles.update(cycle)
                for name in cycle:
                    remaining.pop(name, None)
                continue
            break
        return in_cycles

    def fold_constants(self, determinants: dict[str, CompiledExpression]) -> None:
        """Evaluate the determinants that read no field (directly or through others)."""
        try:
            order = determinant_order(determinants)
        except DeterminantCycleError:
            return
        for name in order:
            compiled = determinants[name]
            if compiled.references <= self.constants.keys() and not compiled.functions & TIME_DEPENDENT_FUNCTIONS:
                value = self.constant_value(compiled)
                if isinstance(value, bool):
                    self.constants[name] = value

    def constant_value(self, compiled: CompiledExpression) -> Any:
        """Return the value of an expression that reads only constants (None when it fails)."""
        try:
            context = build_context(
                {name: self.constants[name] for name in compiled.references}, time_zone=_safe_zone(self.definition)
            )
            return evaluate(compiled, context)
        except ExpressionEvaluationError:
            return None

    def truth(self, path: Path) -> Truth:
        compiled = self.compiled.get(path)
        if compiled is None:
            return Truth.MAYBE  # it did not compile: reported already
        if not compiled.references <= self.constants.keys() or compiled.functions & TIME_DEPENDENT_FUNCTIONS:
            return Truth.MAYBE
        value = self.constant_value(compiled)
        if value is True:
            return Truth.ALWAYS
        if value is False:
            return Truth.NEVER
        return Truth.MAYBE

    def sample(self, name: str) -> Any:
        if name in self.determinants:
            return True
        _, item = self.fields[name]
        return _field_sample(item)

    def check_types(self, expression: _Expression) -> None:
        compiled = expression.compiled
        assert compiled is not None  # noqa: S101 - only compiled expressions are checked
        samples = {name: self.sample(name) for name in compiled.references}
        expect: type = bool if expression.kind == "condition" else int
        message = check_expression_types(compiled, samples, expect=expect)
        if message is not None:
            self.add(ProblemCode.CEL_TYPE_ERROR, expression.path, message)

    # --- the page graph --------------------------------------------------------------

    def check_page_graph(self) -> None:
        pages = self.definition.pages
        index_of = {page.id: index for index, page in enumerate(pages)}
        index_of[schema.CHECK_ANSWERS] = len(pages)
        nodes: list[PageNode] = []
        for index, page in enumerate(pages):
            path: Path = ("pages", index)
            condition = self.truth((*path, "when")) if page.when is not None else Truth.ALWAYS
            if condition is Truth.NEVER:
                self.add(
                    ProblemCode.GRAPH_CONSTANT_CONDITION,
                    (*path, "when"),
                    f"This condition is always false: page `{page.id}` is never shown",
                    severity="warning",
                )
            routes: list[tuple[Truth, int | None]] = []
            for route_index, route in enumerate(page.next):
                route_path: Path = (*path, "next", route_index, "when")
                truth = self.truth(route_path) if route.when is not None else Truth.ALWAYS
                if truth is Truth.NEVER:
                    self.add(
                        ProblemCode.GRAPH_CONSTANT_CONDITION,
                        route_path,
                        f"This condition is always false: the route to `{route.goto}` is never taken",
                        severity="warning",
                    )
                routes.append((truth, index_of.get(route.goto)))
            nodes.append(PageNode(condition, routes, page.exit))
        findings = analyse_pages(nodes)
        for index in findings.unreachable_pages:
            self.add(
                ProblemCode.GRAPH_UNREACHABLE_PAGE,
                ("pages", index),
                f"No path through the journey reaches page `{pages[index].id}`",
                "Check the routes (`next`) of the pages before it",
            )
        for pages_in_loop, closing in findings.loops:
            names = " -> ".join(pages[index].id for index in pages_in_loop)
            path = ("pages", closing[0], "next", closing[1], "goto") if closing else ("pages", pages_in_loop[0])
            self.add(
                ProblemCode.GRAPH_ROUTING_LOOP,
                path,
                f"Pages can route in a loop: {names}",
                "Route forward only; for 'add another', use a group field",
            )
        for index in findings.dead_ends:
            self.add(
                ProblemCode.GRAPH_DEAD_END,
                ("pages", index),
                f"Page `{pages[index].id}` is a dead end: no path from it reaches check your answers or an exit page",
            )
        if not findings.end_reachable:
            self.add(
                ProblemCode.GRAPH_DEAD_END,
                ("pages",),
                "No path through the pages reaches check your answers: nobody can submit an application",
                at_key=True,
            )
        for index, route_index in findings.unreachable_routes:
            self.add(
                ProblemCode.GRAPH_UNREACHABLE_ROUTE,
                ("pages", index, "next", route_index),
                "This route is never taken: an earlier route of the page always applies",
                severity="warning",
            )

    def check_forward_references(self) -> None:
        """Warn about conditions that read answers not given yet when they are evaluated."""
        page_of: dict[str, int] = {}
        for index, page in enumerate(self.definition.pages):
            for _, item in schema._iter_fields(("pages", index, "fields"), page.fields):
                page_of[item.id] = index
        later = len(self.definition.pages)  # processing fields: answered after submission
        fields_of_determinant = self.determinant_fields()

        def fields_read(path: Path) -> set[str]:
            compiled = self.compiled.get(path)
            if compiled is None:
                return set()
            names: set[str] = set()
            for name in compiled.references:
                names |= fields_of_determinant.get(name, {name} if name in self.fields else set())
            return names

        for index, page in enumerate(self.definition.pages):
            checks: list[tuple[Path, int, str]] = []
            if page.when is not None:
                checks.append((("pages", index, "when"), index, f"page `{page.id}` is shown"))
            for route_index, route in enumerate(page.next):
                if route.when is not None:
                    checks.append((("pages", index, "next", route_index, "when"), index + 1, "the route is chosen"))
            for path, first_unanswered, when in checks:
                late = sorted(name for name in fields_read(path) if page_of.get(name, later) >= first_unanswered)
                if late:
                    self.add(
                        ProblemCode.GRAPH_FORWARD_REFERENCE,
                        path,
                        f"This condition reads {', '.join(f'`{name}`' for name in late)}, not answered yet when "
                        f"{when}: it is null then",
                        "Ask for it on an earlier page",
                        severity="warning",
                    )

    def determinant_fields(self) -> dict[str, set[str]]:
        """Return the fields each determinant reads, directly or through other determinants."""
        result: dict[str, set[str]] = {}
        expressions = {
            name: self.compiled.get(("determinants", index, "expression"))
            for index, name in enumerate(determinant.id for determinant in self.definition.determinants)
        }
        compiled = {name: value for name, value in expressions.items() if value is not None}
        try:
            order = determinant_order(compiled)
        except DeterminantCycleError:
            return result
        for name in order:
            names: set[str] = set()
            for reference in compiled[name].references:
                names |= result.get(reference, {reference} if reference in self.fields else set())
            result[name] = names
        return result

    # --- notifications and text ----------------------------------------------------------

    def check_notifications(self) -> None:
        plain_fields = {
            name for name, (_, item) in self.fields.items() if name in self.top_level and item.type != "group"
        }
        flags = set(self.determinants) | {name for name in plain_fields if self.fields[name][1].type == "yes_no"}
        sms_to = self.definition.notifications.sms_to
        if sms_to is not None and (sms_to not in plain_fields or self.fields[sms_to][1].type != "phone"):
            phones = [name for name in plain_fields if self.fields[name][1].type == "phone"]
            closest = _closest(sms_to, phones)
            self.add(
                ProblemCode.DEFINITION_UNKNOWN_FIELD,
                ("notifications", "sms_to"),
                f"`{sms_to}` is not a phone field outside a repeating group: text messages need a phone number",
                f"Did you mean `{closest}`?" if closest else None,
            )
        for event, templates in self.definition.notifications.items():
            allowed = COMMON_PLACEHOLDERS | EVENT_PLACEHOLDERS[event] | plain_fields
            texts: list[tuple[Path, schema.LocalisedText]] = []
            if templates.email is not None:
                texts.append((("notifications", event, "email", "subject"), templates.email.subject))
                texts.append((("notifications", event, "email", "body"), templates.email.body))
            if templates.sms is not None:
                texts.append((("notifications", event, "sms", "body"), templates.sms.body))
            for path, text in texts:
                for language, template in (("en", text.en), ("cy", text.cy)):
                    if template is not None:
                        self.check_template((*path, language), path, template, allowed, flags)

    def check_template(
        self, path: Path, fallback: Path, template: str, allowed: frozenset[str] | set[str], flags: set[str]
    ) -> None:
        text_path = path if path in self.source.values else fallback
        found, malformed = parse_placeholders(template)
        for bad in malformed:
            self.add(
                ProblemCode.NOTIFICATION_MALFORMED_PLACEHOLDER,
                text_path,
                bad.reason,
                "Write placeholders as ((name)) or ((flag??optional text))",
                position=self.source.position_in_scalar(text_path, bad.offset),
            )
        for placeholder in found:
            position = self.source.position_in_scalar(text_path, placeholder.offset)
            if placeholder.optional_text is not None:
                if placeholder.name not in flags:
                    closest = _closest(placeholder.name, flags)
                    self.add(
                        ProblemCode.NOTIFICATION_UNKNOWN_PLACEHOLDER,
                        text_path,
                        f"`{placeholder.name}` in ((…??…)) must be a determinant or a yes/no field",
                        f"Did you mean `{closest}`?" if closest else None,
                        position=position,
                    )
                continue
            if placeholder.name not in allowed:
                closest = _closest(placeholder.name, allowed)
                self.add(
                    ProblemCode.NOTIFICATION_UNKNOWN_PLACEHOLDER,
                    text_path,
                    f"`(({placeholder.name}))` is not a field or a placeholder this notification has",
                    f"Did you mean `(({closest}))`?" if closest else None,
                    position=position,
                )
                continue
            entry = self.fields.get(placeholder.name)
            if entry is not None and entry[1].classification == "special_category":
                self.add(
                    ProblemCode.NOTIFICATION_SPECIAL_CATEGORY,
                    text_path,
                    f"`{placeholder.name}` is special category data: email and text messages are not secure enough "
                    "to carry it",
                    "Link to the application instead with ((link))",
                    severity="warning",
                    position=position,
                )

    def check_data_protection(self) -> None:
        section = self.definition.data_protection
        if section is None or section.special_category_condition is not None:
            return
        special = next(
            (path for path, field in self.definition.iter_fields() if field.classification == "special_category"), None
        )
        if special is not None:
            self.add(
                ProblemCode.DATA_PROTECTION_NO_CONDITION,
                ("data_protection",),
                f"The service collects special category data (the first at {format_path(special)}) but "
                "`data_protection` gives no `special_category_condition`",
                "Name the UK GDPR article 9 condition the service relies on",
                severity="warning",
                at_key=True,
            )

    def check_translations(self) -> None:
        if "cy" not in self.definition.languages:
            return
        count, first = _count_missing_welsh(self.definition)
        if first is not None:
            self.add(
                ProblemCode.TEXT_MISSING_TRANSLATION,
                first,
                f"{count} text(s) have no Welsh (cy) version, the first at {format_path(first)}; "
                "English is shown instead",
                "Write text as {en: ..., cy: ...}",
                severity="warning",
            )


# --- helpers ---------------------------------------------------------------------------

_RANGES = (
    ("min_length", "max_length"),
    ("min", "max"),
    ("min_age", "max_age"),
    ("min_selected", "max_selected"),
    ("min_items", "max_items"),
)

# Messages that apply whatever the rules, per field type.
_FORMAT_MESSAGES = frozenset({"email", "phone", "postcode", "number", "money", "date"})


def _message_is_used(item: schema.AnyField, key: str) -> bool:
    validation = item.validation
    if key == "required":
        return bool(validation.__dict__.get("required", True))
    if key == "format":
        return item.type in _FORMAT_MESSAGES
    if isinstance(item, schema.AddressField):
        return key != "postcode" or not item.international
    if isinstance(item, schema.FileField | schema.GroupField):
        return True
    return validation.__dict__.get(key) is not None


def _date_bound_order(bound: str) -> Any:
    """Return a comparable value for a date bound, or None when bounds of different kinds cannot be compared."""
    relative = {"yesterday": -1, "today": 0, "tomorrow": 1}
    if bound in relative:
        return ("relative", relative[bound])
    return ("date", bound)


def _check_unique(validator: _Validator, items: Sequence[tuple[Path, str]], what: str) -> None:
    seen: dict[str, Path] = {}
    for path, identifier in items:
        if identifier in seen:
            earlier = seen[identifier]
            validator.add(
                ProblemCode.DEFINITION_DUPLICATE_ID,
                (*path, "id"),
                f"Another {what} already has the id `{identifier}` ({format_path(earlier)}, "
                f"line {validator.line_of(earlier)})",
            )
        else:
            seen[identifier] = path


def _closest(word: str, candidates: Any) -> str | None:
    matches = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _reserved_reason(name: str) -> str:
    if name in CEL_RESERVED_WORDS:
        return "a CEL keyword"
    if name in CEL_TYPE_NAMES:
        return "a CEL type name"
    return "a notification placeholder the platform fills in"


def pattern_error(pattern: str) -> tuple[str, int] | None:
    """Return why ``pattern`` does not compile and where (0-based), or None when it compiles.

    Patterns are matched by the ``regex`` module (it can time a match out), so
    that is the judge; when it refuses a pattern, Python's ``re`` usually says
    more precisely where (an unclosed group at its opening bracket).
    """
    regex: Any = importlib.import_module("regex")
    try:
        regex.compile(pattern)
    except regex.error as error:
        try:
            re.compile(pattern)
        except re.error as detail:
            return detail.msg, detail.pos or 0
        return error.msg, error.pos or 0
    return None


def comprehension_depth(source: str) -> tuple[int, int]:
    """Return how deeply comprehension macros nest in ``source``, and the offset of the deepest one."""
    significant = list(tokens(source))
    open_brackets: list[bool] = []  # per open bracket: whether a comprehension opened it
    depth = deepest = deepest_offset = 0
    for index, token in enumerate(significant):
        if token.text in {"(", "[", "{"}:
            previous = significant[index - 1] if index else None
            before = significant[index - 2] if index > 1 else None
            is_macro = (
                token.text == "("
                and previous is not None
                and previous.text in COMPREHENSION_MACROS
                and before is not None
                and before.text == "."
            )
            open_brackets.append(is_macro)
            if is_macro:
                depth += 1
                if depth > deepest:
                    deepest, deepest_offset = depth, previous.offset if previous is not None else 0
        elif token.text in {")", "]", "}"} and open_brackets and open_brackets.pop():
            depth -= 1
    return deepest, deepest_offset


def _syntax_hint(source: str) -> str | None:
    if "=" in source and "==" not in source and "!=" not in source and "<=" not in source and ">=" not in source:
        return "Compare with `==`, not `=`"
    if " and " in f" {source} " or " or " in f" {source} ":
        return "CEL writes `&&` and `||` for and, or"
    if " not " in f" {source} ":
        return "CEL writes `!` for not"
    return None


def _field_sample(item: schema.AnyField) -> Any:
    if isinstance(item, schema.GroupField):
        return sample_value("group", children={child.id: child.type for child in item.fields})
    decimal = isinstance(item, schema.NumberField) and item.decimal_places > 0
    return sample_value(item.type, decimal=decimal)


def _phone_regions() -> frozenset[str]:
    """Return the regions phone numbers can be read in (phonenumbers loads slowly: only when needed)."""
    import phonenumbers  # noqa: PLC0415

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def _safe_zone(definition: schema.ServiceDefinition) -> str:
    try:
        ZoneInfo(definition.time_zone)
    except (ValueError, LookupError):
        return "Europe/London"
    return definition.time_zone


def _reach(successors: Sequence[Sequence[int]], starts: Sequence[int]) -> set[int]:
    seen = set(starts)
    stack = list(starts)
    while stack:
        for target in successors[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _cycles(successors: Sequence[Sequence[int]], count: int) -> list[list[int]]:
    """Return one cycle (as node list) per cycle-bearing strongly connected set among roles ``0..count-1``."""
    from govserve.catalogue.definitions.graph import _strongly_connected  # noqa: PLC0415

    nodes = set(range(count))
    cycles = []
    for component in _strongly_connected(successors, nodes):
        cycles.append(sorted(component))
    cycles.sort()
    return cycles


def _count_missing_welsh(definition: schema.ServiceDefinition) -> tuple[int, Path | None]:
    """Return how many texts lack a Welsh version, and the path of the first in file order."""
    count = 0
    first: Path | None = None
    stack: list[tuple[Path, Any]] = [((), definition)]
    localised = schema.LocalisedText
    while stack:
        path, node = stack.pop()
        if type(node) is localised:
            if node.cy is None:
                count += 1
                first = first or path
        elif type(node) is list:
            stack.extend(((*path, index), item) for index, item in reversed(list(enumerate(node))))
        elif isinstance(node, BaseModel):
            children = [(name, value) for name, value in node.__dict__.items() if isinstance(value, BaseModel | list)]
            stack.extend(((*path, name), value) for name, value in reversed(children))
    return count, first


def validate_definition(definition: schema.ServiceDefinition, *, source: SourceMap, filename: str) -> list[Problem]:
    """Return every problem of ``definition`` that its schema alone cannot find.

    ``source`` locates paths in the file named ``filename``. Needs no database.
    """
    return _Validator(definition, source, filename).run()


def validate_catalogues(catalogues: list[schema.Catalogue], *, source: SourceMap, filename: str) -> list[Problem]:
    """Return the problems of a catalogue file: duplicate catalogue ids and option values."""
    problems: list[Problem] = []

    def add(code: ProblemCode, path: Path, message: str) -> None:
        line, column = source.position(path)
        problems.append(Problem(code, "error", message, filename, line, column, format_path(path)))

    seen: dict[str, int] = {}
    for index, catalogue in enumerate(catalogues):
        if catalogue.id in seen:
            add(
                ProblemCode.DEFINITION_DUPLICATE_ID,
                ("catalogues", index, "id"),
                f"Another catalogue already has the id `{catalogue.id}` (catalogues[{seen[catalogue.id]}])",
            )
        seen.setdefault(catalogue.id, index)
        values: dict[str, int] = {}
        for option_index, option in enumerate(catalogue.options):
            if option.value in values:
                add(
                    ProblemCode.FIELD_DUPLICATE_OPTION,
                    ("catalogues", index, "options", option_index, "value"),
                    f"The option value `{option.value}` is already used by options[{values[option.value]}]",
                )
            values.setdefault(option.value, option_index)
    return problems
