"""Moment getters/setters (``year()``, ``month(3)``, ``day()``, ``week()``, ``get``/``set``),
``diff`` with moment's month-anchored truncation, and the comparisons."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from digpy.dsl.expr.functions import arg
from digpy.dsl.expr.moment import core
from digpy.dsl.expr.moment.api import _other, method
from digpy.dsl.expr.moment.core import Moment, get_field, normalize_units, week_of_year
from digpy.dsl.expr.moment.fmt import MONTHS, WEEKDAYS
from digpy.dsl.expr.values import UNDEFINED, is_digits, to_float, to_string

Getter = Callable[[Moment], float]
Setter = Callable[[Moment, Any], None]


def _name_index(value: Any, names: list[str]) -> float | None:
    if type(value) is not str:
        return to_float(value)
    if is_digits(value.strip()):
        return float(value)
    lowered = value.lower()
    for i, name in enumerate(names):
        if lowered in (name.lower(), name[:3].lower(), name[:2].lower()):
            return float(i)
    return None


def _set_month(m: Moment, value: Any) -> None:
    month = _name_index(value, MONTHS)
    if month is not None:
        core.set_month(m, month)


def _set_day(m: Moment, value: Any) -> None:
    day = _name_index(value, WEEKDAYS)
    if day is not None and day == day:
        core.add(m, day - get_field(m, "day"), "day")


def _iso_weekday(m: Moment) -> float:
    return get_field(m, "day") or 7


def _set_iso_weekday(m: Moment, value: Any) -> None:
    wd = _name_index(value, WEEKDAYS)
    if wd is None or wd != wd:
        return
    wd = wd % 7 or 7 if type(value) is str else wd
    _set_day(m, wd if get_field(m, "day") % 7 else wd - 7)


def _day_of_year(m: Moment) -> float:
    return float(m.naive().timetuple().tm_yday)


def _quarter(m: Moment) -> float:
    return float(math.ceil((get_field(m, "month") + 1) / 3))


def _shift_days(getter: Getter, factor: int) -> Setter:
    def setter(m: Moment, value: Any) -> None:
        n = to_float(value)
        if n == n:
            core.add(m, (n - getter(m)) * factor, "day")

    return setter


def _field(unit: str) -> tuple[Getter, Setter]:
    return (lambda m: float(get_field(m, unit)),
            lambda m, v: core.set_field(m, unit, to_float(v)))


GETSET: dict[str, tuple[Getter, Setter]] = {
    "year": (lambda m: float(get_field(m, "year")), lambda m, v: core.set_year(m, to_float(v))),
    "month": (lambda m: float(get_field(m, "month")), _set_month),
    "date": _field("date"), "hour": _field("hour"), "minute": _field("minute"),
    "second": _field("second"), "millisecond": _field("millisecond"),
    "day": (lambda m: float(get_field(m, "day")), _set_day),
    "weekday": (lambda m: float(get_field(m, "day")), _set_day),
    "isoWeekday": (_iso_weekday, _set_iso_weekday),
    "dayOfYear": (_day_of_year, _shift_days(_day_of_year, 1)),
    "week": (lambda m: float(week_of_year(m, 0, 6)[0]), _shift_days(
        lambda m: float(week_of_year(m, 0, 6)[0]), 7)),
    "isoWeek": (lambda m: float(week_of_year(m, 1, 4)[0]), _shift_days(
        lambda m: float(week_of_year(m, 1, 4)[0]), 7)),
    "quarter": (_quarter, lambda m, v: core.set_month(
        m, (to_float(v) - 1) * 3 + get_field(m, "month") % 3)),
    "weekYear": (lambda m: float(week_of_year(m, 0, 6)[1]), lambda m, v: None),
    "isoWeekYear": (lambda m: float(week_of_year(m, 1, 4)[1]), lambda m, v: None),
}
_METHOD_NAMES = {"year": ("year", "years"), "month": ("month", "months"),
                 "date": ("date", "dates"), "hour": ("hour", "hours"),
                 "minute": ("minute", "minutes"), "second": ("second", "seconds"),
                 "millisecond": ("millisecond", "milliseconds"), "day": ("day", "days"),
                 "week": ("week", "weeks"), "isoWeek": ("isoWeek", "isoWeeks"),
                 "quarter": ("quarter", "quarters")}


def _get(m: Moment, unit: str) -> Any:
    return GETSET[unit][0](m) if m.valid else math.nan


def _set(m: Moment, unit: str, value: Any) -> None:
    if m.valid:
        GETSET[unit][1](m, value)


def _register(unit: str) -> None:
    @method(*_METHOD_NAMES.get(unit, (unit,)))
    def getset(realm: Any, m: Moment, args: list[Any]) -> Any:
        value = arg(args, 0)
        if value is UNDEFINED or value is None:
            return _get(m, unit)
        _set(m, unit, value)
        return m


for _unit in GETSET:
    _register(_unit)


@method("get")
def _get_unit(realm: Any, m: Moment, args: list[Any]) -> Any:
    unit = normalize_units(arg(args, 0))
    return _get(m, unit) if unit in GETSET else m


@method("set")
def _set_unit(realm: Any, m: Moment, args: list[Any]) -> Any:
    target = arg(args, 0)
    pairs = list(target.items()) if isinstance(target, Mapping) else [(target, arg(args, 1))]
    for key, value in pairs:
        unit = normalize_units(to_string(key))
        if unit in GETSET:
            _set(m, unit, value)
    return m


@method("daysInMonth")
def _days_in_month(realm: Any, m: Moment, args: list[Any]) -> Any:
    return core.days_in_month(get_field(m, "year"), get_field(m, "month")) if m.valid else math.nan


@method("isLeapYear")
def _is_leap_year(realm: Any, m: Moment, args: list[Any]) -> Any:
    return m.valid and core.is_leap(get_field(m, "year"))


@method("weeksInYear")
def _weeks_in_year(realm: Any, m: Moment, args: list[Any]) -> Any:
    return core.weeks_in_year(get_field(m, "year"), False) if m.valid else math.nan


@method("isoWeeksInYear")
def _iso_weeks_in_year(realm: Any, m: Moment, args: list[Any]) -> Any:
    return core.weeks_in_year(get_field(m, "year"), True) if m.valid else math.nan


# ------------------------------------------------------------------ diff


def _month_diff(a: Moment, b: Moment) -> float:
    whole = (get_field(b, "year") - get_field(a, "year")) * 12 + \
        (get_field(b, "month") - get_field(a, "month"))
    anchor = a.clone()
    core.add(anchor, whole, "month")
    assert anchor.ms is not None and b.ms is not None
    other = a.clone()
    if b.ms - anchor.ms < 0:
        core.add(other, whole - 1, "month")
        adjust = (b.ms - anchor.ms) / (anchor.ms - (other.ms or 0))
    else:
        core.add(other, whole + 1, "month")
        adjust = (b.ms - anchor.ms) / ((other.ms or 0) - anchor.ms)
    return -(whole + adjust) or 0.0


def _clone_with_offset(realm: Any, value: Any, model: Moment) -> Moment:
    that = _other(realm, value)
    if model.is_utc:
        res = model.clone()
        res.set_ms(that.ms)
        return res
    res = that.clone()
    res.is_utc, res.offset = False, 0
    res.set_ms(res.ms)
    return res


_DIVISORS = {"second": 1e3, "minute": 6e4, "hour": 36e5, "day": 864e5, "week": 6048e5}


@method("diff")
def _diff(realm: Any, m: Moment, args: list[Any]) -> Any:
    if not m.valid:
        return math.nan
    that = _clone_with_offset(realm, arg(args, 0), m)
    if not that.valid:
        return math.nan
    assert m.ms is not None and that.ms is not None
    unit = normalize_units(arg(args, 1))
    if unit in ("year", "month", "quarter"):
        output = _month_diff(m, that) / {"year": 12, "month": 1, "quarter": 3}[unit]
    elif unit in _DIVISORS:
        zone_delta = (that.utc_offset() - m.utc_offset()) * 6e4 if unit in ("day", "week") else 0
        output = (m.ms - that.ms - zone_delta) / _DIVISORS[unit]
    else:
        output = m.ms - that.ms
    if arg(args, 2) is True:
        return output
    return (math.ceil(output) or 0) if output < 0 else math.floor(output)


# ------------------------------------------------------------ comparisons


def _bounds(m: Moment, unit: str | None) -> tuple[int, int]:
    assert m.ms is not None
    if unit is None or unit == "millisecond":
        return m.ms, m.ms
    start, end = core.start_of(m.clone(), unit), core.end_of(m.clone(), unit)
    return start.ms or 0, end.ms or 0


def _compare(realm: Any, m: Moment, args: list[Any], test: Callable[[int, int, int], bool]) -> Any:
    other = _other(realm, arg(args, 0))
    if not (m.valid and other.valid):
        return False
    units = arg(args, 1)
    low, high = _bounds(m, normalize_units(units) if units is not UNDEFINED else None)
    return test(low, high, other.ms)  # type: ignore[arg-type]


@method("isBefore")
def _is_before(realm: Any, m: Moment, args: list[Any]) -> Any:
    return _compare(realm, m, args, lambda low, high, x: high < x)


@method("isAfter")
def _is_after(realm: Any, m: Moment, args: list[Any]) -> Any:
    return _compare(realm, m, args, lambda low, high, x: x < low)


@method("isSame")
def _is_same(realm: Any, m: Moment, args: list[Any]) -> Any:
    return _compare(realm, m, args, lambda low, high, x: low <= x <= high)


@method("isSameOrAfter")
def _is_same_or_after(realm: Any, m: Moment, args: list[Any]) -> Any:
    return _is_same(realm, m, args) or _is_after(realm, m, args)


@method("isSameOrBefore")
def _is_same_or_before(realm: Any, m: Moment, args: list[Any]) -> Any:
    return _is_same(realm, m, args) or _is_before(realm, m, args)


@method("isBetween")
def _is_between(realm: Any, m: Moment, args: list[Any]) -> Any:
    units, inclusivity = arg(args, 2), arg(args, 3)
    bounds = "()" if inclusivity is UNDEFINED else to_string(inclusivity)
    after = (_is_after if bounds[0] == "(" else _is_same_or_after)(realm, m, [args[0], units]) \
        if args else False
    before = (_is_before if bounds[1] == ")" else _is_same_or_before)(
        realm, m, [arg(args, 1), units])
    return bool(after and before)
