"""Workflow time zones: IANA names (``Asia/Tokyo``) or fixed offsets (``+09:00``), as
Java's ZoneId accepts them."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta, timezone, tzinfo
from functools import lru_cache

from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError, Location

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


@lru_cache(maxsize=256)
def _lookup(name: str) -> tzinfo | None:
    if name in ("UTC", "Z", "GMT"):
        return zoneinfo.ZoneInfo("UTC")
    m = _OFFSET.match(name)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        if hours > 18 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if sign == "-" else delta)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def parse_timezone(name: str, *, location: Location | None = None) -> tzinfo:
    """The tzinfo for ``name``; a ConfigError with suggestions when it is unknown."""
    tz = _lookup(str(name).strip()) if name else None
    if tz is None:
        hints = did_you_mean(str(name), _all_zone_names())
        raise ConfigError(f"Unknown timezone {name!r}", location=location, suggestions=hints)
    return tz


@lru_cache(maxsize=1)
def _all_zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))
