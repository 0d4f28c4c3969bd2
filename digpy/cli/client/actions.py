"""Commands that change state: ``start``, ``kill`` and ``delete`` on the local state, and
the schedule commands that need a digpy server (``reschedule``, ``enable``, ``disable``,
``download``), which say so with exit 2 until the server's client exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from digpy.cli.client.backend import client_options, needs_server, open_backend, using_backend
from digpy.cli.run import execute, session_params

if TYPE_CHECKING:
    from datetime import datetime

    from digpy.agent.local import LocalEngine
    from digpy.cli.progress import RunView
    from digpy.engine.results import RunResult

START_EPILOG = """\b
Examples:
  digpy start etl --session 2016-01-30
  digpy start etl --session daily -p target=prod --project examples/etl

\b
--session: now, hourly, daily, schedule, yyyy-MM-dd or "yyyy-MM-dd HH:mm:ss" in the
workflow's time zone. A session that already has an attempt is not started again: use
`digpy retry ATTEMPT` (exit 2).
\b
Exit codes: 0 success, 1 a task failed or was killed, 2 usage error, bad time or an
existing session."""


@click.command(epilog=START_EPILOG)
@click.argument("workflow_name", metavar="WORKFLOW")
@click.option("--session", "-t", "session", required=True, metavar="WHEN",
              help="Session time: now, hourly, daily, schedule or a time.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A session param (repeatable; dotted keys nest).")
@click.option("-P", "--params-file", "params_file", type=click.Path(path_type=Path),
              default=None, metavar="FILE.yml", help="Session params from a YAML mapping.")
@click.option("--retry", "name", default=None, metavar="NAME",
              help="Name of the attempt (default: the session's first, unnamed attempt).")
@click.option("--now", "now_text", default=None, hidden=True,
              help="Resolve --session against this ISO 8601 instant.")
@client_options
def start(workflow_name: str, session: str, params: tuple[str, ...], params_file: Path | None,
          name: str | None, now_text: str | None, project_dir: Path,
          endpoint: str | None) -> int:
    """Start a new session of a workflow and run it to the end (on the local state)."""
    from digpy.api_python import find_workflow
    from digpy.cli.progress import Hints
    from digpy.cli.sessionopt import parse_now, session_time_for
    from digpy.model.states import Trigger

    if endpoint:  # an unreachable server says so; a reachable one is not supported yet
        open_backend(project_dir, endpoint).close()
        raise needs_local("start")
    workflow, root = find_workflow(project_dir, workflow_name.removesuffix(".dig"))
    values = session_params(params, params_file)
    when = session_time_for(session, workflow, now=parse_now(now_text) or _now(),
                            newest=lambda: None)
    project_args = ("--project", str(project_dir)) if project_dir != Path(".") else ()

    def go(engine: LocalEngine, view: RunView) -> RunResult:
        _refuse_existing(engine, workflow.name, when, name or "", project_args)
        return engine.run(workflow, session_time=when, params=values, rerun=True,
                          attempt_name=name, trigger=Trigger.API, who=_who())

    hints = Hints(workflow=workflow.name, project_args=project_args,
                  session_args=("--session", when.strftime("%Y-%m-%d %H:%M:%S")))
    return execute(root, go, title=f"Starting workflow {workflow.name} ({root})", hints=hints)


def _refuse_existing(engine: LocalEngine, workflow: str, when: datetime, name: str,
                     project_args: tuple[str, ...]) -> None:
    """Digdag's 409 on ``start``: the session exists with this attempt name; point at retry."""
    from digpy.cli.client.local import PROJECT_NAME
    from digpy.cli.progress import Hints
    from digpy.errors import ConfigError

    with engine.store.read() as tx:
        project = tx.projects.find_project(PROJECT_NAME)
        found = tx.sessions.find_session(project.id, workflow, when) if project else None
        existing = tx.attempts.find_attempt(found.id, name) if found else None
    if found is None or existing is None:
        return
    retry = Hints(workflow=workflow, project_args=project_args).retry(existing.id, "--all")
    raise ConfigError(
        f"a session for session time {when.isoformat()} already exists (session id "
        f"{found.id}, attempt id {existing.id}, {existing.status}); to run it again use "
        f"`{retry}` (or --resume / --resume-from +TASK)")


KILL_EPILOG = """\b
Examples:
  digpy kill 7
  digpy kill 7 --project examples/etl

\b
The process running the attempt stops its running tasks, starts nothing else and ends the
attempt as killed (no _error tasks run).
\b
Exit codes: 0 kill requested, 1 the attempt is already done, 2 unknown attempt."""


@click.command(epilog=KILL_EPILOG)
@click.argument("attempt_id", type=int)
@client_options
def kill(attempt_id: int, project_dir: Path, endpoint: str | None) -> int:
    """Kill a running attempt."""
    with using_backend(project_dir, endpoint) as backend:
        if backend.kill(attempt_id):
            click.echo(f"Kill requested for attempt {attempt_id}")
            return 0
        found = backend.attempt(attempt_id)
    what = "already being killed" if found.status == "running" else f"already {found.status}"
    click.echo(f"error: attempt {attempt_id} is {what}; nothing to kill", err=True)
    return 1


DELETE_EPILOG = """\b
Examples:
  digpy delete                  asks before deleting
  digpy delete --force --project examples/etl

\b
Deletes .digpy/state.db (sessions, attempts, tasks) and .digpy/logs/. The .dig files,
local secrets and other files under .digpy/ are kept.
\b
Exit codes: 0 deleted (or nothing to delete), 1 a run is using the state, 130 declined."""


@click.command(epilog=DELETE_EPILOG)
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@client_options
def delete(force: bool, project_dir: Path, endpoint: str | None) -> int:
    """Delete the project's local state: every session, attempt and task log."""
    import shutil

    from digpy.store.sql.local import RunLock, local_state_path

    if endpoint:
        open_backend(project_dir, endpoint).close()
        raise needs_local("delete")
    state = local_state_path(project_dir.resolve())
    logs = state.parent / "logs"
    if not state.exists() and not logs.exists():
        click.echo(f"Nothing to delete: {project_dir} has no local state")
        return 0
    if not force:
        click.confirm(f"Delete {state} and {logs}/?", abort=True)
    with RunLock(state):  # refuses while a run drives attempts (StoreLocked, exit 1)
        for suffix in ("", "-wal", "-shm"):
            state.with_name(state.name + suffix).unlink(missing_ok=True)
        shutil.rmtree(logs, ignore_errors=True)
    state.with_name(state.name + ".lock").unlink(missing_ok=True)
    click.echo(f"Deleted the local state of {project_dir} ({state}, {logs}/)")
    return 0


def needs_local(command: str) -> Exception:
    from digpy.errors import ConfigError

    return ConfigError(f"digpy {command} -e URL is not available yet; drop -e to act on "
                       "the local state")


reschedule = needs_server("reschedule")
enable = needs_server("enable")
disable = needs_server("disable")
download = needs_server("download")


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return ""


def _now() -> datetime:
    from digpy.clock import SystemClock

    return SystemClock().now()
