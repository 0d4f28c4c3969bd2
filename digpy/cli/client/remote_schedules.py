"""Schedule control on a digpy server: ``backfill``, ``reschedule``, ``enable`` and
``disable`` (spec §5.5). A schedule is named by its id or by ``PROJECT [WORKFLOW]``; times
given by the user are read in the schedule's time zone, as the local commands read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from digpy.cli.client import wire
from digpy.cli.client.http import ConflictOnServer, NotFoundOnServer, path
from digpy.cli.client.output import fmt_time
from digpy.cli.client.remote import HttpBackend
from digpy.cli.client.views import ScheduleView
from digpy.errors import ConfigError


def find_schedules(backend: HttpBackend, target: Sequence[str], *, one: bool
                   ) -> list[dict[str, Any]]:
    """``SCHEDULE_ID``, ``PROJECT`` (all its schedules) or ``PROJECT WORKFLOW``.

    :raises ConfigError: nothing matches, or several when ``one`` is asked for (exit 2)."""
    if not target or len(target) > 2:
        raise click.UsageError("name a schedule: SCHEDULE_ID, or PROJECT WORKFLOW")
    if len(target) == 1 and target[0].isdigit():
        try:
            return [dict(backend.client.get(path("api", "schedules", target[0])))]
        except NotFoundOnServer:
            raise ConfigError(f"schedule {target[0]} does not exist on {backend.description}; "
                              f"`digpy schedules -e {backend.description}` lists them") from None
    project_id = backend.project(target[0])["id"]
    workflow = target[1] if len(target) > 1 else None
    found = backend.client.get(path("api", "projects", project_id, "schedules",
                                    workflow=workflow)).get("schedules") or []
    what = " ".join(target)
    if not found:
        raise ConfigError(f"{what} has no schedule on {backend.description}")
    if one and len(found) > 1:
        raise ConfigError(f"project {what} has {len(found)} schedules: name the workflow too")
    return [dict(s) for s in found]


def user_time(text: str, option: str, schedule: dict[str, Any]) -> str:
    """A user's time in the schedule's zone, as ISO 8601 with the offset."""
    from digpy.dsl.sessiontime import parse_session_time

    try:
        return parse_session_time(text, str(schedule.get("timezone") or "UTC")).isoformat()
    except ConfigError:
        raise ConfigError(f"{option} {text!r} is not a time: use yyyy-MM-dd or "
                          "'yyyy-MM-dd HH:mm:ss' (in the workflow time zone)") from None


def backfill_on_server(backend: HttpBackend, target: Sequence[str], *, from_text: str,
                       to_text: str | None, count: int | None, name: str,
                       dry_run: bool) -> int:
    """Create one attempt per slot; the server runs them one after another."""
    schedule = find_schedules(backend, target, one=True)[0]
    body = {"fromTime": user_time(from_text, "--from", schedule), "attemptName": name,
            "count": count, "dryRun": dry_run,
            "toTime": user_time(to_text, "--to", schedule) if to_text else None}
    target_path = path("api", "schedules", schedule["id"], "backfill")
    try:
        answer = backend.client.send("POST", target_path, body).json()
    except ConflictOnServer as exc:
        raise ConfigError(f"{exc}; nothing was started: use another --name") from None
    view = wire.schedule(schedule)
    zone = view.next_session_time.tzinfo if view.next_session_time else None
    times = [wire.when(t, zone) for t in answer.get("sessionTimes") or []]
    click.echo(f"Backfilling workflow {view.workflow} of project {view.project}: "
               f"{len(times)} session(s), attempt name {name}")
    started = {a.session_time: a for a in map(wire.attempt, answer.get("attempts") or [])}
    for when in times:
        attempt = started.get(when) if when else None
        state = (f"session {attempt.session_id}  attempt {attempt.id}" if attempt
                 else ("" if dry_run else "waits for the one before"))
        click.echo(f"  {fmt_time(when)}  {state}".rstrip())
    if dry_run:
        click.echo("Dry run: nothing was started.")
        return 0
    # The server starts each slot when the previous one is done (spec §5.5: sequential).
    click.echo(f"Started: the server runs them one after another, oldest first; "
               f"`digpy sessions {view.project} {view.workflow} -e {backend.description}` "
               "shows how far it got.")
    return 0


def reschedule_on_server(backend: HttpBackend, target: Sequence[str], *, skip: int | None,
                         skip_to: str | None, run_at: str | None, dry_run: bool,
                         now: datetime) -> int:
    schedule = find_schedules(backend, target, one=True)[0]
    body: dict[str, Any] = {"dryRun": dry_run}
    if skip is not None:
        body.update(count=skip, fromTime=now.isoformat())
    elif skip_to == "now":
        body.update(nextTime=now.isoformat())
    elif skip_to is not None:
        body.update(nextTime=user_time(skip_to, "--skip-to", schedule))
    if run_at is not None:
        body.update(nextRunTime=user_time(run_at, "--run-at", schedule))
    moved = wire.schedule(backend.client.send(
        "POST", path("api", "schedules", schedule["id"], "skip"), body).json())
    verb = "Would move" if dry_run else "Moved"
    click.echo(f"{verb} schedule {moved.id} ({moved.project} {moved.workflow}): next session "
               f"{fmt_time(moved.next_session_time)}, runs at {fmt_time(moved.next_run_time)}")
    return 0


def switch_on_server(backend: HttpBackend, target: Sequence[str], *, enable: bool,
                     skip_missed: bool = False) -> list[ScheduleView]:
    """Disable or enable every schedule ``target`` names; their new state."""
    action = "enable" if enable else "disable"
    body = {"skipSchedule": True} if enable and skip_missed else None
    return [wire.schedule(backend.client.send(
                "POST", path("api", "schedules", s["id"], action), body or {}).json())
            for s in find_schedules(backend, target, one=False)]
