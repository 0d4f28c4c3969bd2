"""`digpy server` as a real process: it fires schedules and runs their attempts, drains on
SIGTERM, refuses a second daemon on one SQLite file, and finishes attempts after kill -9
(reliability R1, R7, O3)."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest

from digpy.cli import main
from digpy.store.sql.engine import open_store

from .daemon_helpers import (
    attempt_status,
    create_attempt,
    ledger,
    start_daemon,
    stop,
    wait_for,
    write,
)


def url_of(data: Path) -> str:
    return f"sqlite:///{data / 'digpy.db'}"


def test_the_daemon_fires_a_schedule_and_runs_its_attempts(tmp_path: Path) -> None:
    out = tmp_path / "ledger.txt"
    project = tmp_path / "proj"
    write(project / "tick.dig", f"""
timezone: UTC
schedule:
  seconds_interval>: 1
+a:
  sh>: echo ${{session_unixtime}} >> {out}
""")
    data = tmp_path / "data"
    proc = start_daemon(data, "--project", str(project))
    try:
        wait_for(lambda: len(ledger(out)) >= 2, 20, "two scheduled sessions")
    finally:
        assert stop(proc) == 0
    assert len(set(ledger(out))) == len(ledger(out))  # one run per session


def test_a_second_daemon_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_daemon(data)
    try:
        wait_for(lambda: (data / "digpy.db").exists(), 20, "the first daemon")
        second = start_daemon(data, log=tmp_path / "second.log")
        assert second.wait(20) == 1
    finally:
        assert stop(first) == 0
    assert "another digpy daemon holds" in (tmp_path / "second.log").read_text()


def test_sigterm_lets_running_tasks_finish_starts_nothing_new_and_exits_0(
    tmp_path: Path,
) -> None:
    out = tmp_path / "ledger.txt"
    project = tmp_path / "proj"
    write(project / "slow.dig", f"""
+first:
  sh>: echo start-first >> {out}; sleep 2; echo end-first >> {out}
+second:
  sh>: echo start-second >> {out}
""")
    data = tmp_path / "data"
    attempt = create_attempt(url_of(data), project, "slow")
    proc = start_daemon(data)
    try:
        wait_for(lambda: "start-first" in ledger(out), 20, "the first task to start")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        stop(proc)
    assert ledger(out) == ["start-first", "end-first"]
    with open_store(url_of(data)) as store:
        assert attempt_status(store, attempt.id) == "running"  # the next daemon continues it


@pytest.mark.slow
def test_after_kill_9_at_a_random_point_a_restarted_daemon_finishes_the_attempt(
    tmp_path: Path,
) -> None:
    seed = random.randrange(1_000_000)
    print(f"seed {seed}")
    out = tmp_path / "ledger.txt"
    tasks = "\n".join(
        f"  +t{i}:\n    sh>: echo t{i} >> {out}; sleep 0.02" for i in range(40)
    )
    project = tmp_path / "proj"
    write(project / "fifty.dig", f"""
+fan:
  _parallel: true
{tasks}
+call:
  call>: sub.dig
+last:
  echo>: done
""")
    write(project / "sub.dig", "\n".join(
        f"+s{i}:\n  sh>: echo s{i} >> {out}" for i in range(8)))
    data = tmp_path / "data"
    attempt = create_attempt(url_of(data), project, "fifty")
    proc = start_daemon(data)
    try:
        goal = random.Random(seed).randrange(1, 45)
        wait_for(lambda: len(ledger(out)) >= goal, 30, f"{goal} tasks")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc = start_daemon(data)
        with open_store(url_of(data)) as store:
            wait_for(lambda: attempt_status(store, attempt.id) != "running", 60,
                     "the attempt to finish")
            status = attempt_status(store, attempt.id)
            with store.read() as tx:
                project_row = tx.projects.find_project("proj")
                assert project_row is not None
                sessions = tx.sessions.list_sessions(project_row.id)
                attempts = tx.attempts.list_attempts(sessions[0].id)
    finally:
        assert stop(proc) == 0
    assert status == "success"
    assert len(sessions) == 1 and len(attempts) == 1
    names = set(ledger(out))
    assert names == {f"t{i}" for i in range(40)} | {f"s{i}" for i in range(8)}


def test_push_stores_a_revision_with_its_archive_and_keeps_old_ones(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write(project / "wf.dig", "schedule:\n  daily>: 07:00:00\n+a:\n  echo>: one\n")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"

    assert main(["push", str(project), "--database", url, "--revision", "v1"]) == 0
    write(project / "wf.dig", "schedule:\n  daily>: 08:00:00\n+a:\n  echo>: two\n")
    assert main(["push", str(project), "--database", url, "--revision", "v2"]) == 0

    with open_store(url) as store, store.read() as tx:
        found = tx.projects.find_project("proj")
        assert found is not None
        latest = tx.projects.latest_revision(found.id)
        assert latest is not None and latest.name == "v2"
        archive = tx.archives.get_archive(latest.id)
        schedules = tx.schedules.list_schedules(found.id)
    assert archive is not None and archive[:2] == b"\x1f\x8b"  # gzip
    assert [s.workflow_name for s in schedules] == ["wf"]
    assert schedules[0].next_run_time.hour == 8


def test_push_refuses_a_broken_project_with_exit_2(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write(project / "wf.dig", "+a:\n  echo>: [unclosed\n")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"

    assert main(["push", str(project), "--database", url]) == 2
