"""Treasure Data's time functions, in pure Python: the single source of their semantics.

The local backend registers these as DuckDB UDFs (and as macros that call them with constant
arguments, so DuckDB folds them once per query). Every function takes unix seconds and a time
zone name; TD's default zone is UTC whatever the workflow's timezone is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_zone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Java's legacy three-letter zone IDs that TD SQL commonly uses ('JST', 'PST'). Java maps the
# US ones to DST-observing regions, except EST/MST/HST which are fixed offsets.
_ZONE_ALIASES = {
    "JST": "Asia/Tokyo", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "CST": "America/Chicago", "CDT": "America/Chicago", "MDT": "America/Denver",
    "EDT": "America/New_York", "EST": "Etc/GMT+5", "MST": "Etc/GMT+7", "HST": "Etc/GMT+10",
    "KST": "Asia/Seoul", "IST": "Asia/Kolkata", "GMT": "UTC", "Z": "UTC",
}
_OFFSET = re.compile(r"^(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?$")


class TdTimeError(ValueError):
    """A TD function got an argument TD would reject (bad zone, unparseable time, bad unit)."""


@lru_cache(maxsize=256)
def zone(name: str | None) -> tzinfo:
    """The zone for a TD zone argument: IANA names, Java aliases ('JST') or offsets ('+09:00')."""
    if not name:
        return UTC
    text = name.strip()
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return fixed_zone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(_ZONE_ALIASES.get(text.upper(), text))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TdTimeError(f"unknown time zone {name!r}") from exc


def to_local(unixtime: int, tz: str | None) -> datetime:
    return datetime.fromtimestamp(unixtime, zone(tz))


# ---- parsing -------------------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*([A-Za-z][A-Za-z_/+-]*|[+-]\d{1,2}:?\d{2})?\s*$"
)
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def parse_time(text: str, tz: str | None = None) -> int | None:
    """TD_TIME_PARSE: 'yyyy-MM-dd[ HH:mm[:ss[.SSS]]][ zone]' (also 'T', '/' and 'yyyyMMdd').

    A zone written in the string wins over ``tz``. Unparseable text gives None, as TD does."""
    match = _DATE_TIME.match(text) or _COMPACT.match(text)
    if not match:
        return None
    parts = match.groups() + (None,) * 5  # the compact form has only the date
    year, month, day, hour, minute, second = (int(p) if p else 0 for p in parts[:6])
    written_zone = parts[7]
    try:
        local = datetime(year, month, day, hour, minute, second)
        where = zone(written_zone) if written_zone else zone(tz)
    except (ValueError, TdTimeError):
        return None
    return int(local.replace(tzinfo=where).timestamp())


def time_bound(value: str | None, tz: str | None) -> int | None:
    """A TD_TIME_RANGE bound: None (unbounded), unix seconds as text, or a time string."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"-?\d+", text) and not _COMPACT.match(text):
        return int(text)
    parsed = parse_time(text, tz)
    if parsed is None:
        raise TdTimeError(f"cannot parse {value!r} as a time (expected e.g. '2016-01-30' or "
                          "'2016-01-30 12:00:00')")
    return parsed


# ---- durations, truncation, intervals ------------------------------------------------------

_DURATION = re.compile(r"^\s*([+-]?\d+)\s*([smhdwMqy])\s*$")
_UNIT_NAMES = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week",
               "M": "month", "q": "quarter", "y": "year"}


def parse_duration(text: str) -> tuple[int, str]:
    """'-1d' -> (-1, 'day'). Units: s m h d w M q y (M is month, m is minute, as in TD)."""
    match = _DURATION.match(text)
    if not match:
        raise TdTimeError(f"invalid duration {text!r} (expected e.g. '1d', '-2h', '30m')")
    return int(match.group(1)), _UNIT_NAMES[match.group(2)]


def add_units(local: datetime, amount: int, unit: str) -> datetime:
    """Calendar arithmetic in the local zone (a day is a calendar day across DST)."""
    if unit in ("month", "quarter", "year"):
        months = amount * {"month": 1, "quarter": 3, "year": 12}[unit]
        index = local.year * 12 + local.month - 1 + months
        return _normalise(local.replace(year=index // 12, month=index % 12 + 1))
    if unit in ("second", "minute", "hour"):
        seconds = amount * {"second": 1, "minute": 60, "hour": 3600}[unit]
        return (local.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(local.tzinfo)
    days = amount * (7 if unit == "week" else 1)
    return _normalise((local.replace(tzinfo=None) + timedelta(days=days)).replace(
        tzinfo=local.tzinfo))


def _normalise(local: datetime) -> datetime:
    # Round-trip through UTC so wall times in a DST gap/overlap get a real offset.
    return local.astimezone(UTC).astimezone(local.tzinfo)


def truncate(local: datetime, unit: str) -> datetime:
    """TD_DATE_TRUNC in the local zone; weeks start on Monday."""
    fields = {"second": 6, "minute": 5, "hour": 4, "day": 3, "week": 3, "month": 2,
              "quarter": 2, "year": 1}
    if unit not in fields:
        raise TdTimeError(f"invalid unit {unit!r} (expected one of {', '.join(fields)})")
    keep = fields[unit]
    values = [local.year, local.month, local.day, local.hour, local.minute, local.second]
    floor = [1, 1, 1, 0, 0, 0]  # the smallest value of each field
    y, mo, d, h, mi, se = values[:keep] + floor[keep:]
    out = datetime(y, mo, d, h, mi, se, tzinfo=local.tzinfo)
    if unit == "week":
        out -= timedelta(days=out.weekday())
    if unit == "quarter":
        out = out.replace(month=(out.month - 1) // 3 * 3 + 1)
    return _normalise(out)


def date_trunc(unit: str, unixtime: int, tz: str | None = None) -> int:
    return int(truncate(to_local(unixtime, tz), unit.lower()).timestamp())


def time_add(value: str, duration: str, tz: str | None = None) -> int:
    """TD_TIME_ADD: ``value`` (unix seconds or a time string) plus a duration such as '1d'."""
    start = time_bound(value, tz)
    if start is None:
        raise TdTimeError("TD_TIME_ADD needs a time")
    amount, unit = parse_duration(duration)
    return int(add_units(to_local(start, tz), amount, unit).timestamp())


def interval_bounds(spec: str, tz: str | None, scheduled: int) -> tuple[int, int]:
    """TD_INTERVAL's [start, end) for '<N><unit>[/<base>]' relative to the scheduled time.

    The base is the scheduled time truncated to the unit; '/now' keeps it untruncated, '/<time>'
    replaces it, and '/<duration>' shifts the truncated base. N > 0 spans [base, base+N);
    N < 0 spans [base+N, base)."""
    length, _, base_text = spec.partition("/")
    amount, unit = parse_duration(length)
    now = to_local(scheduled, tz)
    base = truncate(now, unit)
    if base_text.strip().lower() == "now":
        base = now
    elif base_text.strip():
        base = _interval_base(base_text.strip(), tz, unit, base)
    other = add_units(base, amount, unit)
    lo, hi = sorted((base, other))
    return int(lo.timestamp()), int(hi.timestamp())


def _interval_base(text: str, tz: str | None, unit: str, truncated: datetime) -> datetime:
    if _DURATION.match(text):
        shift, shift_unit = parse_duration(text)
        return add_units(truncated, shift, shift_unit)
    parsed = parse_time(text, tz)
    if parsed is None:
        raise TdTimeError(f"invalid TD_INTERVAL base {text!r}")
    return truncate(to_local(parsed, tz), unit)


# ---- Java-style formatting (TD_TIME_FORMAT) ------------------------------------------------

_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")

# letter run -> (strftime directive or None, python fallback)
_Fmt = Callable[[datetime], str]


def _ampm(d: datetime) -> str:
    return "AM" if d.hour < 12 else "PM"


def _field(letter: str, width: int) -> tuple[str | None, _Fmt]:
    def pad(value: int) -> str:
        return str(value).zfill(width)

    table: dict[str, tuple[str | None, _Fmt]] = {
        "M": (("%m" if width == 2 else "%-m" if width == 1 else None), lambda d: pad(d.month)),
        "d": (("%d" if width == 2 else "%-d" if width == 1 else None), lambda d: pad(d.day)),
        "H": (("%H" if width == 2 else "%-H" if width == 1 else None), lambda d: pad(d.hour)),
        "m": (("%M" if width == 2 else "%-M" if width == 1 else None), lambda d: pad(d.minute)),
        "s": (("%S" if width == 2 else "%-S" if width == 1 else None), lambda d: pad(d.second)),
        "h": (("%I" if width == 2 else "%-I" if width == 1 else None),
              lambda d: pad((d.hour % 12) or 12)),
        "S": (("%g" if width == 3 else None), lambda d: pad(d.microsecond // 1000)[:width]),
        "D": (("%j" if width == 3 else None), lambda d: pad(d.timetuple().tm_yday)),
        "a": ("%p", _ampm),
        "k": (None, lambda d: pad(d.hour or 24)),
        "K": (None, lambda d: pad(d.hour % 12)),
        "u": ("%u" if width == 1 else None, lambda d: pad(d.isoweekday())),
        "w": (None, lambda d: pad(d.isocalendar()[1])),
        "z": (None, lambda d: d.tzname() or "UTC" if width < 4 else _zone_long(d)),
        "Z": (None, lambda d: d.strftime("%z") or "+0000"),
        "X": (None, lambda d: "Z" if not d.utcoffset() else _iso_offset(d, width)),
        "G": (None, lambda d: "AD"),
    }
    if letter == "y":
        return ("%y", lambda d: str(d.year)[-2:]) if width == 2 else \
            ("%Y" if width == 4 else None, lambda d: pad(d.year))
    if letter == "M" and width >= 3:
        return ("%b" if width == 3 else "%B"), (lambda d: d.strftime("%b" if width == 3 else "%B"))
    if letter == "E":
        return ("%a" if width <= 3 else "%A"), (lambda d: d.strftime("%a" if width <= 3 else "%A"))
    if letter not in table:
        raise TdTimeError(f"unsupported pattern letter {letter!r} in a TD_TIME_FORMAT format")
    return table[letter]


def _zone_long(d: datetime) -> str:
    return str(getattr(d.tzinfo, "key", d.tzname() or "UTC"))


def _iso_offset(d: datetime, width: int) -> str:
    text = d.strftime("%z")
    return text[:3] if width == 1 else text if width == 2 else f"{text[:3]}:{text[3:]}"


@lru_cache(maxsize=512)
def compile_format(pattern: str) -> tuple[str | None, tuple[_Fmt, ...]]:
    """Split a Java date pattern once: (a strftime string when every piece has one, else None;
    the per-piece Python formatters that always work)."""
    native: list[str | None] = []
    pieces: list[_Fmt] = []
    for match in _TOKEN.finditer(pattern):
        token = match.group(0)
        if match.group(1):
            directive, fn = _field(token[0], len(token))
            pieces.append(fn)
            native.append(directive)
            continue
        text = _literal(token)
        pieces.append(_constant(text))
        native.append(text.replace("%", "%%"))
    if any(d is None for d in native):
        return None, tuple(pieces)
    return "".join(d for d in native if d is not None), tuple(pieces)


def _constant(text: str) -> _Fmt:
    def piece(_: datetime) -> str:
        return text

    return piece


def _literal(token: str) -> str:
    """Text outside pattern letters; 'quoted' text is literal and '' is one quote."""
    if token == "''":
        return "'"
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    return token


def format_time(unixtime: int, pattern: str, tz: str | None = None) -> str:
    """TD_TIME_FORMAT: ``unixtime`` in ``tz`` with a Java SimpleDateFormat-style pattern."""
    local = to_local(unixtime, tz)
    return "".join(piece(local) for piece in compile_format(pattern)[1])
