"""A small ``Date``: ``new Date()``, ``new Date(ms | string | y, m, d, ...)``, ``Date.now()``,
``Date.UTC``, ``Date.parse`` and the getters, in the workflow zone (the JS local zone)."""

from __future__ import annotations

import math
import re
from datetime import timedelta, tzinfo
from typing import Any

from digpy.dsl.expr.functions import NativeFunction, arg
from digpy.dsl.expr.moment.core import (
    EPOCH,
    Moment,
    make_naive,
    ms_to_naive,
    naive_to_ms,
    time_clip,
    zone_offset_minutes,
)
from digpy.dsl.expr.moment.fmt import format_moment, to_iso_string
from digpy.dsl.expr.moment.parse import fields_to_ms, parse_iso
from digpy.dsl.expr.values import (
    UNDEFINED,
    JsObject,
    range_error,
    to_float,
    to_primitive,
    to_string,
    type_error,
)

_DATE_ONLY = re.compile(r"^[+-]?\d{4,6}(-\d\d(-\d\d)?)?$")


class JsDate(JsObject):
    __slots__ = ("ms", "tz")
    js_class = "Date"

    def __init__(self, ms: int | None, tz: tzinfo) -> None:
        self.ms = ms
        self.tz = tz

    def get(self, key: str) -> Any:
        return DATE_METHODS.get(key, UNDEFINED)

    def to_num(self) -> float:
        return math.nan if self.ms is None else self.ms

    def to_str(self) -> str:
        if self.ms is None:
            return "Invalid Date"
        name = ms_to_naive_aware_name(self.ms, self.tz)
        text = format_moment(Moment(self.ms, self.tz), "ddd MMM DD YYYY HH:mm:ss [GMT]ZZ")
        return f"{text} ({name})"

    def to_json(self) -> Any:
        return None if self.ms is None else to_iso_string(Moment(self.ms, self.tz))


def ms_to_naive_aware_name(ms: int, tz: tzinfo) -> str:
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(tz).tzname() or "UTC"


def parse_date(realm: Any, text: str) -> int | None:
    """Date.parse: ISO date-only forms are UTC, date-times without an offset are local."""
    iso = parse_iso(text)
    if iso is None:
        from digpy.dsl.expr.moment.factory import instant_of

        return instant_of(realm, text)
    fields, offset = iso
    if offset is None and _DATE_ONLY.match(text.strip()):
        offset = 0
    def today() -> list[Any]:
        n = ms_to_naive(realm.now_ms(), realm.tz)
        return [n.year, n.month - 1, n.day]

    return fields_to_ms(fields, offset, realm.tz, today)


def _fields_ms(args: list[Any], tz: tzinfo | None) -> int | None:
    """MakeDate from (year, month[, day, h, m, s, ms]); years 0-99 mean 1900-1999."""
    values = [to_float(a) for a in args[:7]]
    if not values or any(v != v or math.isinf(v) for v in values):
        return None
    year = math.trunc(values[0])
    year = 1900 + year if 0 <= year <= 99 else year
    rest = values[1:] + [0.0, 1.0, 0.0, 0.0, 0.0, 0.0][len(values) - 1:]
    try:
        return time_clip(naive_to_ms(make_naive(year, *rest), tz))
    except (OverflowError, ValueError):
        return None


def _construct(realm: Any, this: Any, args: list[Any]) -> Any:
    if not args:
        return JsDate(realm.now_ms(), realm.tz)
    if len(args) == 1:
        value = args[0]
        if isinstance(value, JsDate):
            return JsDate(value.ms, realm.tz)
        prim = to_primitive(value)
        if type(prim) is str:
            return JsDate(parse_date(realm, prim), realm.tz)
        return JsDate(time_clip(to_float(prim)), realm.tz)
    return JsDate(_fields_ms(args, realm.tz), realm.tz)


def _this_date(this: Any, name: str) -> JsDate:
    if not isinstance(this, JsDate):
        raise type_error(f"Date.prototype.{name} called on a non-Date")
    return this


def _getter(name: str, utc: bool, pick: Any) -> NativeFunction:
    def impl(realm: Any, this: Any, args: list[Any]) -> Any:
        d = _this_date(this, name)
        if d.ms is None:
            return math.nan
        return pick(ms_to_naive(d.ms, None if utc else d.tz))

    return NativeFunction(name, impl)


_PICKS = {
    "FullYear": lambda n: n.year, "Month": lambda n: n.month - 1, "Date": lambda n: n.day,
    "Day": lambda n: (n.weekday() + 1) % 7, "Hours": lambda n: n.hour,
    "Minutes": lambda n: n.minute, "Seconds": lambda n: n.second,
    "Milliseconds": lambda n: n.microsecond // 1000,
}


def _iso(realm: Any, this: Any, args: list[Any]) -> Any:
    d = _this_date(this, "toISOString")
    if d.ms is None:
        raise range_error("Invalid time value")
    return to_iso_string(Moment(d.ms, d.tz))


def _offset(realm: Any, this: Any, args: list[Any]) -> Any:
    d = _this_date(this, "getTimezoneOffset")
    return math.nan if d.ms is None else -zone_offset_minutes(d.ms, d.tz)


DATE_METHODS: dict[str, Any] = {
    **{f"get{k}": _getter(f"get{k}", False, f) for k, f in _PICKS.items()},
    **{f"getUTC{k}": _getter(f"getUTC{k}", True, f) for k, f in _PICKS.items()},
    "getTime": NativeFunction("getTime", lambda r, t, a: _this_date(t, "getTime").to_num()),
    "valueOf": NativeFunction("valueOf", lambda r, t, a: _this_date(t, "valueOf").to_num()),
    "getTimezoneOffset": NativeFunction("getTimezoneOffset", _offset),
    "toISOString": NativeFunction("toISOString", _iso),
    "toJSON": NativeFunction("toJSON", lambda r, t, a: _this_date(t, "toJSON").to_json()),
    "toString": NativeFunction("toString", lambda r, t, a: _this_date(t, "toString").to_str()),
}

DATE = NativeFunction(
    "Date", lambda realm, this, args: JsDate(realm.now_ms(), realm.tz).to_str(),
    construct=_construct,
    props={
        "now": NativeFunction("now", lambda realm, this, args: realm.now_ms()),
        "UTC": NativeFunction("UTC", lambda realm, this, args: _utc_or_nan(args)),
        "parse": NativeFunction("parse", lambda realm, this, args: _parse_or_nan(
            realm, arg(args, 0))),
    },
)


def _utc_or_nan(args: list[Any]) -> Any:
    ms = _fields_ms(list(args) or [math.nan], None)
    return math.nan if ms is None else ms


def _parse_or_nan(realm: Any, value: Any) -> Any:
    ms = parse_date(realm, to_string(value))
    return math.nan if ms is None else ms
