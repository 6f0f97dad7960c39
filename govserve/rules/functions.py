"""The platform functions analysts call from CEL, and the one rounding rule.

Each function is plain Python registered with the CEL library for one
evaluation context (it closes over the service's time zone and today's date).
The functions are as strict about types as CEL itself: they never convert
between int and double or treat null as zero, and they raise
:class:`FunctionArgumentError` with a message that names the function and the
types involved (never the values, which may be personal data and end up in
logs).

Names are chosen not to collide with CEL's own functions: the CEL library
always prefers its built-in (``size``, ``int``, ``string``, ``matches``...) and
calls a registered function of the same name only when no built-in overload
fits, so a platform ``size`` would be unreachable. The one overlap,
``contains``, is deliberate: ``"abc".contains("b")`` runs CEL's built-in,
``contains(list, x)`` and ``contains(map, key)`` run ours, and both agree on
strings.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, overload
from zoneinfo import ZoneInfo

from govserve.rules.values import INT64_MAX, INT64_MIN, cel_type_name, local_date, start_of_day


class _ExpectedFailureFilter(logging.Filter):
    """Drop the CEL library's warning for a platform function refusing its arguments.

    The library logs a warning (logger ``cel``) whenever a Python function
    raises; for FunctionArgumentError that is an expected outcome, reported as
    a typed error to the caller, and the log line would only be noise. Any
    other exception in a platform function is a bug and keeps its warning.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "FunctionArgumentError" not in record.getMessage()


logging.getLogger("cel").addFilter(_ExpectedFailureFilter())


class FunctionArgumentError(Exception):
    """A platform function was called with arguments it does not accept.

    Internal to the engine: evaluation turns it into an
    ExpressionEvaluationError with this message.
    """

    def __init__(self, message: str, *, kind: str = "invalid_argument") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


# The functions the platform adds to CEL.
CUSTOM_FUNCTIONS: frozenset[str] = frozenset(
    {
        "age",
        "today",
        "date",
        "days_between",
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "median",
        "round",
        "ceil",
        "floor",
        "round_half_up",
        "concat",
        "len",
        "upper",
        "lower",
        "contains",
    }
)

# CEL's own functions as the CEL library implements them (the macros has, all,
# exists, exists_one, map and filter are syntax and never appear as calls).
CEL_BUILTIN_FUNCTIONS: frozenset[str] = frozenset(
    {
        "size",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "timestamp",
        "duration",
        "dyn",
        "type",
        "matches",
        "startsWith",
        "endsWith",
        "contains",
        "getFullYear",
        "getMonth",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    }
)

# Every function name an expression may call.
PLATFORM_FUNCTIONS: frozenset[str] = CUSTOM_FUNCTIONS | CEL_BUILTIN_FUNCTIONS

# A working precision above the 309 integer digits of the largest double plus
# the 30 decimal places allowed, so quantize never fails for lack of digits.
_DECIMAL_CONTEXT = Context(prec=400, rounding=ROUND_HALF_UP)
_MAX_DIGITS = 30


@overload
def round_half_up(value: int, digits: int) -> int: ...
@overload
def round_half_up(value: float, digits: int) -> int | float: ...
@overload
def round_half_up(value: Decimal, digits: int) -> Decimal: ...
def round_half_up(value: int | float | Decimal, digits: int) -> int | float | Decimal:
    """Return ``value`` rounded to ``digits`` decimal places, ties away from zero.

    This is the platform's one rounding rule (Python's ``decimal.ROUND_HALF_UP``,
    commercial rounding): 2.5 -> 3, -2.5 -> -3, 2.675 to 2 places -> 2.68. It
    works on the decimal value exactly: a double is taken as the shortest
    decimal that reads back as the same double (``repr``), which is the number
    as written, so 2.675 rounds to 2.68 although the nearest binary double is
    2.67499999... Negative ``digits`` round to tens, hundreds...

    Result type: an int stays an int (unchanged when ``digits >= 0``); a double
    gives an int when ``digits <= 0`` (a whole amount, e.g. pence) and a double
    otherwise; a Decimal gives a Decimal. Raise TypeError for other types or a
    non-int ``digits``, ValueError for NaN or infinity or |digits| > 30.
    """
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise TypeError(f"round_half_up() needs an int number of digits, got {cel_type_name(digits)}")
    if abs(digits) > _MAX_DIGITS:
        raise ValueError(f"round_half_up() supports digits from -{_MAX_DIGITS} to {_MAX_DIGITS}")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"round_half_up() needs an int or a double, got {cel_type_name(value)}")
    if isinstance(value, int):
        if digits >= 0:
            return value
        exact = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("round_half_up() needs a finite number")
        exact = Decimal(repr(value))
    else:
        if not value.is_finite():
            raise ValueError("round_half_up() needs a finite number")
        exact = value
    rounded = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_DECIMAL_CONTEXT)
    if isinstance(value, Decimal):
        return rounded
    if isinstance(value, int) or digits <= 0:
        return int(rounded)
    return float(rounded)


def _checked_int(value: int, function: str) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise FunctionArgumentError(f"{function}() gives a result outside the 64-bit integer range", kind="overflow")
    return value


def _require(value: object, expected: type | tuple[type, ...], function: str, what: str) -> None:
    """Raise FunctionArgumentError unless ``value`` is of ``expected`` type (bool is never a number)."""
    if value is None:
        raise FunctionArgumentError(
            f"{function}() needs {what}, but got null (an unanswered field?): check it first, "
            f"e.g. `x != null && {function}(x) ...`",
            kind="null_value",
        )
    if isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,)):
        raise FunctionArgumentError(f"{function}() needs {what}, got bool", kind="type_mismatch")
    if not isinstance(value, expected):
        raise FunctionArgumentError(f"{function}() needs {what}, got {cel_type_name(value)}", kind="type_mismatch")


def _items(function: str, arguments: tuple[Any, ...], *, allow_varargs: bool) -> Sequence[Any]:
    """Return the items an aggregate works on: one list argument, or (``allow_varargs``) 2+ scalars."""
    if len(arguments) == 1:
        (single,) = arguments
        _require(single, list, function, "a list")
        items: Sequence[Any] = single
    elif allow_varargs and len(arguments) >= 2:
        items = arguments
    else:
        usage = "a list, or two or more values" if allow_varargs else "one list"
        raise FunctionArgumentError(f"{function}() takes {usage}, got {len(arguments)} arguments")
    for position, item in enumerate(items, start=1):
        if item is None:
            raise FunctionArgumentError(
                f"{function}() got null at position {position} (an unanswered field?): "
                "filter it out first, e.g. `.filter(c, c.x != null)`",
                kind="null_value",
            )
    return items


def _homogeneous(function: str, items: Sequence[Any], allowed: tuple[str, ...]) -> str:
    """Return the one CEL type name of ``items``; raise unless all share one type among ``allowed``."""
    names = {cel_type_name(item) for item in items}
    if names == {"int", "double"}:
        raise FunctionArgumentError(
            f"{function}() mixes int and double: convert with double(...) or int(...)", kind="type_mismatch"
        )
    if len(names) > 1:
        raise FunctionArgumentError(
            f"{function}() needs values of one type, got {' and '.join(sorted(names))}", kind="type_mismatch"
        )
    (name,) = names
    if name not in allowed:
        raise FunctionArgumentError(
            f"{function}() needs {' or '.join(allowed)} values, got {name}", kind="type_mismatch"
        )
    return name


def _nonempty(function: str, items: Sequence[Any]) -> None:
    if not items:
        raise FunctionArgumentError(f"{function}() of an empty list has no value", kind="invalid_argument")


def cel_sum(*arguments: Any) -> int | float:
    """``sum(list)`` or ``sum(a, b, ...)``: int for ints (0 for an empty list), double for doubles."""
    items = _items("sum", arguments, allow_varargs=True)
    if not items:
        return 0
    if _homogeneous("sum", items, ("int", "double")) == "int":
        return _checked_int(sum(items), "sum")
    return float(sum(items))


def _extreme(function: str, pick: Callable[[Sequence[Any]], Any], arguments: tuple[Any, ...]) -> Any:
    items = _items(function, arguments, allow_varargs=True)
    _nonempty(function, items)
    _homogeneous(function, items, ("int", "double", "string", "timestamp", "duration"))
    return pick(items)


def cel_min(*arguments: Any) -> Any:
    """``min(list)`` or ``min(a, b, ...)``: the smallest of ints, doubles, strings, timestamps or durations."""
    return _extreme("min", min, arguments)


def cel_max(*arguments: Any) -> Any:
    """``max(list)`` or ``max(a, b, ...)``: the largest of ints, doubles, strings, timestamps or durations."""
    return _extreme("max", max, arguments)


def cel_avg(*arguments: Any) -> float:
    """``avg(list)``: the mean as a double (also for ints: avg([1, 2]) == 1.5)."""
    items = _items("avg", arguments, allow_varargs=False)
    _nonempty("avg", items)
    _homogeneous("avg", items, ("int", "double"))
    # int / int in Python is correctly rounded, so an int mean is exact to the last bit.
    return float(sum(items) / len(items))


def cel_median(*arguments: Any) -> float:
    """``median(list)``: the middle value (mean of the two middle ones for an even count), as a double."""
    items = _items("median", arguments, allow_varargs=False)
    _nonempty("median", items)
    _homogeneous("median", items, ("int", "double"))
    ordered = sorted(items)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float((ordered[middle - 1] + ordered[middle]) / 2)


def cel_count(items: Any) -> int:
    """``count(list)``: the number of items (use ``filter`` to count the matching ones)."""
    _require(items, list, "count", "a list")
    return len(items)


def _number_argument(function: str, value: object) -> int | float:
    _require(value, (int, float), function, "an int or a double")
    if not isinstance(value, int | float):  # pragma: no cover - _require raised already; narrows the type
        raise AssertionError
    if isinstance(value, float) and not math.isfinite(value):
        raise FunctionArgumentError(f"{function}() needs a finite number", kind="invalid_argument")
    return value


def cel_round(value: Any) -> int:
    """``round(x)``: to the nearest int, ties away from zero (``round_half_up(x, 0)``)."""
    return _checked_int(int(round_half_up(_number_argument("round", value), 0)), "round")


def cel_round_half_up(value: Any, digits: Any) -> int | float:
    """``round_half_up(x, digits)``: see :func:`round_half_up`."""
    number = _number_argument("round_half_up", value)
    _require(digits, int, "round_half_up", "an int number of digits as its second argument")
    try:
        rounded = round_half_up(number, digits)
    except ValueError as error:
        raise FunctionArgumentError(str(error)) from error
    if isinstance(rounded, int):
        return _checked_int(rounded, "round_half_up")
    return rounded


def cel_ceil(value: Any) -> int:
    """``ceil(x)``: the smallest int not below x."""
    return _checked_int(math.ceil(_number_argument("ceil", value)), "ceil")


def cel_floor(value: Any) -> int:
    """``floor(x)``: the largest int not above x."""
    return _checked_int(math.floor(_number_argument("floor", value)), "floor")


def cel_concat(*arguments: Any) -> str | list[Any]:
    """``concat(a, b, ...)``: join strings, or join lists; no conversion (use ``string(x)``)."""
    for position, argument in enumerate(arguments, start=1):
        if argument is None:
            raise FunctionArgumentError(
                f"concat() got null as argument {position} (an unanswered field?)", kind="null_value"
            )
    names = {cel_type_name(argument) for argument in arguments}
    if names == {"string"}:
        return "".join(arguments)
    if names == {"list"}:
        return [item for argument in arguments for item in argument]
    raise FunctionArgumentError(
        f"concat() joins strings or lists, got {' and '.join(sorted(names))}: convert with string(...)",
        kind="type_mismatch",
    )


def cel_len(value: Any) -> int:
    """``len(x)``: characters of a string (code points), items of a list, keys of a map, bytes of bytes."""
    _require(value, (str, list, dict, bytes), "len", "a string, list, map or bytes")
    return len(value)


def cel_upper(value: Any) -> str:
    """``upper(s)``: the string in upper case (Unicode rules: "ß" becomes "SS")."""
    _require(value, str, "upper", "a string")
    return str(value).upper()


def cel_lower(value: Any) -> str:
    """``lower(s)``: the string in lower case (Unicode rules)."""
    _require(value, str, "lower", "a string")
    return str(value).lower()


def _cel_equal(left: object, right: object) -> bool:
    # Python's == says True == 1; CEL keeps bool and int apart.
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return left == right


def cel_contains(container: Any, item: Any) -> bool:
    """``contains(s, sub)``, ``contains(list, x)``, ``contains(map, key)``."""
    _require(container, (str, list, dict), "contains", "a string, list or map as its first argument")
    if isinstance(container, str):
        _require(item, str, "contains", "a string to look for in a string")
        return item in container
    if isinstance(container, dict):
        return any(_cel_equal(key, item) for key in container)
    return any(_cel_equal(element, item) for element in container)


class FunctionState:
    """Per-context slot for the exception the last platform function raised.

    The CEL library reports a failing Python function only as a RuntimeError
    with the message text; keeping the original exception lets evaluation
    tell our argument errors (tidy messages) from bugs (re-raised as they are).
    """

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: BaseException | None = None


def _guarded(
    name: str, function: Callable[..., Any], arity: tuple[int, int | None, str], state: FunctionState
) -> Callable[..., Any]:
    fewest, most, usage = arity

    def call(*arguments: Any) -> Any:
        if len(arguments) < fewest or (most is not None and len(arguments) > most):
            state.error = FunctionArgumentError(f"{name}() takes {usage}, got {len(arguments)} arguments")
            raise state.error
        try:
            return function(*arguments)
        except BaseException as error:
            state.error = error
            raise

    call.__name__ = name
    return call


# name -> (fewest arguments, most arguments or None, how to call it)
_ARITY: Mapping[str, tuple[int, int | None, str]] = {
    "age": (1, 1, "one date"),
    "today": (0, 0, "no arguments"),
    "date": (3, 3, "a year, a month and a day"),
    "days_between": (2, 2, "two dates"),
    "sum": (1, None, "a list, or two or more numbers"),
    "min": (1, None, "a list, or two or more values"),
    "max": (1, None, "a list, or two or more values"),
    "avg": (1, 1, "one list"),
    "count": (1, 1, "one list"),
    "median": (1, 1, "one list"),
    "round": (1, 1, "one number"),
    "ceil": (1, 1, "one number"),
    "floor": (1, 1, "one number"),
    "round_half_up": (2, 2, "a number and a number of digits"),
    "concat": (1, None, "one or more strings, or one or more lists"),
    "len": (1, 1, "one string, list or map"),
    "upper": (1, 1, "one string"),
    "lower": (1, 1, "one string"),
    "contains": (2, 2, "a string, list or map and the value to look for"),
}


def make_functions(time_zone: ZoneInfo, today: dt.date, state: FunctionState) -> dict[str, Callable[..., Any]]:
    """Return the platform functions for one evaluation context, keyed by CEL name."""
    today_start = start_of_day(today, time_zone)

    def cel_today() -> dt.datetime:
        return today_start

    def _date_argument(function: str, value: Any) -> dt.date:
        _require(value, dt.datetime, function, "a date")
        return local_date(value, time_zone)

    def cel_age(value: Any) -> int:
        # The exact-type test first: age() sits in hot conditions.
        born = value.astimezone(time_zone).date() if type(value) is dt.datetime else _date_argument("age", value)
        # A birthday not yet reached this year does not count; someone born on
        # 29 February turns a year older on 1 March in common years.
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def cel_date(year: Any, month: Any, day: Any) -> dt.datetime:
        for argument in (year, month, day):
            _require(argument, int, "date", "an int year, month and day")
        try:
            calendar_day = dt.date(year, month, day)
        except (ValueError, OverflowError) as error:
            raise FunctionArgumentError(f"date() has no such day: {error}") from error
        return start_of_day(calendar_day, time_zone)

    def cel_days_between(start: Any, end: Any) -> int:
        return (_date_argument("days_between", end) - _date_argument("days_between", start)).days

    functions: Mapping[str, Callable[..., Any]] = {
        "age": cel_age,
        "today": cel_today,
        "date": cel_date,
        "days_between": cel_days_between,
        "sum": cel_sum,
        "min": cel_min,
        "max": cel_max,
        "avg": cel_avg,
        "count": cel_count,
        "median": cel_median,
        "round": cel_round,
        "ceil": cel_ceil,
        "floor": cel_floor,
        "round_half_up": cel_round_half_up,
        "concat": cel_concat,
        "len": cel_len,
        "upper": cel_upper,
        "lower": cel_lower,
        "contains": cel_contains,
    }
    return {name: _guarded(name, function, _ARITY[name], state) for name, function in functions.items()}
