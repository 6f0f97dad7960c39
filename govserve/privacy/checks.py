"""System checks for the encryption keys (``govserve check``, ``govserve check --deploy``).

- privacy.E001: GOVSERVE_KEYS is malformed (always) or empty (``--deploy``).
- privacy.E002: GOVSERVE_BLIND_INDEX_KEY is malformed (always) or empty (``--deploy``).
- privacy.E003: GOVSERVE_KEYS holds the public development key (``--deploy``).
- privacy.E004: GOVSERVE_BLIND_INDEX_KEY is the public development key (``--deploy``).
- privacy.E005: the blind-index key repeats a key-encryption key.
- privacy.E006: data keys are wrapped by a KEK that is not configured (``--database``):
  their values cannot be read until it is configured again.

An empty key is only refused by ``--deploy`` so that building a release
(``collectstatic`` with production settings and no secrets) still works;
anything malformed is refused everywhere, because it is never intended.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from govserve.privacy.keys import (
    BLIND_INDEX_SETTING,
    DEVELOPMENT_BLIND_INDEX_KEY_MATERIAL,
    DEVELOPMENT_KEK_MATERIAL,
    KEYS_SETTING,
    parse_blind_index_key,
    parse_key_ring,
)

_KEYS_HINT = (
    "Set GOVSERVE_KEYS to 'id:<base64 of 32 random bytes>' entries, current first: `govserve keys generate ID`."
)
_BLIND_HINT = "Set GOVSERVE_BLIND_INDEX_KEY to a base64 key of at least 32 random bytes, kept apart from GOVSERVE_KEYS."


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not value


@register(Tags.security)
def check_key_configuration(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse malformed keys and a blind-index key that repeats a key-encryption key."""
    messages: list[CheckMessage] = []
    raw_keys = getattr(settings, KEYS_SETTING, None)
    raw_blind = getattr(settings, BLIND_INDEX_SETTING, None)
    kek_materials: set[bytes] = set()
    if not _is_empty(raw_keys):
        try:
            ring = parse_key_ring(raw_keys)
        except ImproperlyConfigured as error:
            messages.append(Error(str(error), hint=_KEYS_HINT, id="privacy.E001"))
        else:
            kek_materials = {kek.material for kek in ring.by_id.values()}
    if not _is_empty(raw_blind):
        try:
            blind = parse_blind_index_key(raw_blind)
        except ImproperlyConfigured as error:
            messages.append(Error(str(error), hint=_BLIND_HINT, id="privacy.E002"))
        else:
            if blind in kek_materials:
                messages.append(
                    Error(
                        f"{BLIND_INDEX_SETTING} repeats a key of {KEYS_SETTING}: keys must not serve two purposes",
                        hint=_BLIND_HINT,
                        id="privacy.E005",
                    )
                )
    return messages


@register(Tags.security, deploy=True)
def check_production_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a deployment without keys or with the public development keys."""
    messages: list[CheckMessage] = []
    raw_keys = getattr(settings, KEYS_SETTING, None)
    raw_blind = getattr(settings, BLIND_INDEX_SETTING, None)
    if _is_empty(raw_keys):
        messages.append(Error(f"{KEYS_SETTING} is empty: no key-encryption key", hint=_KEYS_HINT, id="privacy.E001"))
    else:
        try:
            ring = parse_key_ring(raw_keys)
        except ImproperlyConfigured:
            pass  # reported by check_key_configuration
        else:
            development = [kek.id for kek in ring.by_id.values() if kek.material in DEVELOPMENT_KEK_MATERIAL]
            if development:
                messages.append(
                    Error(
                        f"{KEYS_SETTING} holds the public development key (id {', '.join(development)})",
                        hint=_KEYS_HINT + " Then `govserve keys rotate` and retire the development key.",
                        id="privacy.E003",
                    )
                )
    if _is_empty(raw_blind):
        messages.append(Error(f"{BLIND_INDEX_SETTING} is empty", hint=_BLIND_HINT, id="privacy.E002"))
    else:
        try:
            blind = parse_blind_index_key(raw_blind)
        except ImproperlyConfigured:
            pass  # reported by check_key_configuration
        else:
            if blind in DEVELOPMENT_BLIND_INDEX_KEY_MATERIAL:
                messages.append(
                    Error(
                        f"{BLIND_INDEX_SETTING} is the public development key",
                        hint=_BLIND_HINT,
                        id="privacy.E004",
                    )
                )
    return messages


@register(Tags.database)
def check_data_keys_readable(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse when data keys are wrapped by a KEK missing from GOVSERVE_KEYS (runs with ``--database``)."""
    if not databases or "default" not in databases:
        return []
    from govserve.privacy.models import DataKey  # noqa: PLC0415 - models load after the app registry

    with connections["default"].cursor() as cursor:
        tables = connections["default"].introspection.table_names(cursor)
    if DataKey._meta.db_table not in tables:
        return []  # not migrated yet
    try:
        configured = set(parse_key_ring(getattr(settings, KEYS_SETTING, None)).by_id)
    except ImproperlyConfigured:
        configured = set()
    in_use = set(
        DataKey.objects.filter(destroyed_at__isnull=True).values_list("kek_id", flat=True).distinct().order_by()
    )
    missing = sorted(in_use - configured)
    if not missing:
        return []
    return [
        Error(
            f"data keys are wrapped by key-encryption keys missing from {KEYS_SETTING}: {', '.join(missing)}",
            hint="Configure those keys again (after the current one); their values cannot be read without them.",
            id="privacy.E006",
        )
    ]
