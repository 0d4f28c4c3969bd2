"""Reading a session time the user typed (``--session``, ``digpy start --session``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from digpy.dsl.timezones import parse_timezone
from digpy.errors import ConfigError

_LOCAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?$")
_HINT = ("expected yyyy-MM-dd or yyyy-MM-dd HH:mm:ss in the workflow time zone "
         "(e.g. 2016-01-30 or 2016-01-30 09:00:00), or ISO 8601 with an offset "
         "(e.g. 2016-01-30T09:00:00+09:00)")


def parse_session_time(text: str, timezone: str) -> datetime:
    """An aware datetime in ``timezone``. A local wall time skipped by a DST gap moves
    forward by the gap, as Java's ``atZone`` does; a repeated one takes the earlier."""
    tz = parse_timezone(timezone)
    raw = str(text).strip()
    m = _LOCAL.match(raw)
    try:
        if m:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            local = datetime(y, mo, d, h, mi, s, tzinfo=tz)
            return local.astimezone(UTC).astimezone(tz)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"Invalid session time {text!r}: {_HINT}") from None
    if parsed.tzinfo is None or not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", raw):
        raise ConfigError(f"Invalid session time {text!r}: {_HINT}")
    return parsed.astimezone(tz)
