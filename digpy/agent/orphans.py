"""Stop the task processes a crashed driver left running (reliability R2).

``run_command`` (digpy.spi.process) records every command it starts in a directory of this
host (``<data_dir>/running`` for the daemon, ``.digpy/running`` for ``digpy run``) and
removes the record when the command ends. A record that is still there when a driver takes
over an attempt belongs to a driver that died (``kill -9``) while its command ran: the
command's process group may still be running. Before the attempt's RUNNING tasks go back to
READY, ``kill_orphans`` stops every such group, so a task never runs twice at once.

A record is acted on only when its pid still has the recorded start time: a pid the OS
reused for another process (a stranger) is never signalled. Records of another host are
left alone; there the lease expiry is what bounds an overlap (docs/server.md).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from digpy.spi.process import HOST, process_start_time, set_process_records

log = logging.getLogger(__name__)

TERM_GRACE_SECONDS = 2.0  # SIGTERM first, like a kill of a running task; then SIGKILL
GONE_TIMEOUT_SECONDS = 10.0  # SIGKILL takes effect at once; this only bounds a stuck exit
_POLL_SECONDS = 0.02


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessRecord:
    """One command a driver started: what ``run_command`` wrote before waiting on it."""

    path: Path
    pid: int
    started: int  # /proc/<pid>/stat field 22 when it was started
    pgid: int
    host: str
    attempt_id: int
    task_id: int
    owner: int  # the driver that started it: pid and start time
    owner_started: int | None


def kill_orphans(directory: Path, *, attempt_id: int | None = None) -> int:
    """Stop the recorded process groups on this host whose leader still has its recorded
    start time, wait until they are gone and delete their records; records of other hosts
    stay. With ``attempt_id`` (a takeover: the lease says the old driver is gone, even if it
    is only paused) that attempt's records; without (a sweep at start-up) every record whose
    driver is dead — a live one on the same directory is still waiting on its commands.
    Returns how many groups were stopped."""
    stopped = 0
    for record in _records(directory, attempt_id):
        if record.host != HOST:
            continue  # its pid means nothing here; the other host's next driver stops it
        if attempt_id is None and _driver_alive(record):
            continue
        if _stop_group(record):
            stopped += 1
            log.warning("stopped process group %d of task %d (attempt %d) left running by "
                        "a previous driver", record.pgid, record.task_id, record.attempt_id)
        record.path.unlink(missing_ok=True)
    return stopped


@contextmanager
def sole_driver_records(directory: Path) -> Iterator[None]:
    """For a driver holding its store's lock (``digpy run``): no other driver is alive, so
    every record in ``directory`` outlived a killed one — stop those commands, then record
    this driver's commands there until the block ends."""
    kill_orphans(directory)
    previous = set_process_records(directory)
    try:
        yield
    finally:
        set_process_records(previous)


def read_record(path: Path) -> ProcessRecord | None:
    """The record in ``path``; None when it is empty or torn (its writer died mid-write,
    before it could wait on the command) or gone."""
    try:
        data = json.loads(path.read_bytes())
        return ProcessRecord(path=path, pid=int(data["pid"]), started=int(data["started"]),
                             pgid=int(data["pgid"]), host=str(data["host"]),
                             attempt_id=int(data["attempt_id"]), task_id=int(data["task_id"]),
                             owner=int(data["owner"]), owner_started=data.get("owner_started"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _records(directory: Path, attempt_id: int | None) -> Iterator[ProcessRecord]:
    pattern = "*.json" if attempt_id is None else f"{attempt_id}.*.json"
    try:
        paths = sorted(directory.glob(pattern))
    except OSError:
        return
    for path in paths:
        record = read_record(path)
        if record is None:
            path.unlink(missing_ok=True)  # nothing in it can be matched to a process
        else:
            yield record


def _stop_group(record: ProcessRecord) -> bool:
    """SIGTERM the group, SIGKILL it after a grace, and wait until no member runs. False
    when the leader is gone or its pid now belongs to a stranger (nothing is signalled):
    the command ended with its driver, as any command whose leader exited has."""
    if not _is_ours(record):
        return False
    _signal(record.pgid, signal.SIGTERM)
    # Real processes, real time: a driver's FakeClock must not stretch or skip the wait.
    if not _wait_gone(record, TERM_GRACE_SECONDS):
        _signal(record.pgid, signal.SIGKILL)
        if not _wait_gone(record, GONE_TIMEOUT_SECONDS):
            log.warning("process group %d did not exit after SIGKILL", record.pgid)
    return True


def _driver_alive(record: ProcessRecord) -> bool:
    """A killed driver nobody reaped yet (a zombie) is dead: it waits on nothing."""
    started = process_start_time(record.owner)
    return started is not None and started == record.owner_started and \
        not _zombie(record.owner)


def _is_ours(record: ProcessRecord) -> bool:
    return process_start_time(record.pid) == record.started and not _zombie(record.pid)


def _wait_gone(record: ProcessRecord, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _is_ours(record) or _group_runs(record.pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)
    return True


def _signal(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


def _group_runs(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (not a zombie). Its members
    were re-parented when the driver died, so nothing here can reap them: a zombie counts
    as gone (it runs nothing and holds no file)."""
    for entry in os.scandir("/proc"):
        fields = _stat_fields(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is None or fields[0] in (b"Z", b"X")


def _stat_fields(pid: int) -> list[bytes] | None:
    """``/proc/<pid>/stat`` from field 3 (state) on; None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()
