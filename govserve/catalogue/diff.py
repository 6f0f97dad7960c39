"""Human-readable differences between two versions of a service definition.

:func:`definition_changes` compares two validated definitions and returns a
list of :class:`Change`, in a stable order: service metadata, determinants,
pages and their fields, registrations (documents, fees, results), the flow,
notifications, then catalogues. Each change renders as one line an analyst can
read in a review, for example::

    Page 'trading-details': field 'pitch_size' added (number, required)
    Determinant 'is_adult': expression changed from `age(dob) >= 16` to `age(dob) >= 18`

Entities are matched by id, never by position, so reordering shows as
"reordered" and a field that moves between pages as "moved". Text in several
languages names the language that changed (``title (cy)``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from govserve.catalogue.definitions.schema import (
    AnyField,
    Catalogue,
    Fee,
    GroupField,
    LocalisedText,
    Page,
    Registration,
    Role,
    ServiceDefinition,
)


@dataclass(frozen=True)
class Change:
    """One change between two versions.

    ``area`` is one of service, determinant, page, field, registration,
    document, fee, result, flow, notification, catalogue, template; ``action`` is added,
    removed, changed, moved or reordered; ``subject`` locates it
    (``Page 'trading-details': field 'pitch_size'``); ``detail`` says what
    changed (``added (number, required)``).
    """

    area: str
    action: str
    subject: str
    detail: str

    def render(self) -> str:
        """Return the change as one line of text."""
        separator = " " if self.detail.startswith(_VERB_DETAILS) else ": "
        return f"{self.subject}{separator}{self.detail}"

    def as_dict(self) -> dict[str, str]:
        """Return the JSON form (``govserve diff --format json``)."""
        return {"area": self.area, "action": self.action, "subject": self.subject, "detail": self.detail}


_VERB_DETAILS = ("added", "removed", "moved", "reordered", "no longer")


def render_changes(changes: Sequence[Change]) -> str:
    """Return the changes as text, one per line, or a sentence saying there are none."""
    if not changes:
        return "No changes."
    return "\n".join(change.render() for change in changes)


# --- Formatting ---------------------------------------------------------------


def _quote(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_quote(item) for item in value) + "]"
    return f"'{value}'"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _expression(value: str | None) -> str:
    return "none" if value is None else f"`{value}`"


def _shorten(text: str, limit: int = 60) -> str:
    single_line = " ".join(text.split())
    return single_line if len(single_line) <= limit else single_line[: limit - 1] + "…"


def _text_changes(name: str, old: LocalisedText | None, new: LocalisedText | None) -> list[str]:
    """Describe a change of localised text, language by language."""
    details: list[str] = []
    for language in ("en", "cy"):
        before = old.get(language) if old is not None and (language == "en" or old.cy is not None) else None
        after = new.get(language) if new is not None and (language == "en" or new.cy is not None) else None
        if before == after:
            continue
        label = name if language == "en" else f"{name} (cy)"
        if before is None:
            details.append(f"{label} added: '{_shorten(after or '')}'")
        elif after is None:
            details.append(f"{label} removed")
        else:
            details.append(f"{label} changed from '{_shorten(before)}' to '{_shorten(after)}'")
    return details


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _attribute_changes(
    old: BaseModel,
    new: BaseModel,
    *,
    expressions: Iterable[str] = (),
    texts: Iterable[str] = (),
    scalars: Iterable[str] = (),
    wholes: Iterable[str] = (),
) -> list[str]:
    """Describe changed attributes: expressions in backticks, texts by language, scalars old → new."""
    details: list[str] = []
    for name in texts:
        details.extend(_text_changes(name.replace("_", " "), getattr(old, name), getattr(new, name)))
    for name in scalars:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            details.append(f"{name.replace('_', ' ')} changed from {_quote(before)} to {_quote(after)}")
    for name in expressions:
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        label = "condition" if name == "when" else name.replace("_", " ")
        if before is None:
            details.append(f"{label} added: {_expression(after)}")
        elif after is None:
            details.append(f"{label} removed (was {_expression(before)})")
        else:
            details.append(f"{label} changed from {_expression(before)} to {_expression(after)}")
    for name in wholes:
        if _dump(getattr(old, name)) != _dump(getattr(new, name)):
            details.append(f"{name.replace('_', ' ')} changed")
    return details


def _by_id[T](items: Iterable[T]) -> dict[str, T]:
    return {item.id: item for item in items}  # type: ignore[attr-defined]


def _keyed_changes[T](
    *,
    old: Sequence[T],
    new: Sequence[T],
    area: str,
    subject: Callable[[str], str],
    added: Callable[[T], str],
    changed: Callable[[T, T], list[str]],
    reorder_subject: str,
) -> list[Change]:
    """Compare two id-keyed lists: removed (old order), added and changed (new order), then reordering."""
    before, after = _by_id(old), _by_id(new)
    changes: list[Change] = [
        Change(area, "removed", subject(item_id), "removed") for item_id in before if item_id not in after
    ]
    for item_id, item in after.items():
        if item_id not in before:
            changes.append(Change(area, "added", subject(item_id), f"added{added(item)}"))
            continue
        changes.extend(Change(area, "changed", subject(item_id), detail) for detail in changed(before[item_id], item))
    kept_before = [item_id for item_id in before if item_id in after]
    kept_after = [item_id for item_id in after if item_id in before]
    if kept_before != kept_after:
        order = ", ".join(f"'{item_id}'" for item_id in kept_after)
        changes.append(Change(area, "reordered", reorder_subject, f"reordered: {order}"))
    return changes


# --- Fields -------------------------------------------------------------------


def _field_required(field: AnyField) -> bool | None:
    if isinstance(field, GroupField):
        return None
    return bool(field.validation.required)


def _field_summary(field: AnyField) -> str:
    parts: list[str] = [field.type]
    if isinstance(field, GroupField):
        parts.append(f"{field.validation.min_items} to {field.validation.max_items} items")
        parts.append(_count(len(field.fields), "field"))
    else:
        parts.append("required" if _field_required(field) else "optional")
    if field.when is not None:
        parts.append(f"when {_expression(field.when)}")
    return " (" + ", ".join(parts) + ")"


def _validation_changes(old: AnyField, new: AnyField) -> list[str]:
    details: list[str] = []
    before_validation = old.validation.model_dump(mode="json")
    after_validation = new.validation.model_dump(mode="json")
    before_required, after_required = _field_required(old), _field_required(new)
    if before_required != after_required and before_required is not None and after_required is not None:
        details.append("now required" if after_required else "now optional")
    for key in sorted(set(before_validation) | set(after_validation)):
        if key in {"required", "rules", "messages"}:
            continue
        before, after = before_validation.get(key), after_validation.get(key)
        if before != after:
            details.append(f"validation {key.replace('_', ' ')} changed from {_quote(before)} to {_quote(after)}")
    before_rules = {rule["expression"]: rule for rule in before_validation.get("rules", [])}
    after_rules = {rule["expression"]: rule for rule in after_validation.get("rules", [])}
    details.extend(f"rule removed: {_expression(e)}" for e in before_rules if e not in after_rules)
    details.extend(f"rule added: {_expression(e)}" for e in after_rules if e not in before_rules)
    details.extend(
        f"rule {_expression(e)}: message changed"
        for e in after_rules
        if e in before_rules and after_rules[e]["message"] != before_rules[e]["message"]
    )
    if before_validation.get("messages") != after_validation.get("messages"):
        details.append("error messages changed")
    return details


def _option_changes(old: AnyField, new: AnyField) -> list[str]:
    before_options = getattr(old, "options", None) or []
    after_options = getattr(new, "options", None) or []
    before_values = [option.value for option in before_options]
    after_values = [option.value for option in after_options]
    details: list[str] = []
    removed = [value for value in before_values if value not in after_values]
    added = [value for value in after_values if value not in before_values]
    if removed:
        details.append("options removed: " + ", ".join(f"'{value}'" for value in removed))
    if added:
        details.append("options added: " + ", ".join(f"'{value}'" for value in added))
    before_by_value = {option.value: option for option in before_options}
    relabelled = [
        option.value
        for option in after_options
        if option.value in before_by_value and _dump(option) != _dump(before_by_value[option.value])
    ]
    if relabelled:
        details.append("options changed: " + ", ".join(f"'{value}'" for value in relabelled))
    kept_before = [value for value in before_values if value in after_values]
    kept_after = [value for value in after_values if value in before_values]
    if kept_before != kept_after:
        details.append("options reordered")
    before_source, after_source = getattr(old, "options_from", None), getattr(new, "options_from", None)
    if before_source != after_source:
        details.append(f"options from changed from {_quote(before_source)} to {_quote(after_source)}")
    return details


def _field_changes(old: AnyField, new: AnyField) -> list[str]:
    if old.type != new.type:
        return [f"type changed from '{old.type}' to '{new.type}'{_field_summary(new)}"]
    details = _attribute_changes(
        old, new, texts=("label", "short_label", "hint"), scalars=("classification",), expressions=("when",)
    )
    details.extend(_validation_changes(old, new))
    details.extend(_option_changes(old, new))
    # Type-specific attributes (decimal_places, international, autocomplete, item_label).
    extras = sorted(set(type(old).model_fields) - _COMMON_FIELD_ATTRIBUTES)
    texts = [name for name in extras if isinstance(getattr(old, name), LocalisedText)]
    scalars = [name for name in extras if name not in texts]
    details.extend(_attribute_changes(old, new, texts=texts, scalars=scalars))
    return details


_COMMON_FIELD_ATTRIBUTES = frozenset(
    {"id", "type", "label", "short_label", "hint", "classification", "when", "fields", "options", "options_from"}
    | {"validation"}
)


def _flatten_fields(fields: Sequence[AnyField], *, container: str, prefix: str = "") -> list[tuple[str, str, AnyField]]:
    """Return (container, qualified id, field) for fields and group children, in order."""
    flat: list[tuple[str, str, AnyField]] = []
    for field in fields:
        qualified = f"{prefix}{field.id}"
        flat.append((container, qualified, field))
        if isinstance(field, GroupField):
            flat.extend(_flatten_fields(field.fields, container=container, prefix=f"{qualified}."))
    return flat


def _fields_diff(
    old: Sequence[tuple[str, str, AnyField]], new: Sequence[tuple[str, str, AnyField]], *, area_label: str
) -> list[Change]:
    """Compare fields across all pages (or roles) of both versions, so moves are seen as moves."""
    before = {qualified: (container, field) for container, qualified, field in old}
    after = {qualified: (container, field) for container, qualified, field in new}
    changes: list[Change] = []
    for qualified, (container, _field) in before.items():
        if qualified not in after:
            changes.append(Change("field", "removed", f"{area_label} '{container}': field '{qualified}'", "removed"))
    for qualified, (container, field) in after.items():
        subject = f"{area_label} '{container}': field '{qualified}'"
        if qualified not in before:
            changes.append(Change("field", "added", subject, f"added{_field_summary(field)}"))
            continue
        old_container, old_field = before[qualified]
        if old_container != container:
            changes.append(Change("field", "moved", subject, f"moved from {area_label.lower()} '{old_container}'"))
        changes.extend(Change("field", "changed", subject, detail) for detail in _field_changes(old_field, field))
    before_order: dict[str, list[str]] = {}
    for container, qualified, _field in old:
        before_order.setdefault(container, []).append(qualified)
    for container, qualified_ids in _group_by_container(new).items():
        previous = [qualified for qualified in before_order.get(container, []) if qualified in qualified_ids]
        current = [qualified for qualified in qualified_ids if qualified in previous]
        if previous != current:
            order = ", ".join(f"'{qualified}'" for qualified in current)
            changes.append(Change("field", "reordered", f"{area_label} '{container}' fields", f"reordered: {order}"))
    return changes


def _group_by_container(fields: Sequence[tuple[str, str, AnyField]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for container, qualified, _field in fields:
        grouped.setdefault(container, []).append(qualified)
    return grouped


# --- Sections -----------------------------------------------------------------


def _service_changes(old: ServiceDefinition, new: ServiceDefinition) -> list[Change]:
    details = _attribute_changes(
        old,
        new,
        texts=("title", "summary"),
        scalars=(
            "institution",
            "sign_in",
            "time_zone",
            "currency",
            "phone_region",
            "languages",
            "draft_expiry_days",
            "retention",
            "retention_action",
        ),
        wholes=("start_page",),
    )
    return [Change("service", "changed", "Service", detail) for detail in details]


def _page_changes(old: Page, new: Page) -> list[str]:
    details = _attribute_changes(old, new, texts=("title", "body"), scalars=("exit",), expressions=("when",))
    before_routes = [(route.when, route.goto) for route in old.next]
    after_routes = [(route.when, route.goto) for route in new.next]
    if before_routes != after_routes:
        rendered = "; ".join(
            f"to '{goto}'" + (f" when {_expression(when)}" if when is not None else "") for when, goto in after_routes
        )
        details.append(f"routes changed to: {rendered}" if rendered else "routes removed")
    return details


def _pages_diff(old: ServiceDefinition, new: ServiceDefinition) -> list[Change]:
    changes = _keyed_changes(
        old=old.pages,
        new=new.pages,
        area="page",
        subject=lambda page_id: f"Page '{page_id}'",
        added=lambda page: f" ({_count(len(page.fields), 'field')}{', exit page' if page.exit else ''})",
        changed=_page_changes,
        reorder_subject="Pages",
    )
    old_fields = [item for page in old.pages for item in _flatten_fields(page.fields, container=page.id)]
    new_fields = [item for page in new.pages for item in _flatten_fields(page.fields, container=page.id)]
    return changes + _fields_diff(old_fields, new_fields, area_label="Page")


def _determinants_diff(old: ServiceDefinition, new: ServiceDefinition) -> list[Change]:
    return _keyed_changes(
        old=old.determinants,
        new=new.determinants,
        area="determinant",
        subject=lambda determinant_id: f"Determinant '{determinant_id}'",
        added=lambda determinant: f": {_expression(determinant.expression)}",
        changed=lambda before, after: _attribute_changes(
            before, after, expressions=("expression",), scalars=("description",)
        ),
        reorder_subject="Determinants",
    )


def _fee_summary(fee: Fee) -> str:
    amount = f"{fee.amount} minor units" if fee.amount is not None else f"formula {_expression(fee.formula)}"
    return f" ({amount}, paid {fee.paid.replace('_', ' ')})"


def _registration_changes(old: Registration, new: Registration) -> list[Change]:
    subject = f"Registration '{new.id}'"
    changes = [
        Change("registration", "changed", subject, detail)
        for detail in _attribute_changes(
            old, new, texts=("name", "description"), scalars=("institution",), expressions=("when",)
        )
    ]
    if old.mandatory != new.mandatory:
        changes.append(
            Change("registration", "changed", subject, f"mandatory changed from {_mandatory(old)} to {_mandatory(new)}")
        )
    changes += _keyed_changes(
        old=old.documents,
        new=new.documents,
        area="document",
        subject=lambda document_id: f"{subject}: document '{document_id}'",
        added=lambda document: f" ({document.delivery.replace('_', ' ')})",
        changed=lambda before, after: _attribute_changes(
            before,
            after,
            texts=("name", "description"),
            scalars=("delivery", "types", "max_size_mb"),
            expressions=("when",),
        ),
        reorder_subject=f"{subject} documents",
    )
    changes += _keyed_changes(
        old=old.fees,
        new=new.fees,
        area="fee",
        subject=lambda fee_id: f"{subject}: fee '{fee_id}'",
        added=_fee_summary,
        changed=lambda before, after: _attribute_changes(
            before, after, texts=("name",), scalars=("amount", "paid"), expressions=("formula", "when")
        ),
        reorder_subject=f"{subject} fees",
    )
    changes += _keyed_changes(
        old=old.results,
        new=new.results,
        area="result",
        subject=lambda result_id: f"{subject}: result '{result_id}'",
        added=lambda result: f" (template {_quote(result.template)})",
        changed=lambda before, after: _attribute_changes(
            before, after, texts=("name",), scalars=("template", "valid_for"), expressions=("when",)
        ),
        reorder_subject=f"{subject} results",
    )
    return changes


def _mandatory(registration: Registration) -> str:
    value = registration.mandatory
    return _quote(value) if isinstance(value, bool) else _expression(value)


def _registrations_diff(old: ServiceDefinition, new: ServiceDefinition) -> list[Change]:
    changes: list[Change] = []
    before, after = _by_id(old.registrations), _by_id(new.registrations)
    changes.extend(
        Change("registration", "removed", f"Registration '{registration_id}'", "removed")
        for registration_id in before
        if registration_id not in after
    )
    for registration_id, registration in after.items():
        if registration_id not in before:
            changes.append(
                Change(
                    "registration",
                    "added",
                    f"Registration '{registration_id}'",
                    f"added ({registration.institution}; {_count(len(registration.documents), 'document')}, "
                    f"{_count(len(registration.fees), 'fee')}, {_count(len(registration.results), 'result')})",
                )
            )
        else:
            changes.extend(_registration_changes(before[registration_id], registration))
    kept_before = [item for item in before if item in after]
    kept_after = [item for item in after if item in before]
    if kept_before != kept_after:
        order = ", ".join(f"'{item}'" for item in kept_after)
        changes.append(Change("registration", "reordered", "Registrations", f"reordered: {order}"))
    return changes


def _role_changes(old: Role, new: Role) -> list[str]:
    details = _attribute_changes(
        old,
        new,
        texts=("name",),
        scalars=("kind", "institution", "sla_working_days", "sees", "on_true", "on_false"),
        expressions=("when", "rule"),
    )
    before_decisions, after_decisions = dict(old.decisions.items()), dict(new.decisions.items())
    for decision in ("approve", "reject", "send_back"):
        before, after = before_decisions.get(decision), after_decisions.get(decision)
        label = decision.replace("_", " ")
        if before == after:
            continue
        if before is None:
            details.append(f"may now {label} (to '{after}')")
        elif after is None:
            details.append(f"may no longer {label}")
        else:
            details.append(f"{label} now leads to '{after}' (was '{before}')")
    return details


def _flow_diff(old: ServiceDefinition, new: ServiceDefinition) -> list[Change]:
    changes = _keyed_changes(
        old=old.flow.roles,
        new=new.flow.roles,
        area="flow",
        subject=lambda role_id: f"Flow role '{role_id}'",
        added=lambda role: f" ({role.kind}, {role.institution})",
        changed=_role_changes,
        reorder_subject="Flow roles",
    )
    old_fields = [item for role in old.flow.roles for item in _flatten_fields(role.fields, container=role.id)]
    new_fields = [item for role in new.flow.roles for item in _flatten_fields(role.fields, container=role.id)]
    return changes + _fields_diff(old_fields, new_fields, area_label="Flow role")


def _notifications_diff(old: ServiceDefinition, new: ServiceDefinition) -> list[Change]:
    changes: list[Change] = []
    before, after = dict(old.notifications.items()), dict(new.notifications.items())
    for event in (*before, *(event for event in after if event not in before)):
        subject = f"Notification '{event}'"
        if event not in after:
            changes.append(Change("notification", "removed", subject, "removed"))
            continue
        for channel in ("email", "sms"):
            old_template = getattr(before[event], channel) if event in before else None
            new_template = getattr(after[event], channel)
            if old_template is None and new_template is None:
                continue
            if old_template is None:
                changes.append(Change("notification", "added", f"{subject}: {channel}", "added"))
            elif new_template is None:
                changes.append(Change("notification", "removed", f"{subject}: {channel}", "removed"))
            else:
                texts = ("subject", "body") if channel == "email" else ("body",)
                changes.extend(
                    Change("notification", "changed", f"{subject}: {channel}", detail)
                    for detail in _attribute_changes(old_template, new_template, texts=texts)
                )
    return changes


def _catalogues_diff(old: Mapping[str, Catalogue], new: Mapping[str, Catalogue]) -> list[Change]:
    changes: list[Change] = []
    for catalogue_id in sorted(set(old) | set(new)):
        subject = f"Catalogue '{catalogue_id}'"
        if catalogue_id not in new:
            changes.append(Change("catalogue", "removed", subject, "no longer used"))
        elif catalogue_id not in old:
            changes.append(
                Change("catalogue", "added", subject, f"added ({_count(len(new[catalogue_id].options), 'option')})")
            )
        else:
            before_values = [option.value for option in old[catalogue_id].options]
            after_values = [option.value for option in new[catalogue_id].options]
            removed = [value for value in before_values if value not in after_values]
            added = [value for value in after_values if value not in before_values]
            if removed:
                changes.append(
                    Change("catalogue", "changed", subject, "options removed: " + ", ".join(f"'{v}'" for v in removed))
                )
            if added:
                changes.append(
                    Change("catalogue", "changed", subject, "options added: " + ", ".join(f"'{v}'" for v in added))
                )
            if not removed and not added and _dump(old[catalogue_id]) != _dump(new[catalogue_id]):
                changes.append(Change("catalogue", "changed", subject, "labels or order changed"))
    return changes


def _templates_diff(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Changes to the text of the result templates the versions store (by path)."""
    changes: list[Change] = []
    for path in sorted(set(old) | set(new)):
        subject = f"Template '{path}'"
        if path not in new:
            changes.append(Change("template", "removed", subject, "no longer used"))
        elif path not in old:
            changes.append(
                Change("template", "added", subject, f"added ({_count(len(new[path].splitlines()), 'line')})")
            )
        elif old[path] != new[path]:
            before, after = old[path].splitlines(), new[path].splitlines()
            changed = sum(1 for line in difflib.ndiff(before, after) if line.startswith(("+ ", "- ")))
            changes.append(Change("template", "changed", subject, f"text changed ({_count(changed, 'line')} differ)"))
    return changes


def definition_changes(
    old: ServiceDefinition,
    new: ServiceDefinition,
    *,
    old_catalogues: Mapping[str, Catalogue] | None = None,
    new_catalogues: Mapping[str, Catalogue] | None = None,
    old_templates: Mapping[str, str] | None = None,
    new_templates: Mapping[str, str] | None = None,
) -> list[Change]:
    """Return every change from ``old`` to ``new``, in a stable, readable order (result templates last)."""
    return [
        *_service_changes(old, new),
        *_determinants_diff(old, new),
        *_pages_diff(old, new),
        *_registrations_diff(old, new),
        *_flow_diff(old, new),
        *_notifications_diff(old, new),
        *_catalogues_diff(old_catalogues or {}, new_catalogues or {}),
        *_templates_diff(old_templates or {}, new_templates or {}),
    ]
