"""Durations as Digdag writes them: ``10s``, ``3m``, ``1h 30m``, ``2d``, ``1h30m``.

The grammar is Digdag's ``Durations`` pattern (days, hours, minutes, seconds, each optional,
in that order, case-insensitive, spaces allowed between parts). digpy also takes a bare
number of seconds (``60`` or ``"60"``), which Digdag's ``_timeout``/``wait>`` users write by
habit. Shared by ``wait>``, ``_timeout`` and ``schedule: skip_delayed_by``.
"""

from __future__ import annotations

import re

from digpy.errors import ConfigError, Location

_PATTERN = re.compile(
    r"\s*(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m)?\s*(?:(?P<s>\d+)\s*s)?\s*",
    re.IGNORECASE,
)
_BARE_SECONDS = re.compile(r"\s*\d+\s*")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def parse_duration(text: str | int, *, location: Location | None = None) -> int:
    """Seconds in ``text``; a ConfigError (at ``location``) when it is not a duration."""
    # bool is an int subclass, and `true` is never meant as one second.
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise _invalid(text, location)
        return text
    if not isinstance(text, str):
        raise _invalid(text, location)
    if _BARE_SECONDS.fullmatch(text):
        return int(text)
    match = _PATTERN.fullmatch(text)
    # Digdag accepts "" as zero; an empty duration is a typo far more often than a wish.
    if match is None or not any(match.groups()):
        raise _invalid(text, location)
    return sum(int(match.group(unit) or 0) * size for unit, size in _UNITS)


def format_duration(seconds: int) -> str:
    """``5400`` → ``"1h 30m"``; zero parts are left out and zero itself is ``"0s"``."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    parts = []
    rest = seconds
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


def _invalid(value: object, location: Location | None) -> ConfigError:
    return ConfigError(
        f"Invalid duration {value!r}: write a number of seconds or units such as"
        " '10s', '3m', '1h 30m' or '2d'",
        location=location,
    )
