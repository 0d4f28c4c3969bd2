"""cron4j pattern syntax (``SchedulingPattern``): five fields, names, ranges that wrap,
steps, ``L`` and ``|`` alternatives, parsed into the allowed values of each field.

It lives in ``dsl`` so a bad ``cron>`` pattern is a config error at its line;
``digpy.scheduler.cron`` matches the parsed fields against wall-clock times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

_DIGITS = re.compile(r"\d+")

@dataclass(frozen=True, slots=True)
class CronFields:
    """One ``|``-separated part of a cron4j pattern: the allowed values of each field.
    ``days`` holds 32 for ``L`` (last day of the month); ``weekdays`` uses 0 = Sunday."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]


class _Field(NamedTuple):
    name: str
    low: int
    high: int
    aliases: tuple[str, ...]  # names for low, low+1, ...


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                "dec")
_CRON_FIELDS = (
    _Field("minute", 0, 59, ()), _Field("hour", 0, 23, ()), _Field("day of month", 1, 31, ()),
    _Field("month", 1, 12, _MONTH_NAMES),
    _Field("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@lru_cache(maxsize=1024)
def parse_cron(text: str) -> tuple[CronFields, ...]:
    """A cron4j pattern: 5 fields, names, ``L``, ranges that wrap (``fri-mon``), steps and
    ``|`` alternatives. A time matches a part when all five fields match (AND). ValueError
    with a short reason when the pattern is invalid or can never match."""
    parts = [_cron_part(part.strip()) for part in text.split("|")]
    # A part that can never match is dropped, so the matcher never searches forever.
    possible = tuple(p for p in parts if _possible(p))
    if not possible:
        raise ValueError(f"{text.strip()!r} never matches: no month has that day")
    return possible


def _cron_part(text: str) -> CronFields:
    tokens = text.split()
    if len(tokens) != 5:
        raise ValueError(f"needs 5 fields (minute hour day month weekday), {text!r} has "
                         f"{len(tokens)}")
    values = [_cron_field(token, spec) for token, spec in zip(tokens, _CRON_FIELDS, strict=True)]
    # cron4j reads 7 as Sunday too.
    weekdays = frozenset(d % 7 for d in values[4])
    return CronFields(values[0], values[1], values[2], values[3], weekdays)


def _cron_field(token: str, field: _Field) -> frozenset[int]:
    values: list[int] = []
    for element in token.split(","):
        span, slash, step = element.partition("/")
        if slash and not (_DIGITS.fullmatch(step) and int(step) >= 1):
            raise ValueError(f"{field.name} field {token!r}: step must be 1 or more")
        sequence = _cron_range(span, field, token)
        values.extend(sequence[:: int(step)] if slash else sequence)
    return frozenset(values)


def _cron_range(text: str, field: _Field, token: str) -> list[int]:
    if text == "*":
        return list(range(field.low, field.high + 1))
    ends = text.split("-")
    if len(ends) > 2:
        raise ValueError(f"{field.name} field {token!r}: bad range {text!r}")
    first = _cron_value(ends[0], field, token)
    last = _cron_value(ends[-1], field, token)
    if first <= last:
        return list(range(first, last + 1))
    # cron4j wraps a reversed range around the field: 22-2 is 22,23,0,1,2.
    return list(range(first, field.high + 1)) + list(range(field.low, last + 1))


def _cron_value(text: str, field: _Field, token: str) -> int:
    lowered = text.lower()
    if field.name == "day of month" and lowered == "l":
        return 32
    if lowered in field.aliases:
        return field.low + field.aliases.index(lowered)
    if _DIGITS.fullmatch(text) and field.low <= int(text) <= field.high:
        number = int(text)
        return number % 7 if field.name == "day of week" else number
    raise ValueError(f"{field.name} field {token!r}: {text!r} is not a value in "
                     f"{field.low}-{field.high}" + (" or a name" if field.aliases else ""))


def _possible(part: CronFields) -> bool:
    if 32 in part.days:
        return bool(part.months)
    return any(d <= _LONGEST_MONTH[m - 1] for m in part.months for d in part.days)
