"""A full disk is the machine's problem, not a bug: one clear line, exit 1, no traceback,
and the stored state is what it was before the failed write."""

from __future__ import annotations

import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from digpy.cli import environment_error


def _limit_file_size() -> None:
    # Writes past 200 kB fail with EFBIG instead of killing the process: a full disk, here.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_run_that_fills_the_disk_ends_with_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "big.dig").write_text(
        "+a:\n  sh>: yes hello | head -c 3000000\n+b:\n  echo>: after\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "digpy", "run", "big"], cwd=tmp_path, capture_output=True,
        text=True, preexec_fn=_limit_file_size, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "error:" in done.stderr
    db = sqlite3.connect(tmp_path / ".digpy" / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (OSError(28, "No space left on device", "/x/log"), "No space left on device: /x/log"),
        (PermissionError(13, "Permission denied", "/x/state.db"), "Permission denied"),
        (sqlite3.OperationalError("database or disk is full"), "database or disk is full"),
    ],
)
def test_machine_errors_become_one_line_messages(exc: BaseException, fragment: str) -> None:
    message = environment_error(exc)
    assert message is not None and fragment in message


def test_other_exceptions_stay_bugs_with_a_traceback() -> None:
    assert environment_error(ValueError("oops")) is None
    assert environment_error(sqlite3.IntegrityError("UNIQUE failed")) is None
