"""``digpy timeline ATTEMPT [--follow]``: the attempt's tasks as a Gantt chart — when each
started (from the attempt's start), how long it took, a bar on a shared time axis, its state
and retries. A rich table that refreshes while the attempt runs on a terminal; plain text in
a pipe (``--follow`` then waits for the end and prints the final chart once).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from digpy.cli.client.backend import Backend, client_options, using_backend
from digpy.cli.client.output import fmt_duration, is_terminal, status_style
from digpy.cli.client.views import AttemptView, TaskView

if TYPE_CHECKING:
    from rich.table import Table

BAR_WIDTH = 40
REFRESH_SECONDS = 1.0

EPILOG = """\b
Examples:
  digpy timeline 7
  digpy timeline 7 --follow            redraw every second until the attempt is done

\b
Exit codes: 0 ok, 2 unknown attempt."""


@dataclass(frozen=True, slots=True)
class Row:
    name: str  # indented by depth
    offset: float | None  # seconds from the attempt's start
    duration: float | None
    bar: tuple[int, int] | None  # [start, end) columns on the axis
    state: str
    retries: int


@click.command(epilog=EPILOG)
@click.argument("attempt_id", type=int)
@click.option("--follow", "-f", is_flag=True, help="Refresh until the attempt is done.")
@click.option("--width", type=click.IntRange(min=0), default=0,
              help="Columns of the time axis (default: fit the terminal, else 40).")
@client_options
def timeline(attempt_id: int, follow: bool, width: int, project_dir: Path,
             endpoint: str | None) -> int:
    """Draw an attempt's tasks as a Gantt chart."""
    with using_backend(project_dir, endpoint) as backend:
        attempt = backend.attempt(attempt_id)
        width = width or _fit(backend.tasks(attempt_id))
        if follow and is_terminal():
            _live(backend, attempt_id, width)
            return 0
        while follow and attempt.status == "running":
            time.sleep(REFRESH_SECONDS)
            attempt = backend.attempt(attempt_id)
        tasks = backend.tasks(attempt_id)
    now = _now()
    if is_terminal():
        from rich.console import Console

        Console(highlight=False).print(render_table(attempt, tasks, now, width))
    else:
        for line in render_plain(attempt, tasks, now, width):
            click.echo(line)
    return 0


def _live(backend: Backend, attempt_id: int, width: int) -> None:
    from rich.console import Console
    from rich.live import Live

    def draw() -> tuple[AttemptView, Table]:
        attempt = backend.attempt(attempt_id)
        return attempt, render_table(attempt, backend.tasks(attempt_id), _now(), width)

    attempt, table = draw()
    with Live(table, console=Console(highlight=False), auto_refresh=False) as live:
        while attempt.status == "running":
            time.sleep(REFRESH_SECONDS)
            attempt, table = draw()
            live.update(table, refresh=True)


def rows(attempt: AttemptView, tasks: Sequence[TaskView], now: datetime, width: int
         ) -> list[Row]:
    """One row per task on an axis from the attempt's creation to its end (or now)."""
    start = attempt.created_at
    ends = [t.finished_at for t in tasks if t.finished_at] + [attempt.finished_at or now]
    span = max((max(ends) - start).total_seconds(), 1e-3)
    depth = _depths(tasks)

    def column(when: datetime) -> int:
        return min(int((when - start).total_seconds() / span * width), width - 1)

    result = []
    for task in tasks:
        bar = None
        if task.started_at is not None:
            end = task.finished_at or (now if attempt.status == "running" else task.started_at)
            left = column(task.started_at)
            bar = (left, max(left + 1, column(end) + (end > task.started_at)))
        offset = ((task.started_at - start).total_seconds()
                  if task.started_at is not None else None)
        running = task.finished_at is None and task.started_at is not None
        duration = ((now - task.started_at).total_seconds() if running and task.started_at
                    else task.duration)
        result.append(Row("  " * depth[task.id] + task.full_name, offset, duration, bar,
                          task.state, task.retry_count))
    return result


def render_plain(attempt: AttemptView, tasks: Sequence[TaskView], now: datetime,
                 width: int) -> list[str]:
    lines = [_title(attempt)]
    table = rows(attempt, tasks, now, width)
    name_width = max((len(r.name) for r in table), default=4)
    for row in table:
        bar = "".join("#" if row.bar and row.bar[0] <= i < row.bar[1] else " "
                      for i in range(width))
        lines.append(f"{row.name.ljust(name_width)}  {_offset(row.offset):>8}  "
                     f"{fmt_duration(row.duration):>8}  |{bar}|  {row.state}"
                     + (f"  retries: {row.retries}" if row.retries else ""))
    return lines


def render_table(attempt: AttemptView, tasks: Sequence[TaskView], now: datetime,
                 width: int) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=_title(attempt), title_justify="left", box=None,
                  header_style="bold", pad_edge=False)
    for header in ("TASK", "START", "DURATION", "TIMELINE", "STATE", "RETRIES"):
        table.add_column(header, no_wrap=True)
    for row in rows(attempt, tasks, now, width):
        style = status_style(row.state) or "white"
        bar = Text()
        if row.bar:
            bar.append(" " * row.bar[0])
            bar.append("█" * (row.bar[1] - row.bar[0]), style=style)
        bar.append(" " * (width - len(bar)))
        table.add_row(row.name, _offset(row.offset), fmt_duration(row.duration), bar,
                      Text(row.state, style=style), str(row.retries or ""))
    return table


def _fit(tasks: Sequence[TaskView]) -> int:
    """The axis width that leaves room for the other columns of a terminal."""
    if not is_terminal():
        return BAR_WIDTH
    import shutil

    names = max((len(t.full_name) + 2 * t.full_name.count("+") for t in tasks), default=10)
    return max(10, min(80, shutil.get_terminal_size().columns - names - 48))


def _title(attempt: AttemptView) -> str:
    took = fmt_duration(attempt.duration) or "running"
    return (f"attempt {attempt.id} of {attempt.workflow} (session {attempt.session_id}, "
            f"{attempt.session_time.isoformat()}): {attempt.status}, {took}")


def _offset(seconds: float | None) -> str:
    return "" if seconds is None else "+" + fmt_duration(seconds)


def _depths(tasks: Sequence[TaskView]) -> dict[int, int]:
    parents = {t.id: t.parent_id for t in tasks}
    depths: dict[int, int] = {}
    for task in tasks:
        depth, parent = 0, task.parent_id
        while parent is not None and parent in parents:
            depth, parent = depth + 1, parents[parent]
        depths[task.id] = depth
    return depths


def _now() -> datetime:
    from digpy.clock import SystemClock

    return SystemClock().now()
