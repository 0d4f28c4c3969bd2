"""``--session`` for ``digpy run`` (spec §7.1): which session time a local run uses.

Pure and click-free, so the Python API shares it: ``now`` and the newest stored session
are handed in, never read here.

- ``now``: the current instant, exact.
- ``hourly`` / ``daily``: now truncated to the hour / day in the workflow time zone.
- ``schedule``: the latest slot of the workflow's ``schedule:`` before now; an error
  without one.
- ``last`` (the default): the newest session of this workflow in the local state, else
  ``schedule`` when the workflow has one, else today 00:00.
- ``yyyy-MM-dd`` / ``yyyy-MM-dd HH:mm:ss`` in the workflow time zone (or ISO 8601 with an
  offset).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from digpy.dsl.model import Workflow
from digpy.errors import ConfigError

KEYWORDS = ("last", "now", "hourly", "daily", "schedule")
DEFAULT = "last"

NewestSession = Callable[[], datetime | None]


def session_time_for(
    expr: str | None, workflow: Workflow, *, now: datetime, newest: NewestSession
) -> datetime:
    """The session time ``expr`` means for ``workflow`` at ``now``, in the workflow's zone.

    ``newest`` is only called for ``last`` (it reads the state store).
    :raises ConfigError: an unreadable time, or ``schedule`` without ``schedule:``."""
    from digpy.dsl.timezones import parse_timezone

    zone = parse_timezone(workflow.timezone)
    text = (expr or DEFAULT).strip()
    local_now = now.astimezone(zone)
    if text == "now":
        return local_now
    if text == "hourly":
        return _normalized(local_now.replace(minute=0, second=0, microsecond=0))
    if text == "daily":
        return _normalized(datetime.combine(local_now.date(), time(), tzinfo=zone))
    if text == "schedule":
        return _scheduled(workflow, now)
    if text == "last":
        return _last(workflow, now, newest)
    from digpy.dsl.sessiontime import parse_session_time

    try:
        return parse_session_time(text, workflow.timezone)
    except ConfigError:
        raise ConfigError(
            f"--session {text!r} is not a session: use one of {', '.join(KEYWORDS)}, "
            "yyyy-MM-dd or 'yyyy-MM-dd HH:mm:ss' (in the workflow time zone)"
        ) from None


def _last(workflow: Workflow, now: datetime, newest: NewestSession) -> datetime:
    from digpy.dsl.timezones import parse_timezone

    found = newest()
    if found is not None:
        return found.astimezone(parse_timezone(workflow.timezone))
    if workflow.schedule is not None:
        return _scheduled(workflow, now)
    return session_time_for("daily", workflow, now=now, newest=newest)


def _scheduled(workflow: Workflow, now: datetime) -> datetime:
    if workflow.schedule is None:
        raise ConfigError(
            f"--session schedule needs a schedule: in workflow {workflow.name} "
            "(it has none); use --session daily, hourly, now or a time"
        )
    from digpy.dsl.timezones import parse_timezone
    from digpy.scheduler.triggers import ScheduleTimes

    times = ScheduleTimes(workflow.schedule, workflow.timezone)
    return times.latest_session_before(now).astimezone(parse_timezone(workflow.timezone))


def _normalized(local: datetime) -> datetime:
    """A wall time that DST skipped or repeated, resolved as Java's ``atZone`` does
    (a round trip through UTC picks a real instant)."""
    from datetime import UTC

    zone = local.tzinfo
    return local.astimezone(UTC).astimezone(zone)


def parse_now(text: str | None) -> datetime | None:
    """The hidden ``--now`` option (ISO 8601; UTC when no offset): tests and what-ifs
    resolve ``--session`` against a chosen instant instead of the system clock."""
    if text is None:
        return None
    from datetime import UTC

    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--now {text!r} is not ISO 8601 (e.g. 2016-01-30T09:00:00+00:00)"
                          ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
