"""``digpy backfill WORKFLOW --from TIME [--to TIME | --count N] [--name NAME] [--dry-run]``:
run a schedule's past slots on the local state, one attempt per slot, oldest first, one
after another (spec §5.5: backfill is sequential; users rely on that, Digdag #929).

Slots run from the first one at or after ``--from`` up to, not including, ``--to`` (default:
the schedule's next slot from now), at most ``--count``. Every attempt is named ``--name``
(default: a new UUID); a slot whose session already has an attempt of that name rejects the
whole backfill before anything runs (Digdag's 409). The first failed slot stops the backfill.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from digpy.cli.client.backend import client_options, open_server
from digpy.cli.client.output import fmt_duration, fmt_time

if TYPE_CHECKING:
    from digpy.agent.local import LocalEngine
    from digpy.dsl.model import Workflow
    from digpy.engine.results import RunResult

EPILOG = """\b
Examples:
  digpy backfill etl --from 2016-01-01 --count 3        three daily sessions
  digpy backfill etl --from 2016-01-01 --to 2016-02-01 --name january
  digpy backfill etl --from 2016-01-01 --dry-run        print the session times only
  digpy backfill myproject etl --from 2016-01-01 --count 3 -e http://127.0.0.1:65432
  digpy backfill 4 --from 2016-01-01 --count 3 -e URL   schedule 4 (`digpy schedules -e URL`)

\b
On a server the attempts are created at once and the server runs them one after another;
the command returns when they are created (`digpy sessions PROJECT WORKFLOW -e URL` shows
how far it got).

\b
Times: yyyy-MM-dd or "yyyy-MM-dd HH:mm:ss" in the workflow's time zone.
\b
Exit codes: 0 every slot succeeded (or --dry-run; on a server: created), 1 a slot failed
(the rest were not started) or the server is unreachable, 2 usage error, bad time, no
schedule:, no slot, or --name already used."""


@dataclass(frozen=True, slots=True)
class Plan:
    workflow: Workflow
    root: Path
    slots: tuple[datetime, ...]
    name: str


@click.command(epilog=EPILOG)
@click.argument("target", nargs=-1, required=True,
                metavar="WORKFLOW | PROJECT WORKFLOW | SCHEDULE_ID")
@click.option("-f", "--from", "from_text", required=True, metavar="TIME",
              help="The first session time (the first slot at or after it).")
@click.option("--to", "to_text", default=None, metavar="TIME",
              help="Stop before this session time (default: the next scheduled slot).")
@click.option("--count", type=click.IntRange(min=1), default=None,
              help="Run at most this many slots.")
@click.option("--name", default=None, help="Name of every attempt (default: a new UUID).")
@click.option("-d", "--dry-run", "dry_run", is_flag=True,
              help="Print the session times that would run; run nothing.")
@click.option("--now", "now_text", default=None, hidden=True,
              help="Pretend it is this ISO 8601 instant.")
@client_options
def backfill(target: tuple[str, ...], from_text: str, to_text: str | None, count: int | None,
             name: str | None, dry_run: bool, now_text: str | None, project_dir: Path,
             endpoint: str | None) -> int:
    """Run a schedule's past slots one after another, one attempt each."""
    from digpy.cli.sessionopt import parse_now

    if to_text is not None and count is not None:
        raise click.UsageError("give --to or --count, not both")
    if endpoint:
        from digpy.cli.client.remote_schedules import backfill_on_server

        return backfill_on_server(open_server(endpoint, "backfill"), target,
                                  from_text=from_text, to_text=to_text, count=count,
                                  name=name or uuid.uuid4().hex, dry_run=dry_run)
    if len(target) != 1:
        raise click.UsageError("name one workflow (PROJECT WORKFLOW and SCHEDULE_ID are for "
                               "a server: add -e URL)")
    plan = _plan(project_dir, target[0], from_text, to_text, count,
                 name or uuid.uuid4().hex, parse_now(now_text))
    if dry_run:
        _header(plan)
        for when in plan.slots:
            click.echo(f"  {fmt_time(when)}")
        click.echo("Dry run: nothing was started.")
        return 0
    return _run(plan)


def _plan(project_dir: Path, workflow_name: str, from_text: str, to_text: str | None,
          count: int | None, name: str, now: datetime | None) -> Plan:
    from digpy.api_python import find_workflow
    from digpy.errors import ConfigError
    from digpy.scheduler.triggers import ScheduleTimes, is_never

    workflow, root = find_workflow(project_dir, workflow_name.removesuffix(".dig"))
    if workflow.schedule is None:
        raise ConfigError(f"workflow {workflow.name} has no schedule: to backfill; use "
                          f"`digpy start {workflow.name} --session TIME` for one session")
    times = ScheduleTimes(workflow.schedule, workflow.timezone)
    first = _time(from_text, "--from", workflow.timezone)
    if to_text is not None:
        end = _time(to_text, "--to", workflow.timezone)
    else:
        end = times.first_slot(now or _now()).session_time
    slots: list[datetime] = []
    when = times.next_session_time(first - timedelta(microseconds=1))
    while not is_never(when) and when < end and (count is None or len(slots) < count):
        slots.append(when)
        when = times.next_session_time(when)
    if not slots:
        raise ConfigError(f"no slot of {workflow.name}'s schedule from {fmt_time(first)} "
                          f"to {fmt_time(end)}")
    if count is not None and len(slots) < count:
        raise ConfigError(f"only {len(slots)} slot(s) of {workflow.name}'s schedule from "
                          f"{fmt_time(first)} are before {fmt_time(end)}; asked for {count}")
    return Plan(workflow, root, tuple(slots), name)


def _run(plan: Plan) -> int:
    from digpy.api_python import LocalRun

    with LocalRun(plan.root) as local:
        _refuse_taken_name(local.engine, plan)
        _header(plan)
        previous = _previous_session(local.engine, plan)
        for index, when in enumerate(plan.slots):
            result = _run_slot(local.engine, plan, when, previous)
            previous = when
            status = str(result.status)
            took = fmt_duration(_took(result))
            click.echo(f"  {fmt_time(when)}  session {result.session_id}  attempt "
                       f"{result.attempt_id}  {status}  {took}".rstrip())
            if not result.success:
                _explain_failure(plan, result, plan.slots[index + 1:])
                return 1
    click.echo(f"Success: {len(plan.slots)} session(s) backfilled.")
    return 0


def _header(plan: Plan) -> None:
    click.echo(f"Backfilling workflow {plan.workflow.name}: {len(plan.slots)} session(s), "
               f"attempt name {plan.name}")


def _run_slot(engine: LocalEngine, plan: Plan, when: datetime,
              previous: datetime | None) -> RunResult:
    from digpy.cli.client.actions import _who
    from digpy.model.states import Trigger

    return engine.run(plan.workflow, session_time=when, rerun=True, attempt_name=plan.name,
                      trigger=Trigger.BACKFILL, who=_who(),
                      last_executed_session_time=previous)


def _refuse_taken_name(engine: LocalEngine, plan: Plan) -> None:
    from digpy.cli.client.local import PROJECT_NAME
    from digpy.errors import ConfigError

    with engine.store.read() as tx:
        project = tx.projects.find_project(PROJECT_NAME)
        if project is None:
            return
        for when in plan.slots:
            found = tx.sessions.find_session(project.id, plan.workflow.name, when)
            taken = tx.attempts.find_attempt(found.id, plan.name) if found else None
            if taken is not None:
                raise ConfigError(
                    f"session {fmt_time(when)} already has an attempt named {plan.name} "
                    f"(attempt {taken.id}); nothing was started: use another --name")


def _previous_session(engine: LocalEngine, plan: Plan) -> datetime | None:
    """``last_executed_session_time`` of the first slot: the newest earlier session."""
    from digpy.cli.client.local import EVERY, PROJECT_NAME

    with engine.store.read() as tx:
        project = tx.projects.find_project(PROJECT_NAME)
        sessions = (tx.sessions.list_sessions(project.id, plan.workflow.name, limit=EVERY)
                    if project else [])
    earlier = [s.session_time for s in sessions if s.session_time < plan.slots[0]]
    return max(earlier, default=None)


def _explain_failure(plan: Plan, result: RunResult, rest: tuple[datetime, ...]) -> None:
    for task in result.failed_tasks:
        message = str((task.error or {}).get("message") or task.error or "")
        click.echo(f"    {task.full_name}: {message}")
        click.echo(f"    log: digpy log {result.attempt_id} {task.full_name} --project "
                   f"{plan.root}")
    if rest:
        click.echo(f"Stopped: {len(rest)} later session(s) not started: "
                   + ", ".join(fmt_time(w) for w in rest))


def _took(result: RunResult) -> float | None:
    starts = [t.started_at for t in result.tasks if t.started_at]
    ends = [t.finished_at for t in result.tasks if t.finished_at]
    if not starts or not ends:
        return None
    return (max(ends) - min(starts)).total_seconds()


def _time(text: str, option: str, timezone: str) -> datetime:
    from digpy.dsl.sessiontime import parse_session_time
    from digpy.errors import ConfigError

    try:
        return parse_session_time(text, timezone)
    except ConfigError:
        raise ConfigError(f"{option} {text!r} is not a time: use yyyy-MM-dd or "
                          "'yyyy-MM-dd HH:mm:ss' (in the workflow time zone)") from None


def _now() -> datetime:
    from digpy.clock import SystemClock

    return SystemClock().now()
