"""run_command: real processes, output streamed line by line, kill reaches the group."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from digpy.errors import TaskFailed
from digpy.spi.process import CancelEvent, run_command
from digpy.spi.testing import RecordingLog, make_context

ENV = {"PATH": os.environ.get("PATH", os.defpath)}


def _log(ctx: object) -> RecordingLog:
    log = ctx.log  # type: ignore[attr-defined]
    assert isinstance(log, RecordingLog)
    return log


def test_run_command_returns_the_exit_code_and_logs_merged_output(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)

    code = run_command(ctx, ["/bin/sh", "-c", "echo out; echo err >&2; exit 7"], env=ENV,
                       cwd=tmp_path)

    assert code == 7
    assert sorted(_log(ctx).lines) == ["err", "out"]


def test_output_reaches_the_log_while_the_process_is_still_running(tmp_path: Path) -> None:
    # Given a command that prints a line, then waits for a file the log creates on that line
    class GoLog(RecordingLog):
        def write(self, text: str) -> None:
            super().write(text)
            if text == "first\n":
                (tmp_path / "go").touch()

    cancel = CancelEvent()
    watchdog = threading.Timer(10, cancel.set, args=("watchdog: no streaming",))
    watchdog.start()
    ctx = make_context(tmp_path, log=GoLog(), cancel=cancel)
    script = "echo first; while [ ! -f go ]; do sleep 0.02; done; echo second"

    # When it runs, it finishes only if "first" was logged before the process ended
    try:
        code = run_command(ctx, ["/bin/sh", "-c", script], env=ENV, cwd=tmp_path)
    finally:
        watchdog.cancel()

    assert code == 0
    assert _log(ctx).lines == ["first", "second"]


def test_a_last_line_without_a_newline_is_still_logged(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    run_command(ctx, ["/bin/sh", "-c", "printf 'a\\nb'"], env=ENV, cwd=tmp_path)
    assert _log(ctx).text == "a\nb\n"


def test_bytes_that_are_not_utf8_are_replaced_not_fatal(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    run_command(ctx, ["/bin/sh", "-c", "printf 'caf\\351\\n'"], env=ENV, cwd=tmp_path)
    assert _log(ctx).text == "caf\ufffd\n"


def test_the_process_sees_exactly_the_environment_it_is_given(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    env = {**ENV, "ONLY_THIS": "yes"}
    run_command(ctx, ["/bin/sh", "-c", "echo $ONLY_THIS ${HOME-unset}"], env=env, cwd=tmp_path)
    assert _log(ctx).lines == ["yes unset"]


def test_a_missing_program_is_a_task_failure_naming_it(tmp_path: Path) -> None:
    with pytest.raises(TaskFailed, match="Cannot start '/no/such/shell'"):
        run_command(make_context(tmp_path), ["/no/such/shell"], env=ENV, cwd=tmp_path)


def test_a_cancel_stops_the_command_and_fails_with_the_reason(tmp_path: Path) -> None:
    cancel = CancelEvent()
    threading.Timer(0.2, cancel.set, args=("Task timed out after 1s",)).start()
    ctx = make_context(tmp_path, cancel=cancel)

    with pytest.raises(TaskFailed, match="Task timed out after 1s"):
        run_command(ctx, [sys.executable, "-c", "import time; time.sleep(30)"], env=ENV,
                    cwd=tmp_path)


def test_the_first_cancel_reason_wins() -> None:
    cancel = CancelEvent()
    assert not cancel.is_set() and cancel.reason == ""

    cancel.set("timeout")
    cancel.set("killed")

    assert cancel.is_set() and cancel.wait(0) is True
    assert cancel.reason == "timeout"
