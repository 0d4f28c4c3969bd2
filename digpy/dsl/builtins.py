"""Built-in session variables (spec §2.3): ``session_time`` and its five companions, under
``session``, ``last_session``, ``next_session`` or ``last_executed_session``."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from digpy.dsl.timezones import parse_timezone

SUFFIXES = ("time", "date", "date_compact", "local_time", "tz_offset", "unixtime")


def _offset(delta: timedelta | None, colon: bool) -> str:
    """Java's ``xxx`` (``+09:00``, ``+00:00`` never ``Z``) or ``Z`` (``+0900``) pattern."""
    seconds = int((delta or timedelta(0)).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    sep = ":" if colon else ""
    text = f"{sign}{hours:02d}{sep}{minutes:02d}"
    return text + (f"{sep}{secs:02d}" if secs else "")


def session_variables(session_time: datetime, timezone: str, *,
                      prefix: str = "session") -> dict[str, Any]:
    """The six ``<prefix>_*`` variables for ``session_time`` seen in ``timezone``.

    A naive ``session_time`` is read as a wall time in ``timezone``."""
    tz = parse_timezone(timezone)
    local = session_time.astimezone(tz) if session_time.tzinfo else session_time.replace(tzinfo=tz)
    day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    clock = f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    offset = local.utcoffset()
    return {
        f"{prefix}_time": f"{day}T{clock}{_offset(offset, colon=True)}",
        f"{prefix}_date": day,
        f"{prefix}_date_compact": day.replace("-", ""),
        f"{prefix}_local_time": f"{day} {clock}",
        f"{prefix}_tz_offset": _offset(offset, colon=False),
        f"{prefix}_unixtime": math.floor(local.timestamp()),
    }


def empty_session_variables(prefix: str, timezone: str) -> dict[str, Any]:
    """What Digdag sets when there is no such session (e.g. ``last_executed_session_*`` of a
    manual run): empty strings, except the offset, which is the zone's offset at epoch 0."""
    tz = parse_timezone(timezone)
    values: dict[str, Any] = {f"{prefix}_{suffix}": "" for suffix in SUFFIXES}
    epoch = datetime(1970, 1, 1, tzinfo=UTC).astimezone(tz)
    values[f"{prefix}_tz_offset"] = _offset(epoch.utcoffset(), colon=False)
    return values
