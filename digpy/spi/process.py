"""Run an external command for an operator: its own process group, merged output streamed
line by line to the task log, and a kill that reaches every process the command started.

Operators call ``run_command`` instead of ``subprocess`` so that kill, ``_timeout`` and
Ctrl-C (all delivered through ``ctx.cancel``) stop the whole tree within about a second,
and so that every line goes through the task log, which masks secrets.

Each command started is also recorded in the directory the daemon or ``digpy run`` set with
``set_process_records``: a slot (pid, start time, attempt, task, host) in this driver's
record file, cleared when the command ends (digpy.spi.records). A process that outlives a
crash of its driver (``kill -9``) is found there by the next driver and stopped before its
task runs again (digpy.agent.orphans).
"""

from __future__ import annotations

import codecs
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from digpy.errors import TaskFailed
from digpy.spi.operator import OperatorContext
from digpy.spi.records import HOST as HOST
from digpy.spi.records import Slot, record_process, records_directory
from digpy.spi.records import process_start_time as process_start_time
from digpy.spi.records import set_process_records as set_process_records
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
    env: Mapping[str, str] | Mapping[bytes, bytes],
    cwd: Path | str,
    grace: float = KILL_GRACE_SECONDS,
) -> int:
    """Run ``argv`` in ``cwd`` with exactly ``env`` and return its exit code.

    stdout and stderr are merged and written to ``ctx.log`` line by line. Like Digdag, the
    call returns only when the output is closed too, so a background child that keeps
    stdout open keeps the task running. When ``ctx.cancel`` is set the process group gets
    SIGTERM, then SIGKILL after ``grace`` seconds, and ``TaskFailed(reason)`` is raised.
    A negative exit code means the process died from that signal. ``env`` may be bytes
    (``os.environb`` based), which spares encoding every inherited variable again.
    """
    proc = _start(argv, env, cwd)
    assert proc.stdout is not None  # stdout=PIPE
    watch = _Watch(proc, proc.stdout, ctx.log)
    record: Slot | None = None
    try:
        record = _record(ctx, proc.pid)
        while not watch.finished:
            if ctx.cancel.is_set():
                _stop_group(proc, watch, grace)
                raise TaskFailed(ctx.cancel.reason or "The task was canceled")
            watch.wait(POLL_SECONDS)
    except BaseException:
        # Never leave processes behind, whatever interrupted us (a log error, Ctrl-C).
        _kill_group(proc)
        raise
    finally:
        watch.close()
        if record is not None:
            record.release()
    return proc.wait()


def _record(ctx: OperatorContext, pid: int) -> Slot | None:
    """Record the child before waiting on it (digpy.spi.records)."""
    try:
        return record_process(ctx.request.attempt_id, ctx.request.task_id, pid)
    except OSError as exc:  # the caller kills the command: unrecorded, it could run twice
        raise TaskFailed(f"Cannot record the command's process in {records_directory()}: "
                         f"{exc.strerror}") from None


def _start(
    argv: Sequence[str], env: Mapping[str, str] | Mapping[bytes, bytes], cwd: Path | str
) -> subprocess.Popen[bytes]:
    if not argv:
        raise TaskFailed("Cannot start a command: the argument list is empty")
    try:
        return subprocess.Popen(
            list(argv),
            env=env,
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


def _stop_group(proc: subprocess.Popen[bytes], watch: _Watch, grace: float) -> None:
    """SIGTERM the group, keep draining output during the grace, then SIGKILL the rest."""
    _signal_group(proc.pid, signal.SIGTERM)
    # The grace is real time for a real process, not workflow time: a FakeClock must
    # never be able to stretch a kill, so this reads the monotonic clock directly.
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(proc.pid):
            break
        watch.wait(POLL_SECONDS)
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


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits (Linux 5.3+), else None."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:  # an older kernel, or a seccomp filter that forbids the call
        return None


class _Watch:
    """Waits for output and for the process's exit in one ``poll`` call.

    The exit is seen through a pidfd where the OS has one, so a command is reaped the
    moment it ends; elsewhere ``Popen.wait`` polls (it sleeps in growing steps, which
    costs about a millisecond per short command). Output is written to the log as whole
    lines (a line longer than MAX_LINE_CHARS in pieces).
    """

    def __init__(self, proc: subprocess.Popen[bytes], stream: IO[bytes], log: TaskLog) -> None:
        self._proc = proc
        self._stream = stream
        self._out = stream.fileno()
        self._log = log
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN)
        self._pidfd = _pidfd(proc.pid)
        if self._pidfd is not None:
            self._poll.register(self._pidfd, select.POLLIN)
        self.output_closed = False
        self.exited = False

    @property
    def finished(self) -> bool:
        return self.output_closed and (self.exited or self._proc.poll() is not None)

    def wait(self, timeout: float) -> None:
        """Handle whatever happens within ``timeout`` seconds (output, exit, or nothing)."""
        if self.output_closed and self._pidfd is None:
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            return
        for fd, _ in self._poll.poll(timeout * 1000):
            if fd == self._out:
                self._read()
            elif fd == self._pidfd:
                self._reap()

    def _read(self) -> None:
        data = os.read(self._out, _READ_SIZE)
        if data:
            self._emit(self._decoder.decode(data))
            return
        self._emit(self._decoder.decode(b"", final=True))
        if self._partial:
            self._log.write(self._partial + "\n")
            self._partial = ""
        self._poll.unregister(self._out)
        self._stream.close()
        self.output_closed = True

    def _reap(self) -> None:
        self._proc.poll()
        self.exited = True
        self._close_pidfd()

    def _emit(self, text: str) -> None:
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._log.write(line + "\n")
        while len(self._partial) >= MAX_LINE_CHARS:  # bound memory on endless lines
            self._log.write(self._partial[:MAX_LINE_CHARS] + "\n")
            self._partial = self._partial[MAX_LINE_CHARS:]

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            self._poll.unregister(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def close(self) -> None:
        if not self.output_closed:
            self.output_closed = True
            self._stream.close()
        self._close_pidfd()
