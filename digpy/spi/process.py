"""Run an external command for an operator: its own process group, merged output streamed
line by line to the task log, and a kill that reaches every process the command started.

Operators call ``run_command`` instead of ``subprocess`` so that kill, ``_timeout`` and
Ctrl-C (all delivered through ``ctx.cancel``) stop the whole tree within about a second,
and so that every line goes through the task log, which masks secrets.
"""

from __future__ import annotations

import codecs
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from digpy.errors import TaskFailed
from digpy.spi.operator import OperatorContext
from digpy.spi.types import TaskLog

POLL_SECONDS = 0.05  # how often ctx.cancel is checked while the command runs
KILL_GRACE_SECONDS = 0.8  # SIGTERM first; whatever is left after this gets SIGKILL
MAX_LINE_CHARS = 64 * 1024  # a line longer than this is written in pieces
_READ_SIZE = 64 * 1024


class CancelEvent:
    """A ``CancelToken`` the engine sets on kill, ``_timeout`` or Ctrl-C.

    The first reason wins: a kill that arrives after a timeout does not rename it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason = ""

    def set(self, reason: str) -> None:
        with self._lock:
            if not self._event.is_set():
                self._reason = reason
                self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True as soon as the event is set."""
        return self._event.wait(timeout)

    @property
    def reason(self) -> str:
        with self._lock:
            return self._reason


def run_command(
    ctx: OperatorContext,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    grace: float = KILL_GRACE_SECONDS,
) -> int:
    """Run ``argv`` in ``cwd`` with exactly ``env`` and return its exit code.

    stdout and stderr are merged and written to ``ctx.log`` line by line. Like Digdag, the
    call returns only when the output is closed too, so a background child that keeps
    stdout open keeps the task running. When ``ctx.cancel`` is set the process group gets
    SIGTERM, then SIGKILL after ``grace`` seconds, and ``TaskFailed(reason)`` is raised.
    A negative exit code means the process died from that signal.
    """
    proc = _start(argv, env, cwd)
    assert proc.stdout is not None  # stdout=PIPE
    pump = _OutputPump(proc.stdout, ctx.log)
    try:
        while not (pump.closed and proc.poll() is not None):
            if ctx.cancel.is_set():
                _stop_group(proc, pump, grace)
                raise TaskFailed(ctx.cancel.reason or "The task was canceled")
            _wait_a_little(proc, pump)
    except BaseException:
        # Never leave processes behind, whatever interrupted us (a log error, Ctrl-C).
        _kill_group(proc)
        raise
    finally:
        pump.close()
    return proc.wait()


def _start(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    if not argv:
        raise TaskFailed("Cannot start a command: the argument list is empty")
    try:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # A new session makes the command a process-group leader, so one killpg()
            # reaches its children too; it also detaches it from our terminal's Ctrl-C.
            start_new_session=True,
        )
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise TaskFailed(f"Cannot start '{argv[0]}': {exc.strerror}{where}") from None
    except ValueError as exc:  # e.g. a NUL byte in an environment value
        raise TaskFailed(f"Cannot start '{argv[0]}': {exc}") from None


def _wait_a_little(proc: subprocess.Popen[bytes], pump: _OutputPump) -> None:
    """Wait up to POLL_SECONDS for output or for the process to end."""
    if pump.closed:
        try:
            proc.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    else:
        pump.pump(POLL_SECONDS)


def _stop_group(proc: subprocess.Popen[bytes], pump: _OutputPump, grace: float) -> None:
    """SIGTERM the group, keep draining output during the grace, then SIGKILL the rest."""
    _signal_group(proc.pid, signal.SIGTERM)
    # The grace is real time for a real process, not workflow time: a FakeClock must
    # never be able to stretch a kill, so this reads the monotonic clock directly.
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(proc.pid):
            break
        _wait_a_little(proc, pump)
    _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone (PermissionError: only zombies are left, on macOS)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _OutputPump:
    """Reads the merged output without blocking and writes whole lines to the log."""

    def __init__(self, stream: IO[bytes], log: TaskLog) -> None:
        self._stream = stream
        self._log = log
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._selector = selectors.DefaultSelector()
        self._selector.register(stream, selectors.EVENT_READ)
        self.closed = False

    def pump(self, timeout: float) -> None:
        if self.closed:
            return
        if not self._selector.select(timeout):
            return
        data = os.read(self._stream.fileno(), _READ_SIZE)
        if data:
            self._emit(self._decoder.decode(data))
        else:
            self._emit(self._decoder.decode(b"", final=True))
            self._finish()

    def _emit(self, text: str) -> None:
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._log.write(line + "\n")
        while len(self._partial) >= MAX_LINE_CHARS:  # bound memory on endless lines
            self._log.write(self._partial[:MAX_LINE_CHARS] + "\n")
            self._partial = self._partial[MAX_LINE_CHARS:]

    def _finish(self) -> None:
        if self._partial:
            self._log.write(self._partial + "\n")
            self._partial = ""
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._selector.close()
            self._stream.close()
