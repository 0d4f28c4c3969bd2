"""Reliability R2: a task's command that outlives ``kill -9`` of its driver (its own process
group) is stopped before the task runs again, so two copies never run at once — for the
daemon on SQLite (restart) and PostgreSQL (lease takeover), and for ``digpy run`` resumed.

Every run of the task (``sh>``: a probe, then ``sleep``) appends to a ledger ``start PGID NS
ALIVE`` (ALIVE: the earlier runs' process groups that still had a live process when it
started, or ``-``) and, when it gets that far, ``end PGID NS``. The first run sleeps 20 s,
later ones 0.2 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from digpy.agent.orphans import live_records
from digpy.store.sql.engine import open_store

from .daemon_helpers import (
    attempt_status,
    create_attempt,
    start_daemon,
    start_pg_daemon,
    stop,
    wait_for,
)

PROBE = '''
import os, sys, time
ledger, me = sys.argv[2], os.getpgid(0)  # the task's shell leads the group
if sys.argv[1] == "end":
    with open(ledger, "a") as out:
        out.write(f"end {me} {time.time_ns()}\\n")
    sys.exit(0)

def runs(pgid):
    for name in os.listdir("/proc"):
        try:
            data = open(f"/proc/{name}/stat", "rb").read() if name.isdigit() else b""
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2:].split() if data else []
        if fields and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False

lines = open(ledger).read().split("\\n") if os.path.exists(ledger) else []
earlier = [int(line.split()[1]) for line in lines if line.startswith("start ")]
alive = [str(pid) for pid in earlier if runs(pid)]
with open(ledger, "a") as out:
    out.write(f"start {me} {time.time_ns()} {','.join(alive) or '-'}\\n")
print(20 if not earlier else 0.2)
'''


def make_project(root: Path, ledger: Path) -> Path:
    project = root / "proj"
    project.mkdir(parents=True)
    (project / "probe.py").write_text(PROBE)
    (project / "work.dig").write_text(f"""
+work:
  sh>: sleep $({sys.executable} probe.py start {ledger}) && {sys.executable} probe.py end {ledger}
""")
    return project


def runs_of(ledger: Path) -> list[list[str]]:
    return [line.split() for line in ledger.read_text().splitlines()] if ledger.exists() else []


def group_runs(pgid: int) -> bool:
    """A live (not zombie) process in group ``pgid``: the orphan is still running."""
    for name in os.listdir("/proc"):
        try:
            data = Path(f"/proc/{name}/stat").read_bytes() if name.isdigit() else b""
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2:].split() if data else []
        if fields and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def first_run_started(ledger: Path, records: Path) -> int:
    """Wait until the first run is recorded and writing its ledger; its pid (= pgid)."""
    wait_for(lambda: bool(runs_of(ledger)) and bool(live_records(records)), 20,
             "the first run to start")
    return int(runs_of(ledger)[0][1])


def assert_ran_once_at_a_time(ledger: Path, orphan: int) -> None:
    """The orphan never finished (it was stopped), the re-run saw no earlier group alive
    when it started and finished, and the orphan's group is gone."""
    lines = runs_of(ledger)
    starts = [line for line in lines if line[0] == "start"]
    ends = [line[1] for line in lines if line[0] == "end"]
    assert [line[1] for line in starts] == [str(orphan), starts[1][1]]
    assert starts[1][3] == "-", f"the re-run started while {starts[1][3]} still ran"
    assert ends == [starts[1][1]]
    assert not group_runs(orphan)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_command_left_running_by_a_killed_daemon_is_stopped_before_its_task_runs_again(
    tmp_path: Path, database: str, request: pytest.FixtureRequest,
) -> None:
    ledger = tmp_path / "ledger.txt"
    project = make_project(tmp_path, ledger)
    data = tmp_path / "data"
    if database == "sqlite":
        url = f"sqlite:///{data / 'digpy.db'}"
        start = lambda: start_daemon(data)  # noqa: E731 - restart: the lock frees everything
    else:  # the same host's next daemon takes the attempt over when its lease expires
        url = request.getfixturevalue("pg_url")
        start = lambda: start_pg_daemon(data, url)  # noqa: E731
    attempt = create_attempt(url, project, "work")
    proc = start()
    try:
        orphan = first_run_started(ledger, data / "running")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert group_runs(orphan)  # kill -9 of the daemon left its command running
        proc = start()
        with open_store(url) as store:
            wait_for(lambda: attempt_status(store, attempt.id) != "running", 25,
                     "the attempt to finish")
            status = attempt_status(store, attempt.id)
    finally:
        assert stop(proc) == 0
    assert status == "success"
    assert_ran_once_at_a_time(ledger, orphan)
    assert f"stopped process group {orphan} " in (data / "daemon.log").read_text()
    assert not list((data / "running").iterdir())  # both daemons' files are gone


def test_a_command_left_running_by_a_killed_digpy_run_is_stopped_when_the_next_run_starts(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "ledger.txt"
    project = make_project(tmp_path, ledger)
    command = [sys.executable, "-m", "digpy", "run", "work", "--project", str(project)]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        orphan = first_run_started(ledger, project / ".digpy" / "running")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert group_runs(orphan)  # kill -9 of digpy run left its command running
    second = subprocess.run(command, capture_output=True, text=True, timeout=25)
    assert second.returncode == 0, second.stdout + second.stderr
    assert_ran_once_at_a_time(ledger, orphan)
    assert not list((project / ".digpy" / "running").iterdir())  # the killed run's file too
