"""What ``digpy run`` / ``digpy retry`` print while an attempt runs and when it ends.

A ``Listener`` (the engine knows nothing about terminals). Two faces with one vocabulary:

- ``PlainView``: one line per task start and finish, for pipes, CI logs and tests;
- ``LiveView`` (stdout is a terminal): the same finish lines scroll above a rich live panel
  of the running tasks with their elapsed time and done/failed counters.

Task output (the facade's ``echo``) is printed as it comes, already masked by the task log
writer; error messages shown here are masked with the same per-run ``Masker``.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from digpy.engine.listeners import Listener
from digpy.model.records import Attempt, Task

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.spinner import Spinner

    from digpy.api_python import Result
    from digpy.secrets.masking import Masker

STYLES = {"success": "green", "error": "red", "skipped": "bright_black", "warn": "yellow",
          "title": "bold"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Hints:
    """How the user ran this, so the end-of-run hints can be pasted back."""

    workflow: str
    project_args: tuple[str, ...] = ()  # ("--project", "dir") when one was given
    session_args: tuple[str, ...] = ()  # ("--session", "...") when not the default

    def run(self, *extra: str) -> str:
        return _command("digpy", "run", self.workflow, *self.project_args,
                        *self.session_args, *extra)

    def retry(self, attempt_id: int, *extra: str) -> str:
        return _command("digpy", "retry", str(attempt_id), *extra, *self.project_args)


def _command(*words: str) -> str:
    return " ".join(shlex.quote(w) for w in words)


@dataclass(slots=True, kw_only=True)
class RunView(Listener):
    """The shared part: header, per-task lines and the summary; subclasses say where a
    line goes (``line``) and how task output is shown (``echo``)."""

    masker: Masker
    hints: Hints
    title: str
    state: Path
    dry_run: bool = False
    failed: int = 0
    done: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def line(self, text: str, style: str | None = None) -> None:
        raise NotImplementedError

    def echo(self, text: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop any live display (idempotent)."""

    # -- listener hooks -----------------------------------------------------------------

    def on_attempt_started(self, attempt: Attempt) -> None:
        for text, style in header_lines(self.title, attempt, self.state, self.dry_run):
            self.line(text, style)

    def on_task_finished(self, attempt: Attempt, task: Task, *, note: str | None = None
                         ) -> None:
        if task.operator is None:  # groups: their outcome is in the children and the summary
            return
        text, style = finish_line(task, note, self.masker)
        if text is None:
            return
        with self._lock:
            self.done += 1
            self.failed += style == "error"
        self.line(text, style)

    # -- end of run ---------------------------------------------------------------------

    def summary(self, result: Result, *, interrupted: bool = False) -> None:
        self.close()
        for text, style in summary_lines(result, self.hints, interrupted=interrupted,
                                         dry_run=self.dry_run):
            self.line(text, style)


def header_lines(title: str, attempt: Attempt, state: Path, dry_run: bool
                 ) -> list[tuple[str, str | None]]:
    from digpy.dsl.timezones import parse_timezone

    when = attempt.session_time.astimezone(parse_timezone(attempt.timezone))
    lines: list[tuple[str, str | None]] = [
        (title, "title"),
        (f"  session id: {attempt.session_id}", None),
        (f"  attempt id: {attempt.id}", None),
        (f"  workflow: {attempt.workflow_name}", None),
        (f"  session time: {when.isoformat()}", None),
    ]
    if dry_run:
        lines.append(("  dry run: operators are not called and no state is saved", "warn"))
    else:
        lines.append((f"  state: {state}", None))
    return lines


def finish_line(task: Task, note: str | None, masker: Masker) -> tuple[str | None, str]:
    """``+wf+task: success (0.12s)`` and friends; None for states not worth a line."""
    name = task.full_name
    if note == "replayed":
        return f"{name}: skipped (succeeded in a previous run)", "skipped"
    if note == "skipped":
        return f"{name}: skipped (outside --goal/--end)", "skipped"
    state = task.state.label
    message = masker.mask(_error_message(task))
    if state == "success":
        return f"{name}: success{_duration(task)}", "success"
    if state == "planned":
        return f"{name}: success{_duration(task)}, running its subtasks", "success"
    if state == "error":
        return f"{name}: error: {message}", "error"
    if state == "retry_waiting":
        return f"{name}: failed, retrying: {message}", "warn"
    if state == "canceled":
        return f"{name}: canceled", "warn"
    return None, ""


def _error_message(task: Task) -> str:
    error = task.error or {}
    return str(error.get("message") or "failed")


def _duration(task: Task) -> str:
    if task.started_at is None or task.finished_at is None:
        return ""
    return f" ({(task.finished_at - task.started_at).total_seconds():.2f}s)"


def summary_lines(result: Result, hints: Hints, *, interrupted: bool, dry_run: bool
                  ) -> list[tuple[str, str | None]]:
    if result.success:
        if dry_run:
            return [("Success (dry run). No operator was called; nothing was saved.",
                     "success")]
        return [(f"Success. Task state is saved at {result.state_path} "
                 f"(attempt {result.attempt_id}, {result.duration:.2f}s).", "success")]
    if result.status == "killed":
        return _killed_lines(result, hints, interrupted)
    return _failed_lines(result, hints, dry_run)


def _killed_lines(result: Result, hints: Hints, interrupted: bool
                  ) -> list[tuple[str, str | None]]:
    why = "interrupted (Ctrl-C)" if interrupted else "killed"
    return [
        (f"Killed: attempt {result.attempt_id} was {why}; running tasks were stopped.", "error"),
        ("Resume it with:", None),
        *_aligned([(hints.retry(result.attempt_id, "--resume"), "re-run what did not succeed")]),
    ]


def _failed_lines(result: Result, hints: Hints, dry_run: bool
                  ) -> list[tuple[str, str | None]]:
    failed = result.failed_tasks
    count = f"{len(failed)} task{'s' if len(failed) != 1 else ''} failed" if failed else "failed"
    lines: list[tuple[str, str | None]] = [
        (f"Error: {count} in attempt {result.attempt_id}:", "error")]
    for task in failed:
        lines.append((f"  {task.name}: {task.message}", "error"))
        if task.log_path and not dry_run:  # a dry run's logs went with its scratch state
            lines.append((f"    log: {task.log_path}", None))
    if not failed and result.error:
        lines.append((f"  {result.error}", "error"))
    if dry_run:
        return [*lines, ("Fix the problem and dry-run again (nothing was saved).", None)]
    lines.append(("Fix the problem, then one of:", None))
    lines.extend(_aligned(_fix_hints(result, hints)))
    return lines


def _aligned(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """Commands in one column, their ``# why`` in the next."""
    width = max(len(command) for command, _ in pairs)
    return [(f"  {command.ljust(width)}  # {why}", None) for command, why in pairs]


def _fix_hints(result: Result, hints: Hints) -> list[tuple[str, str]]:
    out = []
    first = result.failed_tasks[0].name if result.failed_tasks else None
    if first is not None and "^" not in first:  # generated tasks are not resume targets
        out.append((hints.retry(result.attempt_id, "--resume-from", first),
                    f"re-run from {first}, reusing what succeeded before it"))
    else:
        out.append((hints.retry(result.attempt_id, "--resume"), "re-run what did not succeed"))
    out.append((hints.run(), "run again; tasks that succeeded are skipped"))
    out.append((hints.run("--rerun"), "run everything again"))
    return out


# -- the two faces ----------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class PlainView(RunView):
    def line(self, text: str, style: str | None = None) -> None:
        click.echo(text)

    def echo(self, text: str) -> None:
        click.echo(text, nl=False)

    def on_task_started(self, attempt: Attempt, task: Task) -> None:
        self.line(f"{task.full_name}: started")


@dataclass(slots=True, kw_only=True)
class LiveView(RunView):
    console: Console
    _live: Live | None = None
    _running: dict[int, tuple[str, float, Spinner]] = field(default_factory=dict)
    _began: float = field(default_factory=time.monotonic)

    def line(self, text: str, style: str | None = None) -> None:
        from rich.text import Text

        self.console.print(Text(text, style=STYLES.get(style or "", "")), soft_wrap=True)

    def echo(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text(text.removesuffix("\n")), soft_wrap=True)

    def on_attempt_started(self, attempt: Attempt) -> None:
        from rich.live import Live

        RunView.on_attempt_started(self, attempt)
        self._began = time.monotonic()
        self._live = Live(console=self.console, get_renderable=self._panel,
                          refresh_per_second=8, transient=True)
        self._live.start()

    def on_task_started(self, attempt: Attempt, task: Task) -> None:
        from rich.spinner import Spinner

        with self._lock:
            self._running[task.id] = (task.full_name, time.monotonic(), Spinner("dots"))

    def on_task_finished(self, attempt: Attempt, task: Task, *, note: str | None = None
                         ) -> None:
        with self._lock:
            self._running.pop(task.id, None)
        RunView.on_task_finished(self, attempt, task, note=note)

    def on_attempt_finished(self, attempt: Attempt) -> None:
        self.close()

    def close(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def _panel(self) -> RenderableType:
        """Called by rich's refresh thread: copy under the lock, render outside it."""
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            running = list(self._running.values())
            done, failed = self.done, self.failed
        now = time.monotonic()
        grid = Table.grid(padding=(0, 1))
        for name, began, spinner in running:
            grid.add_row(spinner, Text(name), Text(f"{now - began:.1f}s", style="cyan"))
        status = (f"{done} done · {failed} failed · {len(running)} running · "
                  f"{now - self._began:.1f}s")
        grid.add_row("", Text(status, style="red" if failed else "bright_black"), "")
        return grid


def make_view(*, masker: Masker, hints: Hints, title: str, state: Path, dry_run: bool,
              live: bool | None = None) -> RunView:
    """A LiveView when stdout is a terminal (and TERM is not ``dumb``), else a PlainView."""
    import os
    import sys

    if live is None:
        live = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
    if not live:
        return PlainView(masker=masker, hints=hints, title=title, state=state, dry_run=dry_run)
    from rich.console import Console

    return LiveView(masker=masker, hints=hints, title=title, state=state, dry_run=dry_run,
                    console=Console(highlight=False))
