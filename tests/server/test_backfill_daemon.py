"""A backfill runs in the daemon one slot after another, oldest first (spec §5.5), and a
daemon restart in the middle continues it. In-process daemons on a FakeClock; the tasks
are real sh> subprocesses and wait> polls."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from digpy.clock import FakeClock
from digpy.dsl.compiler import compile_workflow
from digpy.model.records import Attempt
from digpy.model.states import Trigger
from digpy.scheduler import control
from digpy.scheduler.daemon import Daemon
from digpy.scheduler.sync import store_revision
from digpy.settings import Settings
from digpy.store.sql.engine import SqlStore, open_store

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)


def backfilled(store: SqlStore) -> list[Attempt]:
    with store.read() as tx:
        found = [a for s in tx.sessions.list_sessions(1, limit=100)
                 for a in tx.attempts.list_attempts(s.id) if a.trigger is Trigger.BACKFILL]
    return sorted(found, key=lambda a: a.session_time)


def run_until(daemon: Daemon, clock: FakeClock, done: int, store: SqlStore) -> None:
    for _ in range(5000):
        attempts = backfilled(store)
        if len(attempts) >= done and all(a.done for a in attempts[:done]):
            return
        daemon.step()
        if not daemon.workers.busy:
            clock.advance(1)
    raise AssertionError("the backfill did not get that far")


def test_backfill_slots_run_oldest_first_each_after_the_previous_attempt_finished(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "ledger"
    workflow = compile_workflow("wf", {
        "schedule": {"daily>": "07:00:00"},
        "+log": {"sh>": f"echo ${{session_date}} >> {ledger}"},
        "+wait": {"wait>": "30s"},
    })
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    store = open_store(url)
    clock = FakeClock(NOW)
    pushed = store_revision(store, name="p", path=str(tmp_path), workflows=[workflow], now=NOW)
    settings = Settings(database=url, data_dir=str(tmp_path))

    plan = control.backfill(store, pushed.schedules[0].id, from_time=datetime(2026, 1, 5),
                            count=4, attempt_name="fill", now=NOW)
    first = Daemon(settings, store, clock)
    run_until(first, clock, 2, store)
    first.workers.drain()
    first.workers.close()
    second = Daemon(settings, store, clock)  # a restart half-way
    run_until(second, clock, 4, store)
    second.workers.close()
    attempts = backfilled(store)
    store.close()

    assert [a.session_time.day for a in attempts] == [5, 6, 7, 8]
    assert {a.name for a in attempts} == {"fill"}
    assert attempts[0].id == plan.first_attempt_id
    for earlier, later in pairwise(attempts):
        assert earlier.finished_at is not None and later.created_at >= earlier.finished_at
    assert ledger.read_text().split() == ["2026-01-05", "2026-01-06", "2026-01-07",
                                          "2026-01-08"]
