"""Turning input into a moment's instant: ISO 8601 strings (moment's own regexes), RFC 2822,
``moment(string, format)`` with moment's forgiving token matching, and arrays of fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, tzinfo
from typing import Any

from digpy.dsl.expr.moment.core import days_in_month, make_naive, naive_to_ms, time_clip
from digpy.dsl.expr.moment.fmt import MONTHS, WEEKDAYS, expand_format

_TZ = r"([+-]\d\d(?::?\d\d)?|\s*Z)?"
_EXT_ISO = re.compile(r"^\s*((?:[+-]\d{6}|\d{4})-(?:\d\d-\d\d|W\d\d-\d|W\d\d|\d\d\d|\d\d))"
                      r"(?:(T| )(\d\d(?::\d\d(?::\d\d(?:[.,]\d+)?)?)?)" + _TZ + r")?$")
_BASIC_ISO = re.compile(r"^\s*((?:[+-]\d{6}|\d{4})(?:\d\d\d\d|W\d\d\d|W\d\d|\d\d\d|\d\d))"
                        r"(?:(T| )(\d\d(?:\d\d(?:\d\d(?:[.,]\d+)?)?)?)" + _TZ + r")?$")
_ISO_DATES = [
    ("YMD", re.compile(r"([+-]\d{6}|\d{4})-?(\d\d)-?(\d\d)$")),
    ("GWE", re.compile(r"(\d{4})-?W(\d\d)-?(\d)$")),
    ("GW", re.compile(r"(\d{4})-?W(\d\d)$")),
    ("YDDD", re.compile(r"(\d{4})-?(\d{3})$")),
    ("YM", re.compile(r"(\d{4})-(\d\d)$")),
]
_ISO_TIME = re.compile(r"(\d\d):?(\d\d)?(?::?(\d\d)(?:[.,](\d+))?)?$")

# A parsed input: [year, month0, day, hour, minute, second, ms]; None means "not given".
Fields = list[Any]


def fraction_ms(digits: str) -> int:
    return int(float("0." + digits) * 1000)


def offset_from_string(text: str) -> int:
    """Minutes east of UTC from ``Z``, ``+09``, ``+0900`` or ``+09:00``."""
    text = text.strip()
    if text in ("Z", "z"):
        return 0
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return -minutes if text[0] == "-" else minutes


def _iso_date(text: str) -> Fields | None:
    for kind, rx in _ISO_DATES:
        m = rx.match(text)
        if not m:
            continue
        g = [int(x) for x in m.groups()]
        if kind == "YMD":
            return [g[0], g[1] - 1, g[2]]
        if kind == "YM":
            return [g[0], g[1] - 1, 1]
        if kind == "YDDD":
            return _from_ordinal(g[0], g[1])
        return _from_iso_week(g[0], g[1], g[2] if kind == "GWE" else 1)
    return None


def _from_ordinal(year: int, day_of_year: int) -> Fields | None:
    if not 1 <= day_of_year <= (366 if days_in_month(year, 1) == 29 else 365):
        return None
    d = date.fromordinal(date(year, 1, 1).toordinal() + day_of_year - 1)
    return [d.year, d.month - 1, d.day]


def _from_iso_week(year: int, week: int, weekday: int) -> Fields | None:
    try:
        d = date.fromisocalendar(year, week, weekday)
    except ValueError:
        return None
    return [d.year, d.month - 1, d.day]


def parse_iso(text: str) -> tuple[Fields, int | None] | None:
    """(fields, offset minutes or None for local) for moment's ISO 8601 forms."""
    m = _EXT_ISO.match(text) or _BASIC_ISO.match(text)
    if not m:
        return None
    fields = _iso_date(m.group(1))
    if fields is None:
        return None
    time_text, tz = m.group(3), m.group(4)
    fields += [None, None, None, None]
    if time_text:
        t = _ISO_TIME.match(time_text)
        if not t:
            return None
        hh, mm, ss, frac = t.groups()
        fields[3:7] = [int(hh), int(mm or 0), int(ss or 0), fraction_ms(frac) if frac else 0]
    return fields, (offset_from_string(tz) if tz else None)


_RFC_2822 = re.compile(
    r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s)?(\d{1,2})\s(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
    r"Oct|Nov|Dec)\s(\d{2,4})\s(\d\d):(\d\d)(?::(\d\d))?\s(?:(UT|GMT|[ECMP][SD]T)|([Zz])|"
    r"([+-]\d{4}))$")
_MILITARY = {"UT": 0, "GMT": 0, "EDT": -240, "EST": -300, "CDT": -300, "CST": -360,
             "MDT": -360, "MST": -420, "PDT": -420, "PST": -480}


def parse_rfc2822(text: str) -> tuple[Fields, int] | None:
    cleaned = re.sub(r"\([^)]*\)|[\n\t]", " ", text)
    cleaned = re.sub(r"(\s\s+)", " ", cleaned).strip()
    m = _RFC_2822.match(cleaned)
    if not m:
        return None
    _, day, mon, year, hh, mi, ss, named, zulu, numeric = m.groups()
    y = int(year)
    y = y if len(year) == 4 else (2000 + y if y < 50 else 1900 + y)
    fields = [y, [n[:3] for n in MONTHS].index(mon), int(day), int(hh), int(mi), int(ss or 0), 0]
    offset = _MILITARY[named] if named else 0 if zulu else offset_from_string(numeric)
    return fields, offset


def fields_to_ms(fields: Fields, offset: int | None, tz: tzinfo,
                 now_fields: Callable[[], Fields]) -> int | None:
    """moment's configFromArray + checkOverflow: missing leading fields come from today,
    the rest are zero; any out-of-range field makes the result invalid (None)."""
    a = list(fields) + [None] * (7 - len(fields))
    i = 0
    while i < 3 and a[i] is None:
        a[i] = now_fields()[i]
        i += 1
    for j in range(i, 7):
        if a[j] is None:
            a[j] = 1 if j == 2 else 0
    next_day = a[3] == 24 and a[4] == a[5] == a[6] == 0
    if _overflows(a, next_day):
        return None
    try:
        naive = make_naive(a[0], a[1], a[2], 0 if next_day else a[3], a[4], a[5], a[6])
        ms = naive_to_ms(naive, None if offset is not None else tz, offset or 0)
    except (OverflowError, ValueError):
        return None
    return time_clip(ms + (86_400_000 if next_day else 0))


def _overflows(a: Fields, next_day: bool) -> bool:
    if not 0 <= a[1] <= 11:
        return True
    if not 1 <= a[2] <= days_in_month(a[0], a[1]):
        return True
    if not (0 <= a[3] <= 23 or next_day):
        return True
    return not (0 <= a[4] <= 59 and 0 <= a[5] <= 59 and 0 <= a[6] <= 999)


# ------------------------------------------------------------ string + format

_MONTH_NAMES = "|".join(sorted([*MONTHS, *(n[:3] for n in MONTHS)], key=len, reverse=True))
_DAY_NAMES = "|".join(sorted([*WEEKDAYS, *(n[:3] for n in WEEKDAYS), *(n[:2] for n in WEEKDAYS)],
                             key=len, reverse=True))
_D12, _D2 = r"\d\d?", r"\d\d"
_PARSE_TOKENS: dict[str, tuple[str, str]] = {  # token: (forgiving regex, strict regex)
    "M": (_D12, _D12), "MM": (_D12, _D2), "MMM": (_MONTH_NAMES, _MONTH_NAMES),
    "MMMM": (_MONTH_NAMES, _MONTH_NAMES), "D": (_D12, _D12), "DD": (_D12, _D2),
    "Do": (r"\d{1,2}(?:th|st|nd|rd)|\d{1,2}", r"\d{1,2}(?:th|st|nd|rd)"),
    "DDD": (r"\d{1,3}", r"\d{1,3}"), "DDDD": (r"\d{3}", r"\d{3}"),
    "YYYY": (r"\d{1,4}", r"\d{4}"), "YY": (_D12, _D2), "Y": (r"[+-]?\d+", r"[+-]?\d+"),
    "YYYYY": (r"[+-]?\d{1,6}", r"[+-]?\d{6}"), "YYYYYY": (r"[+-]?\d{1,6}", r"[+-]?\d{6}"),
    "H": (_D12, _D12), "HH": (_D12, _D2), "h": (_D12, _D12), "hh": (_D12, _D2),
    "k": (_D12, _D12), "kk": (_D12, _D2), "m": (_D12, _D12), "mm": (_D12, _D2),
    "s": (_D12, _D12), "ss": (_D12, _D2), "S": (r"\d{1,3}", r"\d"), "SS": (r"\d{1,3}", r"\d\d"),
    "SSS": (r"\d{1,3}", r"\d{3}"), "a": (r"[ap]\.?m?\.?", r"[ap]\.?m?\.?"),
    "A": (r"[ap]\.?m?\.?", r"[ap]\.?m?\.?"), "Z": (r"Z|[+-]\d\d(?::?\d\d)?",) * 2,
    "ZZ": (r"Z|[+-]\d\d(?::?\d\d)?",) * 2, "X": (r"[+-]?\d+(?:\.\d{1,3})?",) * 2,
    "x": (r"[+-]?\d+",) * 2, "d": (r"\d",) * 2, "dd": (_DAY_NAMES,) * 2,
    "ddd": (_DAY_NAMES,) * 2, "dddd": (_DAY_NAMES,) * 2, "Q": (r"\d",) * 2,
}
for _n in range(4, 10):
    _PARSE_TOKENS["S" * _n] = (r"\d+", r"\d+")


class _Parsed:
    def __init__(self) -> None:
        self.fields: Fields = [None] * 7
        self.offset: int | None = None
        self.pm: bool | None = None
        self.ms: int | None = None  # X / x give the instant directly
        self.day_of_year: int | None = None
        self.bad = False
        self.matched_any = False
        self.leftover = 0


def _apply(p: _Parsed, token: str, text: str) -> None:
    f = p.fields
    if token in ("M", "MM"):
        f[1] = int(text) - 1
    elif token in ("MMM", "MMMM"):
        f[1] = next(i for i, n in enumerate(MONTHS) if n.lower().startswith(text[:3].lower()))
    elif token in ("D", "DD", "Do"):
        f[2] = int(re.match(r"\d+", text).group(0))  # type: ignore[union-attr]
    elif token in ("DDD", "DDDD"):
        p.day_of_year = int(text)
    elif token in ("YYYY", "YYYYY", "YYYYYY", "Y"):
        f[0] = (int(text) + (1900 if int(text) > 68 else 2000)) if len(text) == 2 else int(text)
    elif token == "YY":
        f[0] = int(text) + (1900 if int(text) > 68 else 2000)
    elif token in ("H", "HH", "h", "hh", "k", "kk"):
        f[3] = int(text)
    elif token in ("m", "mm"):
        f[4] = int(text)
    elif token in ("s", "ss"):
        f[5] = int(text)
    elif token.startswith("S"):
        f[6] = fraction_ms(text)
    elif token in ("a", "A"):
        p.pm = text[0].lower() == "p"
    elif token in ("Z", "ZZ"):
        p.offset = offset_from_string(text)
    elif token == "X":
        p.ms = int(float(text) * 1000)
    elif token == "x":
        p.ms = int(text)
    elif token == "Q":
        f[1] = (int(text) - 1) * 3


def _literal_regex(token: str) -> str:
    text = re.sub(r"^\[|\]$", "", token) if token.startswith("[") else token.replace("\\", "")
    return re.escape(text)


def parse_with_format(text: str, fmt: str, strict: bool) -> _Parsed:
    from digpy.dsl.expr.moment.fmt import _TOKENS

    p = _Parsed()
    rest = text
    for m in _TOKENS.finditer(expand_format(fmt)):
        token = m.group(0)
        known = token in _PARSE_TOKENS
        pattern = _PARSE_TOKENS[token][1 if strict else 0] if known else _literal_regex(token)
        found = re.search(pattern, rest, re.IGNORECASE) if pattern else None
        if found and (not strict or found.start() == 0):
            p.leftover += found.start()
            rest = rest[found.end():]
            if known:
                p.matched_any = True
                _apply(p, token, found.group(0))
        elif strict:
            p.bad = True
    p.leftover += len(rest)
    if p.pm is not None and p.fields[3] is not None:
        h = p.fields[3]
        p.fields[3] = h + 12 if p.pm and h < 12 else (0 if not p.pm and h == 12 else h)
    if strict and p.leftover:
        p.bad = True
    return p
