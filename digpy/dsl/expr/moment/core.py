"""moment 2.21 objects: an instant in milliseconds plus a display mode (the workflow zone,
UTC, or a fixed offset), and the field arithmetic JavaScript's Date does underneath.

Local wall times map to instants the way ECMAScript does: a wall time that occurs twice
takes the earlier instant, one skipped by a DST gap is read with the offset before the gap
(02:30 becomes 03:30). ``zoneinfo`` with ``fold=0`` does exactly that.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from digpy.dsl.expr.values import UNDEFINED, JsObject

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_NAIVE = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)
MAX_MS = 8_640_000_000_000_000

# moment's normalizeUnits: unit, plural and shorthand (case-sensitive first, then lowercased).
_UNITS = [("year", "y"), ("quarter", "Q"), ("month", "M"), ("week", "w"), ("isoWeek", "W"),
          ("day", "d"), ("date", "D"), ("hour", "h"), ("minute", "m"), ("second", "s"),
          ("millisecond", "ms"), ("dayOfYear", "DDD"), ("weekday", "e"), ("isoWeekday", "E"),
          ("weekYear", "gg"), ("isoWeekYear", "GG")]
ALIASES: dict[str, str] = {}
for _unit, _short in _UNITS:
    ALIASES[_unit.lower()] = ALIASES[_unit.lower() + "s"] = ALIASES[_short] = _unit


def normalize_units(units: Any) -> str | None:
    if type(units) is not str:
        return None
    return ALIASES.get(units) or ALIASES.get(units.lower())


def js_round(x: float) -> float:
    return float(math.floor(x + 0.5))


def abs_round(x: float) -> int:
    return -int(js_round(-x)) if x < 0 else int(js_round(x))


def is_leap(year: int) -> bool:
    return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0


def days_in_month(year: int, month0: int) -> int:
    mod = month0 % 12
    year += (month0 - mod) // 12
    return (29 if is_leap(year) else 28) if mod == 1 else 31 - mod % 7 % 2


def make_naive(y: float, mo: float, d: float, h: float = 0, mi: float = 0, s: float = 0,
               ms: float = 0) -> datetime:
    """Date's MakeDay/MakeTime: out-of-range fields roll over (month 12 is next January).
    Raises OverflowError/ValueError outside Python's year range."""
    y, mo = int(y) + int(mo) // 12, int(mo) % 12
    base = datetime(y, mo + 1, 1)
    return base + timedelta(days=int(d) - 1, hours=int(h), minutes=int(mi), seconds=int(s),
                            milliseconds=int(ms))


def naive_to_ms(naive: datetime, tz: tzinfo | None, offset: int = 0) -> int:
    """Epoch ms of a wall time in ``tz`` (or at a fixed ``offset`` minutes when tz is None)."""
    if tz is None:
        return (naive - EPOCH_NAIVE) // _MS - offset * 60_000
    return (naive.replace(tzinfo=tz) - EPOCH) // _MS


def ms_to_naive(ms: int, tz: tzinfo | None, offset: int = 0) -> datetime:
    if tz is None:
        return EPOCH_NAIVE + timedelta(milliseconds=ms + offset * 60_000)
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(tz).replace(tzinfo=None)


def zone_offset_minutes(ms: int, tz: tzinfo) -> int:
    """moment's utcOffset() in local mode: the zone offset rounded to 15 minutes."""
    aware = (EPOCH + timedelta(milliseconds=ms)).astimezone(tz)
    delta = aware.utcoffset() or timedelta(0)
    return int(js_round(delta.total_seconds() / 60 / 15) * 15)


def time_clip(ms: float) -> int | None:
    if ms != ms or abs(ms) > MAX_MS:
        return None
    return int(ms)


class Moment(JsObject):
    """A moment. ``ms`` is None when invalid. ``is_utc`` with ``offset`` (minutes) is moment's
    UTC/fixed-offset mode; otherwise fields are read in ``tz``, the workflow zone."""

    __slots__ = ("_naive", "is_utc", "ms", "offset", "tz")
    prefers_number = True  # `moment() + 1` uses valueOf, like any plain JS object

    def __init__(self, ms: int | None, tz: tzinfo, is_utc: bool = False, offset: int = 0) -> None:
        self.ms = ms
        self.tz = tz
        self.is_utc = is_utc
        self.offset = offset
        self._naive: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.ms is not None

    def clone(self) -> Moment:
        return Moment(self.ms, self.tz, self.is_utc, self.offset)

    def naive(self) -> datetime:
        """Wall-clock fields in the current mode (cached until the next change)."""
        if self._naive is None:
            assert self.ms is not None
            self._naive = ms_to_naive(self.ms, None if self.is_utc else self.tz, self.offset)
        return self._naive

    def set_ms(self, ms: float | None) -> None:
        self.ms = None if ms is None else time_clip(ms)
        self._naive = None

    def set_naive(self, naive_fn: Any) -> None:
        """Set the wall time to ``naive_fn()``; out of range makes the moment invalid."""
        try:
            self.set_ms(naive_to_ms(naive_fn(), None if self.is_utc else self.tz, self.offset))
        except (OverflowError, ValueError):
            self.set_ms(None)

    def utc_offset(self) -> int:
        if self.is_utc:
            return self.offset
        assert self.ms is not None
        return zone_offset_minutes(self.ms, self.tz)

    # JsObject protocol
    def get(self, key: str) -> Any:
        return _methods().get(key, UNDEFINED)

    def to_num(self) -> float:
        return math.nan if self.ms is None else self.ms

    def to_str(self) -> str:
        from digpy.dsl.expr.moment.fmt import format_moment

        return format_moment(self, "ddd MMM DD YYYY HH:mm:ss [GMT]ZZ")

    def to_json(self) -> Any:
        from digpy.dsl.expr.moment.fmt import to_iso_string

        return to_iso_string(self) if self.valid else None


_METHODS: dict[str, Any] = {}


def _methods() -> dict[str, Any]:
    # api.py imports this module, so its method table is bound on first use.
    if not _METHODS:
        from digpy.dsl.expr.moment.api import MOMENT_METHODS

        _METHODS.update(MOMENT_METHODS)
    return _METHODS


# ----------------------------------------------------------------- field access


def get_field(m: Moment, unit: str) -> int:
    n = m.naive()
    if unit == "year":
        return n.year
    if unit == "month":
        return n.month - 1
    if unit == "date":
        return n.day
    if unit == "day":
        return (n.weekday() + 1) % 7
    if unit == "hour":
        return n.hour
    if unit == "minute":
        return n.minute
    if unit == "second":
        return n.second
    if unit == "millisecond":
        return n.microsecond // 1000
    raise KeyError(unit)


_ORDER = ("year", "month", "date", "hour", "minute", "second", "millisecond")


def set_field(m: Moment, unit: str, value: float, day: float | None = None) -> None:
    """Date's setFullYear/setMonth/setDate/setHours/... in the moment's mode."""
    if not m.valid or value != value:
        return
    n = m.naive()
    fields: list[float] = [n.year, n.month - 1, n.day, n.hour, n.minute, n.second,
                           n.microsecond // 1000]
    fields[_ORDER.index(unit)] = value
    if day is not None:
        fields[2] = day
    m.set_naive(lambda: make_naive(*fields))


def set_month(m: Moment, month: float) -> None:
    """moment's setMonth: the day is clamped to the target month's length."""
    if not m.valid or month != month:
        return
    day = min(get_field(m, "date"), days_in_month(get_field(m, "year"), int(month)))
    set_field(m, "month", month, day)


def set_year(m: Moment, year: float) -> None:
    if not m.valid or year != year:
        return
    n = m.naive()
    if is_leap(n.year) and n.month == 2 and n.day == 29:
        set_field(m, "year", year, days_in_month(int(year), 1))
    else:
        set_field(m, "year", year)


# ------------------------------------------------------------------ arithmetic

_DURATION_MS = {"hour": 3_600_000, "minute": 60_000, "second": 1000, "millisecond": 1}


def duration_parts(amount: float, unit: str | None) -> tuple[float, float, float]:
    """(months, days, ms) of moment.duration(amount, unit); unknown units add nothing."""
    if unit is None:
        return 0, 0, amount
    if unit in ("year", "quarter", "month"):
        return amount * {"year": 12, "quarter": 3, "month": 1}[unit], 0, 0
    if unit in ("week", "day"):
        return 0, amount * (7 if unit == "week" else 1), 0
    if unit in _DURATION_MS:
        return 0, 0, amount * _DURATION_MS[unit]
    return 0, 0, 0


def add_duration(m: Moment, months: float, days: float, ms: float, sign: int) -> None:
    """moment's addSubtract: months (clamped), then days (wall time kept), then absolute ms."""
    if not m.valid:
        return
    whole_months, whole_days = abs_round(months) if months == months else 0, \
        abs_round(days) if days == days else 0
    if whole_months:
        set_month(m, get_field(m, "month") + whole_months * sign)
    if whole_days:
        set_field(m, "date", get_field(m, "date") + whole_days * sign)
    if ms and ms == ms and m.ms is not None:
        m.set_ms(m.ms + ms * sign)


def add(m: Moment, amount: float, unit: str | None, sign: int = 1) -> None:
    add_duration(m, *duration_parts(amount, unit), sign)


def start_of(m: Moment, unit: str | None) -> Moment:
    if unit is None or unit == "millisecond" or not m.valid:
        return m
    unit = "day" if unit == "date" else unit
    steps = ["year", "quarter", "month", "week", "isoWeek", "day", "hour", "minute", "second"]
    if unit not in steps:
        return m
    start = steps.index(unit)
    if start <= 0:
        set_month(m, 0)
    if start <= 2:
        set_field(m, "date", 1)
    for field, begin in (("hour", 5), ("minute", 6), ("second", 7), ("millisecond", 8)):
        if start <= begin:
            set_field(m, field, 0)
    if unit == "week":
        add(m, -get_field(m, "day"), "day")
    if unit == "isoWeek":
        add(m, -((get_field(m, "day") + 6) % 7), "day")
    if unit == "quarter":
        set_month(m, get_field(m, "month") // 3 * 3)
    return m


def end_of(m: Moment, unit: str | None) -> Moment:
    if unit is None or unit == "millisecond" or not m.valid:
        return m
    unit = "day" if unit == "date" else unit
    start_of(m, unit)
    add(m, 1, "week" if unit == "isoWeek" else unit)
    add(m, -1, "millisecond")
    return m


# ----------------------------------------------------------------------- weeks


def _first_week_offset(year: int, dow: int, doy: int) -> int:
    fwd = 7 + dow - doy
    weekday = (datetime(year, 1, fwd).weekday() + 1) % 7
    return -((7 + weekday - dow) % 7) + fwd - 1


def _weeks_in_year(year: int, dow: int, doy: int) -> int:
    days = 366 if is_leap(year) else 365
    return (days - _first_week_offset(year, dow, doy) + _first_week_offset(year + 1, dow, doy)) // 7


def week_of_year(m: Moment, dow: int, doy: int) -> tuple[int, int]:
    """(week, weekYear): dow=0/doy=6 for moment's en locale, dow=1/doy=4 for ISO."""
    n = m.naive()
    year = n.year
    week = (n.timetuple().tm_yday - _first_week_offset(year, dow, doy) - 1) // 7 + 1
    if week < 1:
        return week + _weeks_in_year(year - 1, dow, doy), year - 1
    if week > _weeks_in_year(year, dow, doy):
        return week - _weeks_in_year(year, dow, doy), year + 1
    return week, year


def weeks_in_year(year: int, iso: bool) -> int:
    return _weeks_in_year(year, 1, 4) if iso else _weeks_in_year(year, 0, 6)
