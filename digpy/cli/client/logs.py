"""``digpy log ATTEMPT [+TASK] [-f]``: the task logs of an attempt, in task order.

``+TASK`` picks tasks the way ``--resume-from`` names them: ``+load`` matches ``+wf+load``
and the tasks under it. With several logs each gets a ``==> +wf+task (state) <==`` header,
as ``tail`` does. ``-f`` keeps printing new lines, across tasks, until the attempt is done.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import click

from digpy.cli.client.backend import Backend, client_options, using_backend
from digpy.cli.client.views import TaskView

FOLLOW_INTERVAL_SECONDS = 0.5

EPILOG = """\b
Examples:
  digpy log 7                   every task's log
  digpy log 7 +load             +load's log (and its subtasks')
  digpy log 7 -f                follow until the attempt is done

\b
Exit codes: 0 ok, 2 unknown attempt or a +TASK that matches no task."""


@click.command(epilog=EPILOG)
@click.argument("attempt_id", type=int)
@click.argument("task", required=False, metavar="[+TASK]")
@click.option("-f", "--follow", is_flag=True, help="Keep printing until the attempt is done.")
@client_options
def log(attempt_id: int, task: str | None, follow: bool, project_dir: Path,
        endpoint: str | None) -> int:
    """Show the task logs of an attempt."""
    if task is not None and not task.startswith("+"):
        raise click.BadParameter(f"{task!r} is not a task name; write it as +name",
                                 param_hint="+TASK")
    with using_backend(project_dir, endpoint) as backend:
        backend.attempt(attempt_id)  # unknown attempt: exit 2 before anything is printed
        printer = LogPrinter(backend, attempt_id, task)
        printer.pass_once(require_match=True)
        while follow and backend.attempt(attempt_id).status == "running":
            time.sleep(FOLLOW_INTERVAL_SECONDS)
            printer.pass_once()
        if follow:
            printer.pass_once()  # what was written between the last pass and the end
    return 0


def matches(full_name: str, pattern: str | None) -> bool:
    """True when ``pattern`` names this task or one of its parents, by suffix of the name."""
    if pattern is None:
        return True
    return re.search(re.escape(pattern) + r"(?=$|[+^])", full_name) is not None


class LogPrinter:
    """Prints what is new in each matching task's log since the previous pass."""

    def __init__(self, backend: Backend, attempt_id: int, pattern: str | None) -> None:
        self.backend = backend
        self.attempt_id = attempt_id
        self.pattern = pattern
        self.offsets: dict[int, int] = {}
        self.current: int | None = None  # the task whose lines were printed last

    def pass_once(self, *, require_match: bool = False) -> None:
        tasks = [t for t in self.backend.tasks(self.attempt_id)
                 if matches(t.full_name, self.pattern)]
        if require_match and not tasks and self.pattern is not None:
            from digpy.errors import ConfigError

            raise ConfigError(f"no task of attempt {self.attempt_id} matches "
                              f"{self.pattern}; `digpy tasks {self.attempt_id}` lists them")
        with_logs = [t for t in tasks if t.log_path]
        for task in with_logs:
            self._print_new(task, headers=len(with_logs) > 1 or self.pattern is None)

    def _print_new(self, task: TaskView, *, headers: bool) -> None:
        text, offset = self.backend.read_log(task, self.offsets.get(task.id, 0))
        self.offsets[task.id] = offset
        if not text:
            return
        if headers and self.current != task.id:
            click.echo(f"==> {task.full_name} ({task.state}) <==")
        self.current = task.id
        click.echo(text, nl=False)
