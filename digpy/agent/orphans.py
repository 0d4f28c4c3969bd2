"""Stop the task processes a crashed driver left running (reliability R2).

``run_command`` (digpy.spi.process) records every command it starts in a directory of this
host (``<data_dir>/running`` for the daemon, ``.digpy/running`` for ``digpy run``): a slot
in its driver's record file (digpy.spi.records), cleared when the command ends. A record
still there when a driver takes over an attempt belongs to a driver that died (``kill -9``)
while its command ran: the command's process group may still be running. Before the
attempt's RUNNING tasks go back to READY, ``kill_orphans`` stops every such group, so a task
never runs twice at once.

A record is acted on only when its pid still has the recorded start time: a pid the OS
reused for another process (a stranger) is never signalled. Records of another host are
left alone; there the lease expiry is what bounds an overlap (docs/server.md).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digpy.spi.records import (
    HOST,
    SUFFIX,
    Owner,
    ProcessRecord,
    clear_slot,
    process_start_time,
    read_slots,
    set_process_records,
)

__all__ = ["ProcessRecord", "kill_orphans", "live_records", "sole_driver_records"]

log = logging.getLogger(__name__)

TERM_GRACE_SECONDS = 2.0  # SIGTERM first, like a kill of a running task; then SIGKILL
GONE_TIMEOUT_SECONDS = 10.0  # SIGKILL takes effect at once; this only bounds a stuck exit
_POLL_SECONDS = 0.02
_LEGACY = "*.json"  # one file per command, before record files; swept for one release


def kill_orphans(directory: Path, *, attempt_id: int | None = None) -> int:
    """Stop the recorded process groups on this host whose leader still has its recorded
    start time and wait until they are gone; records of other hosts stay. With
    ``attempt_id`` (a takeover: the lease says the old driver is gone, even if it is only
    paused) that attempt's records; without (a sweep at start-up) those of every dead
    driver — a live one on the same directory is still waiting on its commands. A dead
    driver's slots are cleared, and its file removed once all are; a live driver's file is
    never written (it may be reusing the slot): it clears the slot itself when its wait
    returns. Returns how many groups were stopped."""
    stopped = 0
    for path in _files(directory, "*" + SUFFIX):
        stopped += _sweep_file(path, attempt_id)
    for path in _files(directory, _LEGACY):
        stopped += _sweep_legacy(path, attempt_id)
    return stopped


def live_records(directory: Path) -> list[ProcessRecord]:
    """Every record in ``directory`` (slots in use, whatever their owner or host)."""
    found = [r for path in _files(directory, "*" + SUFFIX) for r in read_slots(path)]
    found += [_read_legacy(path) for path in _files(directory, _LEGACY)]
    return [record for record in found if record is not None]


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


def _files(directory: Path, pattern: str) -> list[Path]:
    try:
        return sorted(directory.glob(pattern))
    except OSError:
        return []


def _sweep_file(path: Path, attempt_id: int | None) -> int:
    owner = Owner.of(path)
    if owner is None or not owner.on_this_host():
        return 0  # its pids mean nothing here; the other host's next driver stops them
    dead = not _alive(owner.pid, owner.started)
    if attempt_id is None and not dead:
        return 0
    stopped, kept, done = 0, 0, []
    for slot, record in enumerate(read_slots(path)):
        if record is not None and (record.host != HOST or
                                   attempt_id not in (None, record.attempt_id)):
            kept += 1
            continue
        if record is not None and _stop(record):
            stopped += 1
        done.append(slot)  # acted on, free, or torn (nothing in it matches a process)
    if not dead:
        return stopped
    if kept:
        for slot in done:
            clear_slot(path, slot)
    else:
        path.unlink(missing_ok=True)
    return stopped


def _sweep_legacy(path: Path, attempt_id: int | None) -> int:
    """A record of the previous release: one JSON file per command."""
    record = _read_legacy(path)
    if record is None:
        path.unlink(missing_ok=True)  # torn: nothing in it can be matched to a process
        return 0
    if record.host != HOST or attempt_id not in (None, record.attempt_id) or \
            (attempt_id is None and _alive(record.owner, record.owner_started)):
        return 0
    stopped = _stop(record)
    path.unlink(missing_ok=True)
    return int(stopped)


def _read_legacy(path: Path) -> ProcessRecord | None:
    try:
        return ProcessRecord.decode(path, None, path.read_bytes())
    except OSError:
        return None


def _stop(record: ProcessRecord) -> bool:
    if not _stop_group(record):
        return False
    log.warning("stopped process group %d of task %d (attempt %d) left running by a "
                "previous driver", record.pgid, record.task_id, record.attempt_id)
    return True


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


def _alive(pid: int, started: int | None) -> bool:
    """Whether a driver still runs. A killed one nobody reaped yet (a zombie) is dead: it
    waits on nothing."""
    now = process_start_time(pid)
    return now is not None and now == started and not _zombie(pid)


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
