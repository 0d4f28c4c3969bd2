"""``kill_orphans`` on real processes: it stops a recorded process group whose leader still
has its recorded start time (children included, SIGKILL when SIGTERM is ignored), never a
stranger that reused the pid, never another host's record; and ``sh>`` records its command
while it runs and removes the record when it ends."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from digpy.agent.local import LocalEngine
from digpy.agent.orphans import kill_orphans
from digpy.dsl.project import load_project
from digpy.spi.process import HOST, process_start_time


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts in their own session (like a task's command); killed after."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait(10)


def start(procs: list[subprocess.Popen[bytes]], script: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    procs.append(proc)
    return proc


def record(directory: Path, pid: int, *, started: int | None = None, host: str = HOST,
           attempt_id: int = 1, task_id: int = 2, owner: int | None = None) -> Path:
    """A record as ``run_command`` writes it; its driver is dead unless ``owner`` is given
    (a live pid whose start time is recorded)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{attempt_id}.{task_id}.{pid}.json"
    real = process_start_time(pid)
    path.write_text(json.dumps({
        "pid": pid, "started": real if started is None else started, "pgid": pid,
        "host": host, "attempt_id": attempt_id, "task_id": task_id,
        "owner": owner or 0, "owner_started": process_start_time(owner) if owner else None,
    }))
    return path


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


def group_runs(pgid: int) -> bool:
    return members(pgid) > 0


def wait_for_child(proc: subprocess.Popen[bytes]) -> None:
    """Until the shell has run its first lines and started ``sleep`` (so a trap is set)."""
    for _ in range(1000):
        if members(proc.pid) >= 2:
            return
        time.sleep(0.01)
    raise AssertionError("the shell never started its child")


def test_a_recorded_group_is_stopped_with_its_children_and_its_record_deleted(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "sleep 30 & sleep 30; wait")
    path = record(tmp_path, proc.pid)
    assert kill_orphans(tmp_path) == 1
    assert proc.wait(5) is not None
    assert not group_runs(proc.pid)
    assert not path.exists()


def test_a_group_that_ignores_sigterm_gets_sigkill_after_the_grace(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "trap '' TERM; sleep 30; true")
    wait_for_child(proc)
    record(tmp_path, proc.pid)
    assert kill_orphans(tmp_path) == 1
    assert proc.wait(5) == -9
    assert not group_runs(proc.pid)


def test_a_stale_record_whose_pid_now_belongs_to_another_process_is_not_killed(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    stranger = start(spawned, "sleep 30; true")
    started = process_start_time(stranger.pid)
    assert started is not None
    path = record(tmp_path, stranger.pid, started=started - 1)  # the recorded process was older
    assert kill_orphans(tmp_path) == 0
    assert stranger.poll() is None and group_runs(stranger.pid)
    assert not path.exists()  # the recorded process is gone: nothing left to match


def test_a_record_of_another_host_is_left_alone(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "sleep 30; true")
    path = record(tmp_path, proc.pid, host=f"not-{HOST}")
    assert kill_orphans(tmp_path) == 0
    assert proc.poll() is None
    assert path.exists()


def test_only_the_records_of_the_attempt_taken_over_are_acted_on(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    mine = start(spawned, "sleep 30; true")
    other = start(spawned, "sleep 30; true")
    record(tmp_path, mine.pid, attempt_id=7)
    kept = record(tmp_path, other.pid, attempt_id=8)
    assert kill_orphans(tmp_path, attempt_id=7) == 1
    assert mine.wait(5) is not None and other.poll() is None
    assert kept.exists()


def test_a_sweep_leaves_a_live_drivers_records_but_a_takeover_stops_them(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = start(spawned, "sleep 30; true")
    path = record(tmp_path, proc.pid, attempt_id=5, owner=os.getpid())  # this test drives it
    assert kill_orphans(tmp_path) == 0
    assert proc.poll() is None and path.exists()
    assert kill_orphans(tmp_path, attempt_id=5) == 1  # the lease moved: stop it anyway
    assert proc.wait(5) is not None and not path.exists()


def test_an_empty_record_left_by_a_writer_killed_mid_write_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "3.4.99.json").write_bytes(b"")
    assert kill_orphans(tmp_path) == 0
    assert not list(tmp_path.iterdir())


def test_sh_records_its_command_while_it_runs_and_removes_the_record_when_it_ends(
    tmp_path: Path,
) -> None:
    # The record is written just after the command starts: look until it is there.
    (tmp_path / "wf.dig").write_text(
        "+look:\n  sh>: for i in $(seq 1000); do cat .digpy/running/*.json > seen.json"
        " 2>/dev/null && [ -s seen.json ] && break; sleep 0.01; done\n")
    project = load_project(tmp_path)
    with LocalEngine(tmp_path) as engine:
        engine.register(list(project.workflows.values()))
        result = engine.run(project.workflows["wf"])
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert result.status.value == "success"
    assert seen["attempt_id"] == result.attempt_id and seen["host"] == HOST
    assert seen["pgid"] == seen["pid"] and isinstance(seen["started"], int)
    assert not list((tmp_path / ".digpy" / "running").iterdir())
