"""run_command waits for two things, the output's end and the process's exit, in one poll
loop (a pidfd where the OS has one): real processes that end them in either order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digpy.spi.process import run_command
from digpy.spi.testing import RecordingLog, make_context

ENV = {"PATH": os.environ.get("PATH", os.defpath)}


def _run(tmp_path: Path, script: str, env: object = None) -> tuple[int, RecordingLog]:
    ctx = make_context(tmp_path)
    code = run_command(ctx, ["/bin/sh", "-c", script], env=env or ENV,  # type: ignore[arg-type]
                       cwd=tmp_path)
    assert isinstance(ctx.log, RecordingLog)
    return code, ctx.log


def test_a_command_that_closes_its_output_early_is_awaited_until_it_exits(
    tmp_path: Path,
) -> None:
    code, log = _run(tmp_path, "echo before; exec >/dev/null 2>&1; sleep 0.3; touch done; exit 4")
    assert code == 4
    assert (tmp_path / "done").exists()
    assert log.lines == ["before"]


def test_output_of_a_child_that_outlives_the_command_is_still_collected(
    tmp_path: Path,
) -> None:
    code, log = _run(tmp_path, "(sleep 0.3; echo late) & echo early; exit 2")
    assert code == 2
    assert log.lines == ["early", "late"]


def test_a_bytes_environment_reaches_the_command_unchanged(tmp_path: Path) -> None:
    env = {b"PATH": os.fsencode(ENV["PATH"]), b"RAW": b"caf\xe9", b"TEXT": "ü".encode()}
    code, log = _run(tmp_path, 'printf "%s" "$RAW" > raw; echo "$TEXT"', env)
    assert code == 0
    assert (tmp_path / "raw").read_bytes() == b"caf\xe9"
    assert log.lines == ["ü"]


@pytest.mark.parametrize("exit_code", [0, 1, 255])
def test_many_short_commands_each_report_their_own_exit_code(
    tmp_path: Path, exit_code: int
) -> None:
    codes = [_run(tmp_path, f"exit {exit_code}")[0] for _ in range(20)]
    assert codes == [exit_code] * 20


@pytest.mark.parametrize(
    "script, expected",
    [("echo one; exit 3", (3, ["one"])),
     ("echo one; exec >/dev/null 2>&1; sleep 0.2; exit 5", (5, ["one"])),
     ("(sleep 0.2; echo late) & exit 0", (0, ["late"]))],
)
def test_without_pidfd_the_exit_is_still_awaited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, expected: tuple[int, list[str]]
) -> None:
    # A system without pidfd_open (macOS, Linux before 5.3) waits through Popen.wait.
    monkeypatch.delattr(os, "pidfd_open", raising=False)
    code, log = _run(tmp_path, script)
    assert (code, log.lines) == expected
