"""``kill_orphans`` on real processes: it stops a recorded process group whose leader still
has its recorded start time (children included, SIGKILL when SIGTERM is ignored), never a
stranger that reused the pid, never another host's record; it clears a dead driver's slots
and removes its file, but never writes a live driver's file; and ``sh>`` records its
command in a slot while it runs, clears it when it ends and reuses it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from digpy.agent.local import LocalEngine
from digpy.agent.orphans import kill_orphans, live_records
from digpy.dsl.project import load_project
from digpy.spi.records import (
    HOST,
    SLOT_SIZE,
    Owner,
    Slot,
    SlotFile,
    process_start_time,
    record_process,
    set_process_records,
)

NO_PID = 4_194_305  # above Linux's largest pid_max: a driver that is surely gone


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts in their own session (like a task's command); killed after."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait(10)


@pytest.fixture
def dead_driver(tmp_path: Path) -> Iterator[SlotFile]:
    """The record file of a driver that died: written as a driver writes it."""
    driver = SlotFile(tmp_path, Owner(HOST, NO_PID, 1))
    yield driver
    driver.retire()


@pytest.fixture
def this_driver(tmp_path: Path) -> Iterator[Path]:
    """The test process as a live driver recording in ``tmp_path``, as run_command does."""
    previous = set_process_records(tmp_path)
    yield tmp_path
    set_process_records(previous)


def start(procs: list[subprocess.Popen[bytes]], script: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    procs.append(proc)
    return proc


def record(driver: SlotFile, pid: int, *, started: int | None = None, attempt_id: int = 1,
           task_id: int = 2) -> Slot:
    """A command's record written into a free slot of ``driver``'s file."""
    real = process_start_time(pid)
    assert real is not None
    slot = driver.record(pid=pid, started=real if started is None else started,
                         attempt_id=attempt_id, task_id=task_id)
    assert slot is not None
    return slot


def pids(directory: Path) -> set[int]:
    return {found.pid for found in live_records(directory)}


def members(pgid: int) -> int:
    """How many live (not zombie) processes group ``pgid`` has."""
    count = 0
    for name in os.listdir("/proc"):
        try:
            data = Path(f"/proc/{name}/stat").read_bytes() if name.isdigit() else b""
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2:].split() if data else []
        count += bool(fields) and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X")
    return count


def processes_in(directory: Path) -> list[int]:
    """Live processes whose working directory is ``directory``."""
    found = []
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and os.readlink(f"/proc/{name}/cwd") == str(directory):
                found.append(int(name))
        except OSError:
            continue
    return [pid for pid in found if members_state(pid) not in (b"Z", b"X", b"")]


def members_state(pid: int) -> bytes:
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return b""
    return data[data.rindex(b")") + 2:].split()[0]


def group_runs(pgid: int) -> bool:
    return members(pgid) > 0


def wait_for_child(proc: subprocess.Popen[bytes]) -> None:
    """Until the shell has run its first lines and started ``sleep`` (so a trap is set)."""
    for _ in range(1000):
        if members(proc.pid) >= 2:
            return
        time.sleep(0.01)
    raise AssertionError("the shell never started its child")


def test_a_recorded_group_is_stopped_with_its_children_and_the_dead_drivers_file_removed(
    dead_driver: SlotFile, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "sleep 30 & sleep 30; wait")
    record(dead_driver, proc.pid)
    assert kill_orphans(dead_driver.directory) == 1
    assert proc.wait(5) is not None
    assert not group_runs(proc.pid)
    assert not dead_driver.path.exists()


def test_a_group_that_ignores_sigterm_gets_sigkill_after_the_grace(
    dead_driver: SlotFile, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "trap '' TERM; sleep 30; true")
    wait_for_child(proc)
    record(dead_driver, proc.pid)
    assert kill_orphans(dead_driver.directory) == 1
    assert proc.wait(5) == -9
    assert not group_runs(proc.pid)


def test_a_stale_record_whose_pid_now_belongs_to_another_process_is_not_killed(
    dead_driver: SlotFile, spawned: list[subprocess.Popen[bytes]],
) -> None:
    stranger = start(spawned, "sleep 30; true")
    started = process_start_time(stranger.pid)
    assert started is not None
    record(dead_driver, stranger.pid, started=started - 1)  # the recorded one was older
    assert kill_orphans(dead_driver.directory) == 0
    assert stranger.poll() is None and group_runs(stranger.pid)
    assert not dead_driver.path.exists()  # the recorded process is gone: nothing to match


def test_a_record_of_another_host_is_left_alone_and_so_is_its_idle_file(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "sleep 30; true")
    busy = SlotFile(tmp_path, Owner(f"not-{HOST}", NO_PID, 1))
    idle = SlotFile(tmp_path, Owner(f"also-not-{HOST}", NO_PID, 1))
    record(busy, proc.pid)
    assert kill_orphans(tmp_path) == 0
    assert proc.poll() is None
    assert pids(tmp_path) == {proc.pid} and idle.path.exists()


def test_a_takeover_of_a_dead_drivers_attempt_clears_only_that_attempts_slot(
    dead_driver: SlotFile, spawned: list[subprocess.Popen[bytes]],
) -> None:
    mine = start(spawned, "sleep 30; true")
    other = start(spawned, "sleep 30; true")
    record(dead_driver, mine.pid, attempt_id=7)
    record(dead_driver, other.pid, attempt_id=8)
    assert kill_orphans(dead_driver.directory, attempt_id=7) == 1
    assert mine.wait(5) is not None and other.poll() is None
    assert pids(dead_driver.directory) == {other.pid}  # the file stays for attempt 8
    assert kill_orphans(dead_driver.directory) == 1  # a sweep: every dead driver's record
    assert not dead_driver.path.exists()


def test_a_sweep_leaves_a_live_drivers_records_and_a_takeover_stops_only_that_attempt(
    this_driver: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    mine = start(spawned, "sleep 30; true")
    other = start(spawned, "sleep 30; true")
    taken = record_process(5, 1, mine.pid)
    kept = record_process(6, 1, other.pid)
    assert taken is not None and kept is not None
    assert kill_orphans(this_driver) == 0
    assert mine.poll() is None and other.poll() is None
    before = taken.file.path.read_bytes()
    assert kill_orphans(this_driver, attempt_id=5) == 1  # the lease moved: stop it anyway
    assert mine.wait(5) is not None and other.poll() is None
    # The owner may be reusing the slot this very moment: only it clears its slots.
    assert taken.file.path.read_bytes() == before
    taken.release()
    assert pids(this_driver) == {other.pid}


def test_two_commands_at_once_hold_two_slots_and_a_slot_is_reused_after_release(
    this_driver: Path,
) -> None:
    first = record_process(1, 1, os.getpid())
    second = record_process(1, 2, os.getpid())
    assert first is not None and second is not None
    assert first.file is second.file and {first.number, second.number} == {0, 1}
    first.release()
    third = record_process(1, 3, os.getpid())
    assert third is not None and third.number == first.number
    assert first.file.path.stat().st_size == 2 * SLOT_SIZE
    second.release()
    third.release()
    set_process_records(None)  # the driver leaves the directory: its idle file goes
    assert not list(this_driver.iterdir())


def test_torn_and_free_slots_count_as_empty_so_a_dead_drivers_file_goes(
    dead_driver: SlotFile,
) -> None:
    freed = record(dead_driver, os.getpid())
    record(dead_driver, os.getpid())  # slot 1: torn below
    freed.release()  # slot 0: free
    with open(dead_driver.path, "r+b") as out:
        out.seek(SLOT_SIZE + 10)
        out.write(b"\0garbage")
    assert live_records(dead_driver.directory) == []
    assert kill_orphans(dead_driver.directory) == 0
    assert not dead_driver.path.exists()


def test_an_empty_file_left_by_a_driver_killed_before_its_first_record_is_removed(
    tmp_path: Path,
) -> None:
    path = tmp_path / Owner(HOST, NO_PID, 1).file_name
    path.write_bytes(b"")
    assert kill_orphans(tmp_path) == 0
    assert not path.exists()


def test_a_record_file_of_the_previous_release_is_still_swept(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "sleep 30; true")
    path = tmp_path / f"1.2.{proc.pid}.json"
    path.write_text(json.dumps({
        "pid": proc.pid, "started": process_start_time(proc.pid), "pgid": proc.pid,
        "host": HOST, "attempt_id": 1, "task_id": 2, "owner": NO_PID, "owner_started": 1}))
    (tmp_path / "3.4.99.json").write_bytes(b"")  # its writer was killed mid-write
    assert kill_orphans(tmp_path) == 1
    assert proc.wait(5) is not None
    assert not list(tmp_path.iterdir())


def test_a_forked_child_records_in_a_file_of_its_own(this_driver: Path) -> None:
    parent = record_process(1, 1, os.getpid())
    assert parent is not None
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        mine = record_process(2, 2, os.getpid())
        os.write(write, f"{mine.file.path.name if mine else ''} {os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    name, pid = os.read(read, 1000).decode().split()
    os.close(read)
    os.waitpid(child, 0)
    assert name != parent.file.path.name and f"-{pid}-" in name
    assert {(r.attempt_id, r.owner) for r in live_records(this_driver)} == {
        (1, os.getpid()), (2, int(pid))}
    parent.release()


def test_sh_records_its_command_in_a_slot_while_it_runs_and_clears_it_when_it_ends(
    tmp_path: Path,
) -> None:
    # The record is written just after the command starts: look until it is there.
    (tmp_path / "wf.dig").write_text(
        "+look:\n  sh>: for i in $(seq 1000); do cp .digpy/running/*.slots seen.slots"
        " 2>/dev/null && [ -s seen.slots ] && break; sleep 0.01; done\n")
    project = load_project(tmp_path)
    with LocalEngine(tmp_path) as engine:
        engine.register(list(project.workflows.values()))
        result = engine.run(project.workflows["wf"])
    (seen,) = live_records(tmp_path)
    assert result.status.value == "success"
    assert seen.attempt_id == result.attempt_id and seen.host == HOST
    assert seen.pgid == seen.pid and seen.owner == os.getpid() and seen.slot == 0
    assert not list((tmp_path / ".digpy" / "running").iterdir())  # the run's file is gone


def test_the_record_file_does_not_grow_with_the_number_of_tasks_run(tmp_path: Path) -> None:
    (tmp_path / "wf.dig").write_text(
        "".join(f"+t{i}:\n  sh>: 'true'\n" for i in range(49))
        + "+size:\n  sh>: stat -c %s .digpy/running/*.slots > size.txt\n")
    project = load_project(tmp_path)
    with LocalEngine(tmp_path) as engine:
        engine.register(list(project.workflows.values()))
        assert engine.run(project.workflows["wf"]).success
    assert int((tmp_path / "size.txt").read_text()) <= 2 * SLOT_SIZE  # 50 tasks, one slot


def test_a_command_whose_record_cannot_be_written_fails_its_task_and_is_killed(
    tmp_path: Path,
) -> None:
    # The first task replaces the records directory by a file: the driver's open record
    # file is gone, and a new one cannot be made.
    (tmp_path / "wf.dig").write_text(
        "+break:\n  sh>: rm -r .digpy/running && touch .digpy/running\n"
        "+next:\n  sh>: sleep 30\n")
    project = load_project(tmp_path)
    with LocalEngine(tmp_path) as engine:
        engine.register(list(project.workflows.values()))
        result = engine.run(project.workflows["wf"])
    assert not result.success
    assert "Cannot record the command's process in " in str(result.error)
    # The command's shell was started (in the project directory) before the record
    # failed; run_command killed and reaped it.
    assert not processes_in(tmp_path)


def test_parallel_commands_of_a_killed_digpy_run_hold_two_slots_and_are_both_stopped(
    tmp_path: Path,
) -> None:
    (tmp_path / "wf.dig").write_text(
        "_parallel: true\n+a:\n  sh>: sleep 30\n+b:\n  sh>: sleep 30\n")
    running = tmp_path / ".digpy" / "running"
    driver = subprocess.Popen(
        [sys.executable, "-m", "digpy", "run", "wf", "--project", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(2000):
            if len(live_records(running)) == 2:
                break
            time.sleep(0.01)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
    found = live_records(running)
    assert sorted(r.slot for r in found) == [0, 1] and len({r.path for r in found}) == 1
    assert all(group_runs(r.pgid) for r in found)  # kill -9 left both commands running
    assert kill_orphans(running) == 2
    assert not any(group_runs(r.pgid) for r in found)
    assert not list(running.iterdir())
