"""``moment(...)``, ``moment.utc(...)``, ``moment.unix(...)`` and friends: building a moment
from whatever the expression passes, in the workflow zone."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import tzinfo
from functools import lru_cache
from typing import Any

from digpy.dsl.expr.functions import JsFunction, NativeFunction, arg
from digpy.dsl.expr.moment.core import Moment, ms_to_naive, normalize_units, time_clip
from digpy.dsl.expr.moment.parse import (
    fields_to_ms,
    offset_from_string,
    parse_iso,
    parse_rfc2822,
    parse_with_format,
)
from digpy.dsl.expr.values import UNDEFINED, JsObject, is_array, to_float, to_number, to_string

ISO_8601 = NativeFunction("ISO_8601", lambda realm, this, args: UNDEFINED)
_SLASH_DATE = re.compile(r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d\d)(?::(\d\d))?)?\s*$")
_FIELD_ORDER = ("year", "month", "date", "hour", "minute", "second", "millisecond")


def _now_fields(realm: Any, utc: bool) -> list[Any]:
    n = ms_to_naive(realm.now_ms(), None if utc else realm.tz)
    return [n.year, n.month - 1, n.day]


def _from_fields(realm: Any, fields: list[Any], offset: int | None, utc: bool) -> int | None:
    if utc and offset is None:
        offset = 0
    return fields_to_ms(fields, offset, realm.tz, lambda: _now_fields(realm, utc))


def _from_string(realm: Any, text: str, utc: bool) -> int | None:
    return _string_instant(text, realm.tz, utc)


@lru_cache(maxsize=1024)
def _string_instant(text: str, tz: tzinfo, utc: bool) -> int | None:
    """Every form accepted here carries its year, so the result never depends on 'now' and
    can be cached (session_time is parsed by most expressions of a run)."""
    found = parse_iso(text) or parse_rfc2822(text) or _date_fallback(text)
    if found is None:
        return None
    fields, offset = found
    if utc and offset is None:
        offset = 0
    return fields_to_ms(fields, offset, tz, lambda: [1970, 0, 1])


def _date_fallback(text: str) -> tuple[list[Any], int | None] | None:
    """What ``new Date(string)`` accepts beyond ISO: ``2016/01/30 [10:00[:00]]`` (local)."""
    m = _SLASH_DATE.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return [y, mo - 1, d, h, mi, s, 0], None


def _from_format(realm: Any, text: str, fmt: Any, strict: bool, utc: bool) -> int | None:
    if fmt is ISO_8601:
        return _from_string(realm, text, utc) if parse_iso(text) else None
    if is_array(fmt):
        for candidate in fmt:
            ms = _from_format(realm, text, candidate, strict, utc)
            if ms is not None:
                return ms
        return None
    parsed = parse_with_format(text, to_string(fmt), strict)
    if parsed.bad or not parsed.matched_any:
        return None
    if parsed.ms is not None:
        return time_clip(parsed.ms)
    fields = parsed.fields
    if parsed.day_of_year is not None:
        year = fields[0] if fields[0] is not None else _now_fields(realm, utc)[0]
        fields = [year, 0, parsed.day_of_year, *fields[3:]]
    return _from_fields(realm, fields, parsed.offset, utc)


def _whole(value: Any) -> int | None:
    n = to_float(value)
    return None if n != n or n in (math.inf, -math.inf) else int(n)


def _from_object(realm: Any, obj: Mapping[Any, Any], utc: bool) -> int | None:
    fields: list[Any] = [None] * 7
    for key, value in obj.items():
        unit = normalize_units(str(key))
        unit = "date" if unit == "day" else unit
        if unit in _FIELD_ORDER:
            fields[_FIELD_ORDER.index(unit)] = _whole(value)
            if fields[_FIELD_ORDER.index(unit)] is None:
                return None
    return _from_fields(realm, fields, None, utc)


def instant_of(realm: Any, value: Any, fmt: Any = UNDEFINED, strict: bool = False,
               utc: bool = False) -> int | None:
    """Epoch ms for ``moment(value[, fmt[, strict]])``; None when moment would be invalid."""
    if isinstance(value, Moment):
        return value.ms
    if isinstance(value, JsObject) and getattr(value, "js_class", "") == "Date":
        return time_clip(value.to_num())
    t = type(value)
    if t in (int, float):
        return time_clip(float(value))
    if t is str:
        if fmt is not UNDEFINED and fmt is not None:
            return _from_format(realm, value, fmt, strict, utc)
        return _from_string(realm, value, utc)
    if is_array(value):
        if not value:
            return realm.now_ms()
        fields = [_whole(v) for v in value]
        return None if None in fields else _from_fields(realm, fields, None, utc)
    if isinstance(value, Mapping):
        return _from_object(realm, value, utc)
    return None


def create(realm: Any, args: list[Any], utc: bool = False) -> Moment:
    value = arg(args, 0)
    if value is UNDEFINED:
        return Moment(realm.now_ms(), realm.tz, utc)
    strict = arg(args, 2) is True or arg(args, 3) is True
    m = Moment(instant_of(realm, value, arg(args, 1), strict, utc), realm.tz, utc)
    if isinstance(value, Moment) and not utc:
        m.is_utc, m.offset = value.is_utc, value.offset
    return m


def _parse_zone(realm: Any, this: Any, args: list[Any]) -> Any:
    value = arg(args, 0)
    iso = parse_iso(value) if type(value) is str else None
    offset = iso[1] if iso is not None else None
    if iso is None or offset is None:
        return create(realm, args, utc=True)
    fields = iso[0]
    return Moment(_from_fields(realm, fields, offset, False), realm.tz, True, offset)


def _unix(realm: Any, this: Any, args: list[Any]) -> Any:
    return Moment(time_clip(to_float(arg(args, 0)) * 1000), realm.tz)


def _pick(realm: Any, args: list[Any], later: bool) -> Any:
    items = list(args[0]) if len(args) == 1 and is_array(args[0]) else list(args)
    if not items:
        return create(realm, [])
    best = items[0]
    for m in items[1:]:
        if isinstance(m, Moment) and m.valid and isinstance(best, Moment) and best.ms is not None \
                and ((m.ms > best.ms) if later else (m.ms < best.ms)):  # type: ignore[operator]
            best = m
    return best


def _offset_minutes(value: Any) -> int | None:
    if type(value) is str:
        found = re.search(r"Z|[+-]\d\d(?::?\d\d)?", value, re.IGNORECASE)
        return offset_from_string(found.group(0)) if found else None
    n = to_number(value)
    if n != n:
        return None
    return int(n * 60) if abs(n) < 16 else int(n)


def _moment_function(realm: Any, this: Any, args: list[Any]) -> Any:
    return create(realm, args)


MOMENT = NativeFunction("moment", _moment_function, props={
    "utc": NativeFunction("utc", lambda realm, this, args: create(realm, args, utc=True)),
    "unix": NativeFunction("unix", _unix),
    "parseZone": NativeFunction("parseZone", _parse_zone),
    "isMoment": NativeFunction("isMoment", lambda r, t, a: isinstance(arg(a, 0), Moment)),
    "isDate": NativeFunction("isDate", lambda r, t, a: isinstance(arg(a, 0), JsObject)
                             and getattr(arg(a, 0), "js_class", "") == "Date"),
    "min": NativeFunction("min", lambda realm, this, args: _pick(realm, args, False)),
    "max": NativeFunction("max", lambda realm, this, args: _pick(realm, args, True)),
    "now": NativeFunction("now", lambda realm, this, args: realm.now_ms()),
    "invalid": NativeFunction("invalid", lambda realm, this, args: Moment(None, realm.tz)),
    "locale": NativeFunction("locale", lambda r, t, a: "en"),
    "version": "2.21.0",
    "ISO_8601": ISO_8601,
})

__all__ = ["ISO_8601", "MOMENT", "JsFunction", "create", "instant_of"]
