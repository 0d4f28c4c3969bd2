"""Listings of the local state (or a server's): ``workflows``, ``schedules``, ``sessions``,
``session``, ``attempts``, ``attempt`` and ``tasks`` (spec §7.3). Each prints through
output.py, so ``--json``/``--jsonl``/``--tsv`` work the same everywhere.

Exit codes: 0 listed (an empty list too); 2 usage error, unknown id or bad time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from digpy.cli.client.backend import client_options, split_target, using_backend
from digpy.cli.client.output import (
    Column,
    emit_detail,
    emit_listing,
    fmt_duration,
    output_options,
    status_style,
)
from digpy.cli.client.views import AttemptView, SessionView, TaskView

F = TypeVar("F", bound=Callable[..., Any])
STATUSES = ("success", "error", "killed", "running")
EVERY = 1 << 62


def _examples(*lines: str) -> str:
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines) + (
        "\n\n\b\nExit codes: 0 ok, 2 usage error, unknown id or bad time.")


def _limit_option(func: F) -> F:
    return click.option("-s", "--page-size", "limit", type=click.IntRange(min=1), default=100,
                        show_default=True, help="Show at most this many.")(func)


@click.command(epilog=_examples("digpy workflows", "digpy workflows --json --project etl",
                                "digpy workflows etl -e http://127.0.0.1:65432"))
@click.argument("project", required=False)
@client_options
@output_options
def workflows(project: str | None, project_dir: Path, endpoint: str | None,
              fmt: str | None) -> int:
    """List the project's workflows with their time zone and schedule (on a server: every
    project's, or PROJECT's)."""
    split_target((project,) if project else (), server=bool(endpoint),
                 usage="digpy workflows [PROJECT] -e URL")
    with using_backend(project_dir, endpoint) as backend:
        items = backend.workflows(project)
    emit_listing(items, [Column("Workflow", lambda w: w.name),
                         Column("Timezone", lambda w: w.timezone),
                         Column("Tasks", lambda w: w.tasks),
                         Column("Schedule", lambda w: w.schedule),
                         Column("Revision", lambda w: w.revision)],
                 fmt, empty="no workflows (no .dig files in the project)")
    return 0


@click.command(epilog=_examples("digpy schedules", "digpy schedules --json",
                                "digpy schedules etl -e http://127.0.0.1:65432"))
@click.argument("project", required=False)
@client_options
@output_options
@click.option("--now", "now_text", default=None, hidden=True, help="Pretend it is this instant.")
def schedules(project: str | None, project_dir: Path, endpoint: str | None, fmt: str | None,
              now_text: str | None) -> int:
    """List schedules with their next session time and next run time (on a server: with
    their ids, for backfill, reschedule, enable and disable)."""
    from digpy.cli.sessionopt import parse_now

    split_target((project,) if project else (), server=bool(endpoint),
                 usage="digpy schedules [PROJECT] -e URL")
    now = parse_now(now_text) or _now()
    with using_backend(project_dir, endpoint) as backend:
        items = backend.schedules(now, project)
    emit_listing(items, [*([Column("Id", lambda s: s.id), Column("Project", lambda s: s.project)]
                           if endpoint else []),
                         Column("Workflow", lambda s: s.workflow),
                         Column("Schedule", lambda s: s.schedule),
                         Column("Next session time", lambda s: s.next_session_time or "ended"),
                         Column("Next run time", lambda s: s.next_run_time),
                         Column("In", lambda s: _until(now, s.next_run_time)),
                         *([Column("Disabled", lambda s: "disabled" if s.disabled else "")]
                           if endpoint else [])],
                 fmt, empty="no schedules (no workflow has a schedule:)")
    return 0


SESSION_COLUMNS = [
    Column("Session", lambda s: s.id),
    Column("Attempt", lambda s: s.last_attempt.id if s.last_attempt else None),
    Column("Workflow", lambda s: s.workflow),
    Column("Session time", lambda s: s.session_time),
    Column("Status", lambda s: s.status, lambda s: status_style(s.status)),
    Column("Created", lambda s: s.last_attempt.created_at if s.last_attempt else None),
    Column("Duration", lambda s: fmt_duration(s.last_attempt.duration)
           if s.last_attempt else None),
]


@click.command(epilog=_examples(
    "digpy sessions                       each session's last attempt, newest first",
    "digpy sessions etl --status error",
    "digpy sessions --since 2016-01-01 --jsonl",
    "digpy sessions myproject etl -e http://127.0.0.1:65432"))
@click.argument("target", nargs=-1, metavar="[PROJECT] [WORKFLOW]")
@click.option("--status", type=click.Choice(STATUSES), default=None,
              help="Only sessions whose last attempt has this status.")
@click.option("--since", default=None, metavar="TIME",
              help="Only sessions at or after TIME (yyyy-MM-dd[ HH:mm:ss], workflow zone).")
@_limit_option
@client_options
@output_options
def sessions(target: tuple[str, ...], status: str | None, since: str | None, limit: int,
             project_dir: Path, endpoint: str | None, fmt: str | None) -> int:
    """List sessions with their last attempt, newest first. WORKFLOW on the local state;
    [PROJECT [WORKFLOW]] on a server."""
    project, workflow = split_target(target, server=bool(endpoint),
                                      usage="digpy sessions [PROJECT [WORKFLOW]] -e URL")
    _check_time(since, "--since")
    with using_backend(project_dir, endpoint) as backend:
        items = backend.sessions(workflow, limit=EVERY if status or since else limit,
                                 project=project)
    items = [s for s in items if (status is None or s.status == status)
             and (since is None or s.session_time >= _since(since, s))][:limit]
    emit_listing(items, SESSION_COLUMNS, fmt, empty="no sessions")
    return 0


@click.command(epilog=_examples("digpy session 3", "digpy session 3 --json"))
@click.argument("session_id", type=int)
@client_options
@output_options
def session(session_id: int, project_dir: Path, endpoint: str | None, fmt: str | None) -> int:
    """Show one session and its last attempt."""
    with using_backend(project_dir, endpoint) as backend:
        item = backend.session(session_id)
    last = item.last_attempt
    lines: list[tuple[str, object]] = [
        ("session id", item.id), ("uuid", item.uuid), ("project", item.project),
        ("workflow", item.workflow), ("session time", item.session_time),
        ("status", item.status)]
    if last is not None:
        lines += [("last attempt id", last.id), ("attempt name", last.name),
                  ("created at", last.created_at), ("finished at", last.finished_at)]
    emit_detail(item, lines, fmt)
    return 0


ATTEMPT_COLUMNS = [
    Column("Attempt", lambda a: a.id),
    Column("Session", lambda a: a.session_id),
    Column("Index", lambda a: a.index),
    Column("Name", lambda a: a.name),
    Column("Workflow", lambda a: a.workflow),
    Column("Session time", lambda a: a.session_time),
    Column("Status", lambda a: a.status, lambda a: status_style(a.status)),
    Column("Trigger", lambda a: a.trigger),
    Column("Created", lambda a: a.created_at),
    Column("Duration", lambda a: fmt_duration(a.duration)),
]


@click.command(epilog=_examples("digpy attempts                       every attempt, newest first",
                                "digpy attempts --session 3 --json"))
@click.option("--session", "session_id", type=int, default=None, metavar="ID",
              help="Only the attempts of this session (retries included).")
@_limit_option
@client_options
@output_options
def attempts(session_id: int | None, limit: int, project_dir: Path, endpoint: str | None,
             fmt: str | None) -> int:
    """List attempts, retried ones included, newest first."""
    with using_backend(project_dir, endpoint) as backend:
        items = backend.attempts(session_id, limit=limit)
    emit_listing(items, ATTEMPT_COLUMNS, fmt, empty="no attempts")
    return 0


@click.command(epilog=_examples("digpy attempt 7", "digpy attempt 7 --json"))
@click.argument("attempt_id", type=int)
@client_options
@output_options
def attempt(attempt_id: int, project_dir: Path, endpoint: str | None, fmt: str | None) -> int:
    """Show one attempt: session, status, params, times and error."""
    with using_backend(project_dir, endpoint) as backend:
        item = backend.attempt(attempt_id)
    emit_detail(item, attempt_lines(item), fmt)
    if fmt is None and item.status == "error":
        where = f" --project {project_dir}" if project_dir != Path(".") else ""
        click.echo(f"\nSee the failed tasks: digpy tasks {item.id}{where}")
    return 0


def attempt_lines(a: AttemptView) -> list[tuple[str, object]]:
    return [("attempt id", a.id), ("session id", a.session_id), ("index", a.index),
            ("name", a.name), ("project", a.project), ("workflow", a.workflow),
            ("session time", a.session_time), ("status", a.status),
            ("trigger", a.trigger), ("who", a.who), ("revision", a.revision),
            ("params", dict(a.params)), ("created at", a.created_at),
            ("finished at", a.finished_at), ("duration", fmt_duration(a.duration)),
            ("kill requested", str(a.cancel_requested).lower()), ("error", a.error)]


TASK_COLUMNS = [
    Column("Id", lambda t: t.id),
    Column("Name", lambda t: t.full_name),
    Column("State", lambda t: t.state, lambda t: status_style(t.state)),
    Column("Started", lambda t: t.started_at),
    Column("Duration", lambda t: fmt_duration(t.duration)),
    Column("Retries", lambda t: t.retry_count),
    Column("Error", lambda t: t.error),
    Column("Store params", lambda t: dict(t.store_params) or None),
]


@click.command(epilog=_examples("digpy tasks 7", "digpy tasks 7 --json | jq '.[] | "
                                "select(.state == \"error\")'"))
@click.argument("attempt_id", type=int)
@client_options
@output_options
def tasks(attempt_id: int, project_dir: Path, endpoint: str | None, fmt: str | None) -> int:
    """List an attempt's tasks: state, times, retries, error and stored params."""
    with using_backend(project_dir, endpoint) as backend:
        items: list[TaskView] = backend.tasks(attempt_id)
    emit_listing(items, TASK_COLUMNS, fmt, empty=f"attempt {attempt_id} has no tasks")
    return 0


def _check_time(text: str | None, option: str) -> None:
    """A bad time is a usage error (exit 2) before anything is read."""
    if text is None:
        return
    from digpy.dsl.sessiontime import parse_session_time
    from digpy.errors import ConfigError

    try:
        parse_session_time(text, "UTC")
    except ConfigError:
        raise ConfigError(f"{option} {text!r} is not a time: use yyyy-MM-dd, "
                          "'yyyy-MM-dd HH:mm:ss' or ISO 8601 with an offset") from None


def _since(text: str, session: SessionView) -> datetime:
    """``--since`` read in the session's workflow time zone, as ``--session`` is."""
    from digpy.dsl.sessiontime import parse_session_time

    zone = session.last_attempt.timezone if session.last_attempt else "UTC"
    return parse_session_time(text, zone)


def _until(now: datetime, when: datetime | None) -> str:
    if when is None:
        return ""
    return "in " + fmt_duration(max((when - now).total_seconds(), 0))


def _now() -> datetime:
    from digpy.clock import SystemClock

    return SystemClock().now()
