"""Conversion between Python answer values and CEL values.

The CEL library accepts only a few Python types, and accepts some of them
with surprising results (an ``int`` above 2**63 silently becomes a ``uint``,
above 2**64 a ``double``; a ``datetime.date`` or a ``zoneinfo`` datetime is
refused outright). Every value therefore goes through :func:`to_cel`, which
either returns a value CEL represents exactly or raises
:class:`~govserve.rules.errors.ValueConversionError`.

Dates become timestamps at the first instant of that calendar day in the
service's time zone (midnight, or the end of a DST gap where midnight does not
exist), carried as an aware ``datetime`` with the fixed UTC offset in force at
that instant. The fixed offset matters: the CEL library's timestamp getters
(``getFullYear()``, ``getMonth()``, ``getDate()``) read the timestamp's own
offset, so a date entered as 1 July in London reads back as 1 July, not as
30 June 23:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from govserve.rules.errors import ValueConversionError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def cel_type_name(value: object) -> str:  # noqa: PLR0911 - one answer per type
    """Return the CEL name of the type of a value as the CEL library hands it to Python."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.timedelta):
        return "duration"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "map"
    return type(value).__name__


@functools.lru_cache(maxsize=8192)
def start_of_day(day: dt.date, time_zone: ZoneInfo) -> dt.datetime:
    """Return the first instant of ``day`` in ``time_zone``, with a fixed UTC offset.

    Where local midnight falls into a DST gap (clocks jump from 00:00 to 01:00
    in some zones), the day starts at the end of the gap.
    """
    naive_midnight = dt.datetime.combine(day, dt.time(0))
    instant = naive_midnight.replace(tzinfo=time_zone).astimezone(dt.UTC)
    # fold=0 reads a non-existent local midnight with the offset in force
    # before the gap, which lands on the instant the gap ends: the day's start.
    return to_fixed_offset(instant, time_zone)


def to_fixed_offset(moment: dt.datetime, time_zone: ZoneInfo) -> dt.datetime:
    """Return ``moment`` as local time in ``time_zone`` with a fixed-offset tzinfo CEL accepts."""
    local = moment.astimezone(time_zone)
    offset = local.utcoffset() or dt.timedelta(0)  # never None: astimezone gives an aware datetime
    return local.replace(tzinfo=dt.timezone(offset))


def local_date(moment: dt.datetime, time_zone: ZoneInfo) -> dt.date:
    """Return the calendar date of an aware ``moment`` in ``time_zone``."""
    return moment.astimezone(time_zone).date()


class _Refused(Exception):  # noqa: N818 - internal signal, never escapes this module
    """A value CEL cannot carry; ``path`` collects the keys/indexes from the inside out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


# Exact types passed to CEL unchanged: checked with one set lookup, the fast
# path for the bulk of answers (subclasses take the slower isinstance path).
_UNCHANGED = frozenset({str, bool, float, bytes, type(None), dt.timedelta})


def to_cel(value: Any, time_zone: ZoneInfo, *, name: str) -> Any:
    """Return ``value`` converted to a value the CEL library represents exactly.

    ``name`` is the answer's name, for the error message. Raise
    ValueConversionError for a value CEL cannot carry (an integer outside the
    64-bit range, a naive datetime, an unsupported type, a map with non-string
    keys); its message names the place inside the value (``children[2].born``).
    """
    try:
        return _convert(value, time_zone)
    except _Refused as refused:
        where = name + "".join(reversed(refused.path))
        raise ValueConversionError(refused.reason.format(where=where), name=name) from None


def _convert(value: Any, time_zone: ZoneInfo) -> Any:
    kind = type(value)
    if kind in _UNCHANGED:
        return value
    if kind is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise _Refused("The value of `{where}` is outside the 64-bit integer range CEL supports")
        return value
    if kind is dict:
        return _convert_mapping(value, time_zone)
    if kind is list:
        return _convert_sequence(value, time_zone)
    if kind is dt.date:
        return start_of_day(value, time_zone)
    return _convert_other(value, time_zone)


def _convert_mapping(value: Mapping[Any, Any], time_zone: ZoneInfo) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise _Refused("The map `{where}` has a key that is not a string")
        try:
            converted[key] = _convert(item, time_zone)
        except _Refused as refused:
            refused.path.append(f".{key}")
            raise
    return converted


def _convert_sequence(value: list[Any] | tuple[Any, ...], time_zone: ZoneInfo) -> list[Any]:
    converted: list[Any] = []
    for index, item in enumerate(value):
        try:
            converted.append(_convert(item, time_zone))
        except _Refused as refused:
            refused.path.append(f"[{index}]")
            raise
    return converted


def _convert_other(value: Any, time_zone: ZoneInfo) -> Any:  # noqa: PLR0911 - one branch per type
    """Convert the types off the fast path: subclasses, Decimal, datetime, tuples, other mappings."""
    if isinstance(value, bool | str | bytes | float | dt.timedelta):
        return value
    if isinstance(value, int):
        return _convert(int(value), time_zone)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Refused("The value of `{where}` is not a finite number")
        converted = float(value)
        if math.isinf(converted):
            raise _Refused("The value of `{where}` is too large for a CEL double")
        return converted
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _Refused("The value of `{where}` is a naive datetime: pass an aware datetime or a date")
        return to_fixed_offset(value, time_zone)
    if isinstance(value, dt.date):
        return start_of_day(dt.date(value.year, value.month, value.day), time_zone)
    if isinstance(value, list | tuple):
        return _convert_sequence(value, time_zone)
    if isinstance(value, Mapping):
        return _convert_mapping(value, time_zone)
    raise _Refused(f"The value of `{{where}}` has type {type(value).__name__}, which CEL cannot represent")
