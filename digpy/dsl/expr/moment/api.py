"""The methods a moment answers (``format``, ``add``, ``startOf``, ``diff``, getters/setters,
...), with moment 2.21's argument handling."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from digpy.dsl.expr.functions import NativeFunction, arg
from digpy.dsl.expr.moment import core
from digpy.dsl.expr.moment.core import Moment, get_field, normalize_units
from digpy.dsl.expr.moment.factory import _offset_minutes, create
from digpy.dsl.expr.moment.fmt import format_moment, to_iso_string
from digpy.dsl.expr.values import UNDEFINED, to_float, to_number, to_string, type_error

MOMENT_METHODS: dict[str, Any] = {}
Impl = Callable[[Any, Moment, list[Any]], Any]


def this_moment(this: Any, name: str) -> Moment:
    if not isinstance(this, Moment):
        raise type_error(f"moment.fn.{name} called on a non-moment")
    return this


def _bind(name: str, impl: Impl) -> NativeFunction:
    def call(realm: Any, this: Any, args: list[Any]) -> Any:
        return impl(realm, this_moment(this, name), args)

    return NativeFunction(name, call)


def method(*names: str) -> Callable[[Impl], Impl]:
    def wrap(impl: Impl) -> Impl:
        for name in names:
            MOMENT_METHODS[name] = _bind(name, impl)
        return impl

    return wrap


def _other(realm: Any, value: Any) -> Moment:
    return value if isinstance(value, Moment) else create(realm, [value])


# ------------------------------------------------------------ output


@method("format")
def _format(realm: Any, m: Moment, args: list[Any]) -> Any:
    fmt = arg(args, 0)
    return format_moment(m, to_string(fmt) if fmt not in (UNDEFINED, None, "") else None)


@method("toISOString")
def _to_iso(realm: Any, m: Moment, args: list[Any]) -> Any:
    return to_iso_string(m) if m.valid else None


MOMENT_METHODS["toJSON"] = MOMENT_METHODS["toISOString"]


@method("toString")
def _to_string(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.to_str()


@method("valueOf")
def _value_of(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.to_num()


@method("unix")
def _unix(realm: Any, m: Moment, args: list[Any]) -> Any:
    return math.nan if m.ms is None else m.ms // 1000


@method("toArray")
def _to_array(realm: Any, m: Moment, args: list[Any]) -> Any:
    if not m.valid:
        return [math.nan] * 7
    return [get_field(m, u) for u in ("year", "month", "date", "hour", "minute", "second",
                                       "millisecond")]


@method("toObject")
def _to_object(realm: Any, m: Moment, args: list[Any]) -> Any:
    keys = ("years", "months", "date", "hours", "minutes", "seconds", "milliseconds")
    return dict(zip(keys, _to_array(realm, m, args), strict=True))


@method("toDate")
def _to_date(realm: Any, m: Moment, args: list[Any]) -> Any:
    from digpy.dsl.expr.date import JsDate

    return JsDate(m.ms, realm.tz)


@method("isValid")
def _is_valid(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.valid


@method("clone")
def _clone(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.clone()


@method("locale", "lang")
def _locale(realm: Any, m: Moment, args: list[Any]) -> Any:
    return "en" if not args else m


@method("zoneAbbr", "zoneName")
def _zone_abbr(realm: Any, m: Moment, args: list[Any]) -> Any:
    return "UTC" if m.is_utc else ""


# ------------------------------------------------------------ modes


def set_offset(m: Moment, minutes: int, keep_local: bool) -> None:
    wall = m.naive() if m.valid else None
    m.is_utc, m.offset = True, minutes
    m.set_ms(m.ms)
    if keep_local and wall is not None:
        m.set_naive(lambda: wall)


@method("utcOffset")
def _utc_offset(realm: Any, m: Moment, args: list[Any]) -> Any:
    value = arg(args, 0)
    if value is UNDEFINED or value is None:
        return m.utc_offset() if m.valid else math.nan
    minutes = _offset_minutes(value)
    if minutes is not None and m.valid:
        set_offset(m, minutes, arg(args, 1) is True)
    return m


@method("utc")
def _utc(realm: Any, m: Moment, args: list[Any]) -> Any:
    set_offset(m, 0, arg(args, 0) is True)
    return m


@method("local")
def _local(realm: Any, m: Moment, args: list[Any]) -> Any:
    wall = m.naive() if m.valid else None
    m.is_utc, m.offset = False, 0
    m.set_ms(m.ms)
    if arg(args, 0) is True and wall is not None:
        m.set_naive(lambda: wall)
    return m


@method("isUtc", "isUTC")
def _is_utc(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.is_utc and m.offset == 0


@method("isLocal")
def _is_local(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.valid and not m.is_utc


@method("isUtcOffset")
def _is_utc_offset(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.valid and m.is_utc


@method("isDST")
def _is_dst(realm: Any, m: Moment, args: list[Any]) -> Any:
    if not m.valid:
        return False
    jan, jun = m.clone(), m.clone()
    core.set_month(jan, 0)
    core.set_month(jun, 5)
    return m.utc_offset() > jan.utc_offset() or m.utc_offset() > jun.utc_offset()


# ------------------------------------------------------------ arithmetic


def _add_args(args: list[Any]) -> tuple[Any, Any]:
    value, period = arg(args, 0), arg(args, 1)
    if type(period) is str and normalize_units(period) is not None:
        return value, period
    if period is not None and period is not UNDEFINED and to_number(period) == to_number(period):
        value, period = period, value  # moment still accepts the deprecated (unit, amount)
    return value, period


def _apply_add(m: Moment, args: list[Any], sign: int) -> Moment:
    value, period = _add_args(args)
    if isinstance(value, Mapping):
        for key, amount in value.items():
            core.add(m, to_float(amount), normalize_units(str(key)), sign)
        return m
    amount = to_float(value) if type(value) is str else value
    if type(amount) in (int, float):
        unit = normalize_units(period) if period is not UNDEFINED else None
        if period is not UNDEFINED and unit is None:
            return m
        core.add(m, amount, unit, sign)
    return m


@method("add")
def _add(realm: Any, m: Moment, args: list[Any]) -> Any:
    return _apply_add(m, args, 1)


@method("subtract")
def _subtract(realm: Any, m: Moment, args: list[Any]) -> Any:
    return _apply_add(m, args, -1)


@method("startOf")
def _start_of(realm: Any, m: Moment, args: list[Any]) -> Any:
    return core.start_of(m, normalize_units(arg(args, 0)))


@method("endOf")
def _end_of(realm: Any, m: Moment, args: list[Any]) -> Any:
    return core.end_of(m, normalize_units(arg(args, 0)))


# Getters, setters, diff and comparisons register themselves into MOMENT_METHODS.
from digpy.dsl.expr.moment import queries  # noqa: E402

__all__ = ["MOMENT_METHODS", "queries"]
