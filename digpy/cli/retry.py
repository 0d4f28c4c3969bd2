"""`digpy retry ATTEMPT_ID (--resume-from +TASK | --resume | --all)`: a new attempt of a
finished attempt's session, reusing the results of the tasks it does not re-run (spec §6.3):
run here on the local state, or created on a digpy server with ``-e URL``.

``--latest-revision`` (the default) is "fix it, then retry": locally the project's current
``.dig`` files; on a server the workflow of that name in the project's newest pushed
revision. ``--keep-revision`` runs the definition the old attempt ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from digpy.cli.client.backend import endpoint_option
from digpy.cli.run import execute, session_params

if TYPE_CHECKING:
    from digpy.agent.local import LocalEngine
    from digpy.cli.progress import RunView
    from digpy.dsl.model import Workflow
    from digpy.engine.results import RunResult
    from digpy.model.records import Attempt

EPILOG = """\b
Examples:
  digpy retry 3 --resume-from +load    reuse tasks before +load, run +load and after
  digpy retry 3 --resume               reuse every task that succeeded
  digpy retry 3 --all -p target=prod   run everything again with a changed param
  digpy retry 3 --resume -e http://127.0.0.1:65432     on a server: create the attempt

\b
--latest-revision (default): locally the current .dig files, on a server the newest pushed
revision. On a server the new attempt is created and its ids printed; the server runs it.
\b
Exit codes: 0 success (on a server: created), 1 a task failed or was killed, or the server
is unreachable, 2 usage error or unknown attempt, 130 Ctrl-C."""


@click.command(epilog=EPILOG)
@click.argument("attempt_id", type=int)
@click.option("--resume-from", "resume_from", metavar="+TASK",
              help="Re-run +TASK and what follows; reuse the tasks before it.")
@click.option("--resume", is_flag=True, help="Re-run only the tasks that did not succeed.")
@click.option("--all", "run_all", is_flag=True, help="Re-run every task.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Override a param of the old attempt (repeatable).")
@click.option("-P", "--params-file", "params_file", type=click.Path(path_type=Path),
              default=None, metavar="FILE.yml", help="Params from a YAML mapping.")
@click.option("--project", "project_dir", type=click.Path(path_type=Path), default=Path("."),
              help="Project folder whose .digpy/ state holds the attempt.")
@click.option("--name", default=None, help="Name of the new attempt (unique in the session).")
@click.option("--latest-revision/--keep-revision", "latest", default=True,
              help="Run the current .dig files (default) or the old attempt's definition.")
@click.option("--max-task-threads", type=click.IntRange(min=0), default=0,
              help="Operators running at once (0: unlimited).")
@endpoint_option
def retry(attempt_id: int, resume_from: str | None, resume: bool, run_all: bool,
          params: tuple[str, ...], params_file: Path | None, project_dir: Path,
          name: str | None, latest: bool, max_task_threads: int, endpoint: str | None) -> int:
    """Retry a finished attempt (of the local state, or on a server with -e URL)."""
    from digpy.cli.progress import Hints
    from digpy.errors import ConfigError, Conflict

    chosen = [flag for flag, on in (("--resume-from", resume_from is not None),
                                    ("--resume", resume), ("--all", run_all)) if on]
    if len(chosen) != 1:
        given = " and ".join(chosen) if chosen else "none"
        raise click.UsageError(f"give exactly one of --resume-from +TASK, --resume or --all "
                               f"(got {given})")
    values = session_params(params, params_file)
    if endpoint:
        from digpy.cli.client.backend import open_server
        from digpy.cli.client.remote_actions import retry_on_server

        return retry_on_server(open_server(endpoint, "retry"), attempt_id,
                               resume_from=resume_from, resume=resume, latest=latest,
                               params=values, name=name)
    if not project_dir.is_dir():
        raise click.BadParameter(f"{project_dir} is not a folder", param_hint="--project")
    project_args = ("--project", str(project_dir)) if project_dir != Path(".") else ()

    def go(engine: LocalEngine, view: RunView) -> RunResult:
        old = _attempt(engine, attempt_id)
        view.hints = Hints(workflow=old.workflow_name, project_args=project_args)
        workflow = _current(engine, old.workflow_name) if latest else None
        try:
            return engine.retry(attempt_id, resume_from=resume_from,
                                resume="failed" if resume else None, params=values,
                                name=name, workflow=workflow)
        except Conflict as exc:  # a taken --name or a running attempt: the user must act
            raise ConfigError(str(exc)) from None

    return execute(project_dir, go, title=f"Retrying attempt {attempt_id}",
                   hints=Hints(workflow="", project_args=project_args),
                   max_task_threads=max_task_threads)


def _attempt(engine: LocalEngine, attempt_id: int) -> Attempt:
    from digpy.api_python import state_path
    from digpy.errors import ConfigError, NotFound

    try:
        with engine.store.read() as tx:
            return tx.attempts.get_attempt(attempt_id)
    except NotFound:
        raise ConfigError(f"attempt {attempt_id} does not exist in "
                          f"{state_path(engine.project_path)}") from None


def _current(engine: LocalEngine, workflow_name: str) -> Workflow:
    from digpy.api_python import find_workflow

    workflow, _ = find_workflow(engine.project_path, workflow_name)
    return workflow
