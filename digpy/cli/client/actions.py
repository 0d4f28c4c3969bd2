"""Commands that change state: ``start``, ``kill`` and ``delete``, on the local state or a
digpy server (``-e URL``; remote_actions.py, remote_projects.py). The schedule commands are
in schedule_commands.py, ``download`` in remote_projects.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from digpy.cli.client.backend import client_options, open_server, split_target, using_backend
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
  digpy start myproject etl --session daily -e http://127.0.0.1:65432

\b
--session: now, hourly, daily, schedule, yyyy-MM-dd or "yyyy-MM-dd HH:mm:ss" in the
workflow's time zone. A session that already has an attempt is not started again: use
`digpy retry ATTEMPT` (exit 2). On the local state the attempt runs in this process; on a
server (PROJECT WORKFLOW -e URL) it is created and its ids printed (follow it with
`digpy log ATTEMPT -f -e URL`).
\b
Exit codes: 0 success (on a server: created), 1 a task failed or was killed, or the server
is unreachable, 2 usage error, bad time, unknown workflow or an existing session."""


@click.command(epilog=START_EPILOG)
@click.argument("target", nargs=-1, required=True, metavar="[PROJECT] WORKFLOW")
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
def start(target: tuple[str, ...], session: str, params: tuple[str, ...],
          params_file: Path | None, name: str | None, now_text: str | None, project_dir: Path,
          endpoint: str | None) -> int:
    """Start a new session of a workflow: run it to the end here (local state), or create
    it on a server (-e URL)."""
    from digpy.cli.sessionopt import parse_now

    project, workflow_name = split_target(target, server=bool(endpoint),
                                          usage="digpy start PROJECT WORKFLOW -e URL")
    if workflow_name is None or (endpoint and project is None):
        raise click.UsageError("name the project and the workflow: digpy start PROJECT "
                               "WORKFLOW --session WHEN -e URL")
    values = session_params(params, params_file)
    if endpoint:
        from digpy.cli.client.remote_actions import start_on_server

        return start_on_server(open_server(endpoint, "start"), str(project), workflow_name,
                               session=session, params=values, name=name,
                               now=parse_now(now_text) or _now())
    return _start_here(workflow_name, session, values, name, parse_now(now_text), project_dir)


def _start_here(workflow_name: str, session: str, values: dict[str, Any], name: str | None,
                now: datetime | None, project_dir: Path) -> int:
    """``start`` on the local state: the new session runs in this process."""
    from digpy.api_python import find_workflow
    from digpy.cli.progress import Hints
    from digpy.cli.sessionopt import session_time_for
    from digpy.model.states import Trigger

    workflow, root = find_workflow(project_dir, workflow_name.removesuffix(".dig"))
    when = session_time_for(session, workflow, now=now or _now(), newest=lambda: None)
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
  digpy kill 7 -e http://127.0.0.1:65432

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
  digpy delete etl -e http://127.0.0.1:65432

\b
Locally: deletes .digpy/state.db (sessions, attempts, tasks) and .digpy/logs/. The .dig
files, local secrets and other files under .digpy/ are kept. On a server (PROJECT -e URL):
deletes the pushed project and its schedules; its sessions and logs are kept.
\b
Exit codes: 0 deleted (or nothing to delete), 1 a run is using the state or the server is
unreachable, 2 unknown project, 130 declined."""


@click.command(epilog=DELETE_EPILOG)
@click.argument("project", required=False)
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@client_options
def delete(project: str | None, force: bool, project_dir: Path, endpoint: str | None) -> int:
    """Delete the project's local state (every session, attempt and task log), or a pushed
    project on a server."""
    import shutil

    from digpy.store.sql.local import RunLock, local_state_path

    if endpoint:
        from digpy.cli.client.remote_projects import delete_on_server

        return delete_on_server(endpoint, project, force)
    if project is not None:
        raise click.UsageError(f"PROJECT ({project}) names a project on a server: add -e URL; "
                               "`digpy delete --project DIR` deletes a folder's local state")
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


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return ""


def _now() -> datetime:
    from digpy.clock import SystemClock

    return SystemClock().now()
