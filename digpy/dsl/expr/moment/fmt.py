"""moment 2.21 ``format()``: the same token regex, the en locale, long-date expansion."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from digpy.dsl.expr.moment.core import Moment, week_of_year

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
LONG_DATE = {"LTS": "h:mm:ss A", "LT": "h:mm A", "L": "MM/DD/YYYY", "LL": "MMMM D, YYYY",
             "LLL": "MMMM D, YYYY h:mm A", "LLLL": "dddd, MMMM D, YYYY h:mm A"}
DEFAULT_FORMAT = "YYYY-MM-DDTHH:mm:ssZ"
DEFAULT_FORMAT_UTC = "YYYY-MM-DDTHH:mm:ss[Z]"

_TOKENS = re.compile(
    r"(\[[^\[]*\])|(\\)?([Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?"
    r"|Qo?|YYYYYY|YYYYY|YYYY|YY|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?|S{1,9}|x|X|zz?"
    r"|ZZ?|.)", re.DOTALL)
_LOCAL_TOKENS = re.compile(r"(\[[^\[]*\])|(\\)?(LTS|LT|LL?L?L?|l{1,4})")


def ordinal(n: int) -> str:
    b = n % 10
    suffix = "th" if (n % 100) // 10 == 1 else {1: "st", 2: "nd", 3: "rd"}.get(b, "th")
    return f"{n}{suffix}"


def zero_fill(n: int, width: int, force_sign: bool = False) -> str:
    sign = "-" if n < 0 else ("+" if force_sign else "")
    return sign + str(abs(n)).zfill(width)


def _offset(m: Moment, sep: str) -> str:
    off = m.utc_offset()
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return f"{sign}{off // 60:02d}{sep}{off % 60:02d}"


Fn = Callable[[Moment, datetime], str]


def _h12(n: datetime) -> int:
    return n.hour % 12 or 12


def _weekday(n: datetime) -> int:
    return (n.weekday() + 1) % 7


def _quarter(n: datetime) -> int:
    return (n.month + 2) // 3


def _basic() -> dict[str, Fn]:
    return {
        "M": lambda m, n: str(n.month), "Mo": lambda m, n: ordinal(n.month),
        "MM": lambda m, n: f"{n.month:02d}", "MMM": lambda m, n: MONTHS[n.month - 1][:3],
        "MMMM": lambda m, n: MONTHS[n.month - 1],
        "Q": lambda m, n: str(_quarter(n)), "Qo": lambda m, n: ordinal(_quarter(n)),
        "D": lambda m, n: str(n.day), "Do": lambda m, n: ordinal(n.day),
        "DD": lambda m, n: f"{n.day:02d}",
        "DDD": lambda m, n: str(n.timetuple().tm_yday),
        "DDDo": lambda m, n: ordinal(n.timetuple().tm_yday),
        "DDDD": lambda m, n: f"{n.timetuple().tm_yday:03d}",
        "d": lambda m, n: str(_weekday(n)), "do": lambda m, n: ordinal(_weekday(n)),
        "dd": lambda m, n: WEEKDAYS[_weekday(n)][:2], "ddd": lambda m, n: WEEKDAYS[_weekday(n)][:3],
        "dddd": lambda m, n: WEEKDAYS[_weekday(n)],
        "e": lambda m, n: str(_weekday(n)), "E": lambda m, n: str(_weekday(n) or 7),
        "Y": lambda m, n: str(n.year) if n.year <= 9999 else f"+{n.year}",
        "YY": lambda m, n: zero_fill(n.year % 100, 2), "YYYY": lambda m, n: zero_fill(n.year, 4),
        "YYYYY": lambda m, n: zero_fill(n.year, 5),
        "YYYYYY": lambda m, n: zero_fill(n.year, 6, True),
    }


def _weeks() -> dict[str, Fn]:
    out: dict[str, Fn] = {}
    for letter, year_letter, dow, doy in (("w", "g", 0, 6), ("W", "G", 1, 4)):
        def week(m: Moment, n: datetime, dow: int = dow, doy: int = doy) -> int:
            return week_of_year(m, dow, doy)[0]

        def year(m: Moment, n: datetime, dow: int = dow, doy: int = doy) -> int:
            return week_of_year(m, dow, doy)[1]

        out[letter] = lambda m, n, f=week: str(f(m, n))  # type: ignore[misc]
        out[letter + "o"] = lambda m, n, f=week: ordinal(f(m, n))  # type: ignore[misc]
        out[letter * 2] = lambda m, n, f=week: f"{f(m, n):02d}"  # type: ignore[misc]
        out[year_letter * 2] = lambda m, n, f=year: zero_fill(f(m, n) % 100, 2)  # type: ignore[misc]
        out[year_letter * 4] = lambda m, n, f=year: zero_fill(f(m, n), 4)  # type: ignore[misc]
        out[year_letter * 5] = lambda m, n, f=year: zero_fill(f(m, n), 5)  # type: ignore[misc]
    return out


def _times() -> dict[str, Fn]:
    out: dict[str, Fn] = {
        "a": lambda m, n: "pm" if n.hour > 11 else "am",
        "A": lambda m, n: "PM" if n.hour > 11 else "AM",
        "H": lambda m, n: str(n.hour), "HH": lambda m, n: f"{n.hour:02d}",
        "h": lambda m, n: str(_h12(n)), "hh": lambda m, n: f"{_h12(n):02d}",
        "k": lambda m, n: str(n.hour or 24), "kk": lambda m, n: f"{n.hour or 24:02d}",
        "hmm": lambda m, n: f"{_h12(n)}{n.minute:02d}",
        "hmmss": lambda m, n: f"{_h12(n)}{n.minute:02d}{n.second:02d}",
        "Hmm": lambda m, n: f"{n.hour}{n.minute:02d}",
        "Hmmss": lambda m, n: f"{n.hour}{n.minute:02d}{n.second:02d}",
        "m": lambda m, n: str(n.minute), "mm": lambda m, n: f"{n.minute:02d}",
        "s": lambda m, n: str(n.second), "ss": lambda m, n: f"{n.second:02d}",
        "S": lambda m, n: str(n.microsecond // 100_000),
        "SS": lambda m, n: f"{n.microsecond // 10_000:02d}",
        "z": lambda m, n: "UTC" if m.is_utc else "", "zz": lambda m, n: "UTC" if m.is_utc else "",
        "Z": lambda m, n: _offset(m, ":"), "ZZ": lambda m, n: _offset(m, ""),
        "X": lambda m, n: str((m.ms or 0) // 1000), "x": lambda m, n: str(m.ms),
    }
    for width in range(3, 10):
        out["S" * width] = lambda m, n, w=width: str(  # type: ignore[misc]
            n.microsecond // 1000 * 10 ** (w - 3)).zfill(w)
    return out


TOKEN_FUNCTIONS: dict[str, Fn] = {**_basic(), **_weeks(), **_times()}


def _literal(text: str) -> str:
    if re.match(r"\[[\s\S]", text):
        return re.sub(r"^\[|\]$", "", text)
    return text.replace("\\", "")


def _long_date(key: str) -> str | None:
    if key in LONG_DATE:
        return LONG_DATE[key]
    upper = LONG_DATE.get(key.upper())
    if upper is None:
        return None
    return re.sub(r"MMMM|MM|DD|dddd", lambda v: v.group(0)[1:], upper)


def expand_format(fmt: str) -> str:
    for _ in range(6):
        if not _LOCAL_TOKENS.search(fmt):
            break
        fmt = _LOCAL_TOKENS.sub(lambda m: _long_date(m.group(0)) or m.group(0), fmt)
    return fmt


@lru_cache(maxsize=512)
def compile_format(fmt: str) -> tuple[Fn | str, ...]:
    parts: list[Fn | str] = []
    for m in _TOKENS.finditer(expand_format(fmt)):
        token = m.group(0)
        parts.append(TOKEN_FUNCTIONS.get(token) or _literal(token))
    return tuple(parts)


def format_moment(m: Moment, fmt: str | None = None) -> str:
    if not m.valid:
        return "Invalid date"
    if fmt is None:
        fmt = DEFAULT_FORMAT_UTC if m.is_utc and m.offset == 0 else DEFAULT_FORMAT
    n = m.naive()
    return "".join(p if type(p) is str else p(m, n) for p in compile_format(fmt))  # type: ignore[operator]


def to_iso_string(m: Moment) -> str:
    """Always UTC with milliseconds, like Date.prototype.toISOString."""
    utc = Moment(m.ms, m.tz, True, 0)
    n = utc.naive()
    year = f"{n.year:04d}" if 0 <= n.year <= 9999 else zero_fill(n.year, 6, True)
    return f"{year}-{n.month:02d}-{n.day:02d}T{n.hour:02d}:{n.minute:02d}:{n.second:02d}." \
           f"{n.microsecond // 1000:03d}Z"
