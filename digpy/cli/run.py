"""`digpy run [WORKFLOW[.dig]] [+TASK] [options]`: run one workflow in this process with
Digdag's local-mode meaning (spec §7.1), keeping state in ``<project>/.digpy/`` so a second
run of the same session skips what already succeeded.

Exit codes: 0 success; 1 a task failed or the attempt was killed; 2 a usage or definition
error; 130 interrupted with Ctrl-C (the attempt is killed and can be retried).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from digpy.cli.params import parse_params

if TYPE_CHECKING:
    from digpy.agent.local import LocalEngine
    from digpy.cli.progress import RunView
    from digpy.engine.results import RunResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

EPILOG = """\b
Examples:
  digpy run                            the project's only workflow, session "last"
  digpy run etl --project examples/etl
  digpy run etl.dig +load              only +load's subtree (plus the root)
  digpy run etl --session 2016-01-30 -p target=prod -P params.yml
  digpy run etl --rerun                ignore what succeeded before
  digpy run etl --start +load          reuse tasks before +load, run +load and after
  digpy run etl --dry-run              show what would run; call no operator

\b
--session: last (default: the newest session of this workflow in .digpy/, else the
latest schedule slot, else today 00:00), now, hourly, daily, schedule, yyyy-MM-dd or
"yyyy-MM-dd HH:mm:ss", in the workflow's time zone.
\b
Exit codes: 0 success, 1 a task failed or was killed, 2 usage or .dig error, 130 Ctrl-C."""


@click.command(epilog=EPILOG)
@click.argument("targets", nargs=-1, metavar="[WORKFLOW[.dig]] [+TASK]")
@click.option("--project", "project_dir", type=click.Path(path_type=Path), default=None,
              help="Project folder (default: the folder of WORKFLOW.dig, else '.').")
@click.option("--session", "-t", "--session-time", "session", default=None, metavar="WHEN",
              help="Session time: last, now, hourly, daily, schedule or a time.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A session param (repeatable; dotted keys nest).")
@click.option("-P", "--params-file", "params_file", type=click.Path(path_type=Path),
              default=None, metavar="FILE.yml", help="Session params from a YAML mapping.")
@click.option("-a", "--rerun", "--all", "rerun", is_flag=True,
              help="Run every task, ignoring what succeeded before.")
@click.option("-s", "--start", metavar="+TASK", help="Reuse tasks before +TASK, run the rest.")
@click.option("-g", "--goal", metavar="+TASK", help="Run up to +TASK and its subtree only.")
@click.option("-e", "--end", metavar="+TASK", help="Skip +TASK and everything after it.")
@click.option("-d", "--dry-run", "dry_run", is_flag=True,
              help="Call no operator: every task succeeds with an empty result.")
@click.option("--max-task-threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="Operators running at once (0: unlimited).")
@click.option("--now", "now_text", default=None, hidden=True,
              help="Resolve --session against this ISO 8601 instant (tests, what-ifs).")
def run(targets: tuple[str, ...], project_dir: Path | None, session: str | None,
        params: tuple[str, ...], params_file: Path | None, rerun: bool, start: str | None,
        goal: str | None, end: str | None, dry_run: bool, max_task_threads: int,
        now_text: str | None) -> int:
    """Run a workflow locally and wait for it to finish."""
    from digpy.api_python import find_workflow, newest_session
    from digpy.cli.progress import Hints
    from digpy.cli.sessionopt import parse_now, session_time_for

    name, only = _split_targets(targets)
    where, name, project_args = _locate(name, project_dir)
    workflow, root = find_workflow(where, name)
    values = session_params(params, params_file)
    now = parse_now(now_text) or _system_now()
    hints = Hints(workflow=workflow.name, project_args=project_args)

    def go(engine: LocalEngine, view: RunView) -> RunResult:
        when = session_time_for(session, workflow, now=now,
                                newest=lambda: newest_session(engine, workflow.name))
        if session not in (None, "last"):  # hints name the same session, not "now" again
            view.hints = replace(hints, session_args=(
                "--session", when.strftime("%Y-%m-%d %H:%M:%S")))
        return engine.run(workflow, session_time=when, params=values, rerun=rerun,
                          start=start, goal=goal, end=end, only=only)

    return execute(root, go, title=f"Running workflow {workflow.name} ({root})", hints=hints,
                   dry_run=dry_run, max_task_threads=max_task_threads)


def _split_targets(targets: Sequence[str]) -> tuple[str | None, str | None]:
    """``[WORKFLOW] [+TASK]`` in either order."""
    names = [t for t in targets if not t.startswith("+")]
    tasks = [t for t in targets if t.startswith("+")]
    if len(names) > 1 or len(tasks) > 1:
        raise click.UsageError("expected at most one WORKFLOW and one +TASK, got "
                               + " ".join(targets))
    return (names[0] if names else None), (tasks[0] if tasks else None)


def _locate(name: str | None, project_dir: Path | None
            ) -> tuple[Path, str | None, tuple[str, ...]]:
    """(where to look, workflow name, the ``--project`` words for hints). A WORKFLOW given
    as a path names its folder as the project, unless ``--project`` says otherwise."""
    if project_dir is not None:
        bare = Path(name).name.removesuffix(".dig") if name else None
        return project_dir, bare, ("--project", str(project_dir))
    if name is None:
        return Path("."), None, ()
    path = Path(name if name.endswith(".dig") else name + ".dig")
    if path.parent != Path("."):
        return path, None, ("--project", str(path.parent))
    return Path("."), name.removesuffix(".dig"), ()


def session_params(items: Sequence[str], params_file: Path | None) -> dict[str, Any]:
    """``-P`` first, then ``-p`` on top (spec §2.5)."""
    from digpy.engine.params import deep_merge
    from digpy.errors import ConfigError

    loaded: dict[str, Any] = {}
    if params_file is not None:
        if not params_file.is_file():
            raise ConfigError(f"params file {params_file} does not exist")
        from digpy.dsl.loader import load_params_file

        loaded = dict(load_params_file(params_file))
    return deep_merge(loaded, parse_params(items))


def _system_now() -> Any:
    from digpy.clock import SystemClock

    return SystemClock().now()


Go = Callable[["LocalEngine", "RunView"], "RunResult"]


def execute(root: Path, go: Go, *, title: str, hints: Any, dry_run: bool = False,
            max_task_threads: int = 0) -> int:
    """Open the engine with the progress view as listener and console echo, call ``go``,
    print the summary and return the exit code. Shared by ``run`` and ``retry``."""
    from digpy.api_python import LocalRun, state_path
    from digpy.cli.progress import make_view
    from digpy.clock import SystemClock
    from digpy.secrets.masking import Masker

    masker = Masker()
    view = make_view(masker=masker, hints=hints, title=title, state=state_path(root.resolve()),
                     dry_run=dry_run)
    clock = SystemClock()
    with _ctrl_c() as ctrl_c:
        try:
            with LocalRun(root, listeners=[view], echo=view.echo, dry_run=dry_run,
                          max_task_threads=max_task_threads, masker=masker) as local:
                began = clock.monotonic()
                outcome = go(local.engine, view)
                result = local.result(outcome, clock.monotonic() - began)
        finally:
            view.close()
    view.summary(result, interrupted=ctrl_c.seen)
    if result.success:
        return EXIT_OK
    return EXIT_INTERRUPTED if ctrl_c.seen else EXIT_FAILED


@dataclass
class _Interrupts:
    seen: bool = False


@contextmanager
def _ctrl_c() -> Iterator[_Interrupts]:
    """Notice Ctrl-C and otherwise behave as Python does (raise KeyboardInterrupt, which the
    engine turns into a killed attempt), so the summary can say "interrupted" and exit 130."""
    noticed = _Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield noticed  # signals can only be handled on the main thread
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        noticed.seen = True
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield noticed
    finally:
        signal.signal(signal.SIGINT, previous)
