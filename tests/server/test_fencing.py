"""Two daemons' executors (``AttemptWorkers``) in one process on one store, stepped by hand:
the fence refuses a stale owner's write, and claims follow idle worker threads (issue #6 §3).
The store is a real SQLite file; the lease code path is the one PostgreSQL uses."""

from __future__ import annotations

from pathlib import Path

from digpy.clock import SystemClock
from digpy.model.states import TaskState
from digpy.scheduler.leasing import LeasedExecutor
from digpy.scheduler.workers import AttemptWorkers, LeaseTimes
from digpy.store.sql.engine import SqlStore, open_store

from .daemon_helpers import attempt_status, create_attempt, create_attempts

EXPIRED = LeaseTimes(lease_seconds=0.0, heartbeat_seconds=3600.0)  # expired once claimed
LONG = LeaseTimes(lease_seconds=600.0, heartbeat_seconds=3600.0)


def workers(store: SqlStore, tmp_path: Path, name: str, leases: LeaseTimes,
            threads: int = 4) -> AttemptWorkers:
    return AttemptWorkers(store, SystemClock(), data_dir=tmp_path / name, max_task_threads=threads,
                          leases=leases, daemon_id=name)


def task_state(store: SqlStore, attempt_id: int, suffix: str) -> TaskState:
    with store.read() as tx:
        tasks = tx.tasks.list_tasks(attempt_id)
    return next(t.state for t in tasks if t.full_name.endswith(suffix))


def test_a_stale_owners_report_is_rolled_back_and_its_attempt_dropped(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    go = tmp_path / "go"
    (project / "wf.dig").write_text(
        f"+only:\n  sh>: while [ ! -e {go} ]; do sleep 0.02; done; exit 1\n")
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    attempt = create_attempt(url, project, "wf")
    store = open_store(url)
    stale, fresh = workers(store, tmp_path, "a", EXPIRED), workers(store, tmp_path, "b", LONG)
    try:
        assert stale.adopt_new() == 1
        stale.step()  # claims +only and starts it
        assert task_state(store, attempt.id, "+only") is TaskState.RUNNING
        [driven] = stale.driver.attempts
        assert fresh.adopt_new() == 1  # the lease expired: b takes over, +only is READY again
        go.touch()
        for _ in range(500):  # a's run fails; its report meets the fence
            if not stale.driver.attempts:
                break
            stale.step()
        assert isinstance(driven.executor, LeasedExecutor) and driven.executor.lost
        assert task_state(store, attempt.id, "+only") is TaskState.READY  # nothing of a's landed
    finally:
        stale.close()
        fresh.close()
        store.close()


def test_a_daemon_claims_no_more_attempts_than_it_has_idle_threads(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "wf.dig").write_text("+only:\n  sh>: sleep 5\n")
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    attempts = create_attempts(url, project, "wf", 5)
    store = open_store(url)
    first, second = (workers(store, tmp_path, name, LONG, threads=2) for name in ("a", "b"))
    try:
        taken = [first.adopt_new(), second.adopt_new()]
        first.step()  # both of a's threads are busy now
        taken += [first.adopt_new(), second.adopt_new()]
        with store.read() as tx:
            held = sorted(lease.daemon_id for lease in tx.leases.list_leases())
        first.pool.cancel_all("test over")
        second.pool.cancel_all("test over")
    finally:
        first.close()
        second.close()
        store.close()
    assert taken == [2, 2, 0, 0]
    assert held == ["a", "a", "b", "b"]
    assert len(attempts) == 5  # the fifth waits for a free thread


def test_a_finished_attempt_keeps_no_lease_worth_renewing(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "wf.dig").write_text("+only:\n  echo>: hi\n")
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    attempt = create_attempt(url, project, "wf")
    store = open_store(url)
    worker = workers(store, tmp_path, "a", LONG)
    try:
        worker.adopt_new()
        while worker.busy:
            worker.step()
        with store.write() as tx:
            renewed = tx.leases.heartbeat("a", lease_seconds=60)
        status = attempt_status(store, attempt.id)
    finally:
        worker.close()
        store.close()
    assert status == "success"
    assert renewed == []


def test_a_daemon_whose_clock_runs_ten_minutes_ahead_never_takes_a_live_lease(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    from digpy.clock import FakeClock

    project = tmp_path / "proj"
    project.mkdir()
    (project / "wf.dig").write_text("+only:\n  sh>: sleep 5\n")
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    create_attempt(url, project, "wf")
    store = open_store(url)
    honest = workers(store, tmp_path, "a", LONG)
    skewed = AttemptWorkers(store, FakeClock(datetime.now(UTC) + timedelta(minutes=10)),
                            data_dir=tmp_path / "b", leases=LONG, daemon_id="b")
    try:
        taken = [honest.adopt_new(), skewed.adopt_new()]  # lease times: the database's clock
    finally:
        honest.close()
        skewed.close()
        store.close()
    assert taken == [1, 0]
