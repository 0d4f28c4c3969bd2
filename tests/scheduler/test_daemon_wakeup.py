"""The daemon loop ticks at a schedule's run time rather than up to a tick interval (1 s)
later, which is what keeps schedule lateness in milliseconds (bench/bench_lateness.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from digpy.clock import FakeClock
from digpy.dsl.compiler import compile_workflow
from digpy.scheduler.daemon import Daemon
from digpy.scheduler.sync import store_revision
from digpy.settings import Settings
from digpy.store.sql.engine import open_store

START = datetime(2026, 1, 1, 0, 0, 0, 700_000, tzinfo=UTC)  # 0.3 s before a due slot


def test_the_loop_fires_a_slot_at_its_run_time_between_interval_ticks(tmp_path: Path) -> None:
    workflow = compile_workflow("every", {"schedule": {"seconds_interval>": 1},
                                          "+a": {"echo>": "x"}})
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    store = open_store(url)
    clock = FakeClock(START)
    store_revision(store, name="p", path=str(tmp_path), workflows=[workflow], now=START)
    daemon = Daemon(Settings(database=url, data_dir=str(tmp_path)), store, clock)

    daemon.step()  # the interval tick at START: nothing due yet
    clock.advance(0.3)
    daemon.step()  # 0.3 s later, well before the next interval tick
    daemon.workers.close()
    with store.read() as tx:
        (session,) = tx.sessions.list_sessions(1)
        (attempt,) = tx.attempts.list_attempts(session.id)
    store.close()

    due = START + timedelta(seconds=0.3)
    assert session.session_time == due
    assert attempt.created_at == due
