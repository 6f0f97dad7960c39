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


def to_cel(value: Any, time_zone: ZoneInfo, *, name: str) -> Any:  # noqa: PLR0911, PLR0912 - one branch per type
    """Return ``value`` converted to a value the CEL library represents exactly.

    ``name`` is the answer's name, for the error message. Raise
    ValueConversionError for a value CEL cannot carry (an integer outside the
    64-bit range, a naive datetime, an unsupported type, a map with non-string
    keys).
    """
    if value is None or isinstance(value, bool | str | bytes):
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueConversionError(
                f"The value of `{name}` is outside the 64-bit integer range CEL supports", name=name
            )
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueConversionError(f"The value of `{name}` is not a finite number", name=name)
        converted = float(value)
        if math.isinf(converted):
            raise ValueConversionError(f"The value of `{name}` is too large for a CEL double", name=name)
        return converted
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueConversionError(
                f"The value of `{name}` is a naive datetime: pass an aware datetime or a date", name=name
            )
        return to_fixed_offset(value, time_zone)
    if isinstance(value, dt.date):
        return start_of_day(value, time_zone)
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, list | tuple):
        return [to_cel(item, time_zone, name=f"{name}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Mapping):
        converted_map: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueConversionError(f"The map `{name}` has a key that is not a string", name=name)
            converted_map[key] = to_cel(item, time_zone, name=f"{name}.{key}")
        return converted_map
    raise ValueConversionError(
        f"The value of `{name}` has type {type(value).__name__}, which CEL cannot represent", name=name
    )
