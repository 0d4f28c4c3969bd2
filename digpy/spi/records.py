"""The R2 process records: which commands a driver has running, kept where the next driver
finds them after a ``kill -9`` (read by digpy.agent.orphans).

Each driver process (``digpy run``, a daemon) writes one file in the records directory set
with ``set_process_records``: ``<host>-<pid>-<start time>.slots``, opened on its first
command. The file is an array of SLOT_SIZE-byte slots; a running command holds one slot,
whose bytes are a JSON object padded with NUL bytes, and a slot that starts with NUL is
free. Recording a command is one ``pwrite`` into the open file and clearing it another —
about a microsecond, where a file per command cost 0.1 ms to create and unlink. A free list
hands the lowest free slot out again, so the file is as large as the most commands that
ran at once, not as the number run.

SLOT_SIZE is a power of two dividing the page size: a slot never straddles a page, so a
reader sees a slot either whole or, at worst, torn (it then fails to parse and counts as
empty, like the record of a writer killed mid-write, which never got to wait on its
command).
"""

from __future__ import annotations

import errno
import heapq
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

SLOT_SIZE = 512
SUFFIX = ".slots"
# A record names its host: only that host can check its pid. (socket.gethostname() is the
# same name; uname spares importing socket at start-up.)
HOST = os.uname().nodename
_EMPTY = bytes(SLOT_SIZE)


def process_start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22),
    or None when there is no such process (or no ``/proc``). A pid with another start time
    is a different process that reused the number."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; fields after the last
    # ')' are plain numbers: state is field 3, so field 22 is the 20th after it.
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[19])


@dataclass(frozen=True, slots=True)
class Owner:
    """The driver a record file belongs to. The host is in the file's name so that another
    host's idle file (every slot free, so no record to name it) is still left alone."""

    host: str
    pid: int
    started: int

    @property
    def file_name(self) -> str:
        return f"{self.host.replace('/', '_')}-{self.pid}-{self.started}{SUFFIX}"

    @classmethod
    def of(cls, path: Path) -> Owner | None:
        """The owner a record file's name gives; None for a name no driver writes."""
        try:
            host, pid, started = path.name.removesuffix(SUFFIX).rsplit("-", 2)
            return cls(host, int(pid), int(started))
        except ValueError:
            return None

    def on_this_host(self) -> bool:
        return self.host == HOST.replace("/", "_")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessRecord:
    """One command a driver started: what it wrote before waiting on it. ``slot`` is its
    slot in ``path`` (None in a file of the previous release: one JSON file per command)."""

    path: Path
    slot: int | None
    pid: int
    started: int  # /proc/<pid>/stat field 22 when it was started
    pgid: int
    host: str
    attempt_id: int
    task_id: int
    owner: int  # the driver that started it: pid and start time
    owner_started: int | None

    @classmethod
    def decode(cls, path: Path, slot: int | None, raw: bytes) -> ProcessRecord | None:
        """The record in ``raw``; None when it is empty or torn."""
        try:
            data = json.loads(raw.split(b"\0", 1)[0]) if raw[:1] not in (b"", b"\0") else None
            if data is None:
                return None
            return cls(path=path, slot=slot, pid=int(data["pid"]), started=int(data["started"]),
                       pgid=int(data["pgid"]), host=str(data["host"]),
                       attempt_id=int(data["attempt_id"]), task_id=int(data["task_id"]),
                       owner=int(data["owner"]), owner_started=data.get("owner_started"))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def read_slots(path: Path) -> list[ProcessRecord | None]:
    """Every slot of a record file in order, None for a free or torn one; [] when the file
    is gone."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    return [ProcessRecord.decode(path, start // SLOT_SIZE, data[start:start + SLOT_SIZE])
            for start in range(0, len(data), SLOT_SIZE)]


def clear_slot(path: Path, slot: int) -> None:
    """Free ``slot`` in a dead driver's file (a sweep); the file may be gone already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        os.pwrite(fd, _EMPTY, slot * SLOT_SIZE)
    finally:
        os.close(fd)


class SlotFile:
    """One driver's open record file. Pool threads record commands concurrently: the free
    list is behind a lock; each slot's bytes are written only by the thread holding it, and
    the file stays open while any slot is held."""

    def __init__(self, directory: Path, owner: Owner) -> None:
        self.directory = directory
        self.owner = owner
        self.path = directory / owner.file_name
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        try:
            self._fd = os.open(self.path, flags, 0o600)
        except FileNotFoundError:  # the directory was removed under us: make it again
            directory.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, flags, 0o600)
        # The part of every record that names the driver, encoded once.
        self._tail = (f'"host": {json.dumps(owner.host)}, "owner": {owner.pid}, '
                      f'"owner_started": {owner.started}}}').encode()
        self._lock = threading.Lock()
        self._free: list[int] = []  # a heap of released slots: the lowest is handed out
        self._size = 0  # slots the file has
        self._held = 0
        self.retired = False

    def record(self, *, pid: int, started: int, attempt_id: int, task_id: int) -> Slot | None:
        """Write a command's record into a free slot and hold that slot until released;
        None when this file was retired (the caller opens the current one)."""
        data = b'{"pid": %d, "started": %d, "pgid": %d, "attempt_id": %d, "task_id": %d, ' % (
            pid, started, pid, attempt_id, task_id) + self._tail
        if len(data) >= SLOT_SIZE:  # only a hostname of escaped non-ASCII bytes gets here
            raise OSError(errno.ENAMETOOLONG, "the record does not fit its slot")
        number = self._acquire()
        if number is None:
            return None
        try:
            # Removed under us (``rm -r`` of the directory), records here could not be
            # found: the caller records in a new file.
            if os.fstat(self._fd).st_nlink == 0:
                self.retired = True
                self._give_back(number)
                return None
            os.pwrite(self._fd, data.ljust(SLOT_SIZE, b"\0"), number * SLOT_SIZE)
        except BaseException:
            self._give_back(number)
            raise
        return Slot(self, number)

    def release(self, number: int) -> None:
        """Free a slot: zero it, then hand it out again (in this order, so a thread that
        gets it next never has its record wiped)."""
        try:
            os.pwrite(self._fd, _EMPTY, number * SLOT_SIZE)
        except OSError:
            pass  # a stale record is harmless: its pid no longer has its start time
        self._give_back(number)

    def retire(self) -> None:
        """Stop handing out slots; close (and remove) the file once no command holds one."""
        with self._lock:
            self.retired = True
            if self._held == 0:
                self._close()

    def revive(self, directory: Path) -> bool:
        """Hand out slots again (the same directory set once more) unless already closed:
        two open files on one path would hand out the same slots."""
        with self._lock:
            if self._fd < 0 or os.fstat(self._fd).st_nlink == 0:
                return False
            self.retired, self.directory = False, directory
            return True

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def _acquire(self) -> int | None:
        with self._lock:
            if self.retired:
                return None
            self._held += 1
            if self._free:
                return heapq.heappop(self._free)
            self._size += 1
            return self._size - 1

    def _give_back(self, number: int) -> None:
        with self._lock:
            heapq.heappush(self._free, number)
            self._held -= 1
            if self.retired and self._held == 0:
                self._close()

    def _close(self) -> None:
        if self._fd < 0:
            return
        try:
            # Every slot is free: nothing left for a sweep to find. A file already removed
            # under us left its name to a newer one, which must stay.
            if os.fstat(self._fd).st_nlink > 0:
                self.path.unlink(missing_ok=True)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = -1


@dataclass(frozen=True, slots=True)
class Slot:
    """A slot a running command's record holds."""

    file: SlotFile
    number: int

    def release(self) -> None:
        self.file.release(self.number)


_directory: Path | None = None  # where commands are recorded; None: nowhere
_current: SlotFile | None = None  # this process's file there, opened on the first command
_files: dict[Path, SlotFile] = {}  # this process's files, by path, until they are closed
_lock = threading.Lock()


def set_process_records(directory: Path | None) -> Path | None:
    """Record every command started from now on in ``directory`` (created); returns the
    previous setting so a caller can restore it. One setting per process: a process drives
    one store (``digpy run`` or one daemon). The file in the previous directory is closed,
    and removed, once its commands have ended."""
    global _directory, _current
    with _lock:
        previous = _directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        if _current is not None and _current.owner.pid == os.getpid():
            _current.retire()  # a forked child leaves its parent's file alone
        _directory, _current = directory, None
        return previous


def records_directory() -> Path | None:
    """Where commands are recorded now (set_process_records)."""
    return _directory


def record_process(attempt_id: int, task_id: int, pid: int) -> Slot | None:
    """Record the command ``pid`` (just started, not yet waited on) in this driver's file;
    None when nothing is recorded (no directory set, or no ``/proc`` to check a pid
    against). No fsync: the record must survive the crash of this process, not of the OS
    (which takes the command with it). Raises OSError when it cannot be written."""
    directory = _directory
    started = process_start_time(pid)
    if directory is None or started is None:
        return None
    for _ in range(3):  # a file retired between the lookup and the write: the next one
        slot = _driver_file(directory).record(pid=pid, started=started,
                                              attempt_id=attempt_id, task_id=task_id)
        if slot is not None:
            return slot
    raise OSError(errno.EAGAIN, "the record file kept being replaced")


def _driver_file(directory: Path) -> SlotFile:
    """This process's record file in ``directory``. A forked child (another pid) opens its
    own: its commands must not take slots its parent's free list also hands out."""
    global _current
    current, pid = _current, os.getpid()
    if current is not None and current.directory is directory and \
            current.owner.pid == pid and not current.retired:
        return current
    with _lock:
        current = _current
        if current is not None and current.owner.pid == pid:
            if current.directory is directory and not current.retired:
                return current  # another thread opened it meanwhile
            current.retire()
        started = process_start_time(pid)
        if started is None:
            raise OSError(errno.ENOENT, f"no /proc/{pid}/stat")
        owner = Owner(HOST, pid, started)
        for closed in [path for path, file in _files.items() if file.closed]:
            del _files[closed]
        found = _files.get(directory / owner.file_name)
        if found is None or not found.revive(directory):
            found = SlotFile(directory, owner)
            _files[found.path] = found
        _current = found
        return found


def _after_fork_in_child() -> None:
    # A thread of the parent may have held the lock at the fork: the child gets a new one.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
