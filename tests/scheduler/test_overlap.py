"""Reliability S4: ``skip_on_overtime: true`` with a 90 s job every minute never runs two
attempts of the workflow at once, and logs each skipped slot. A real daemon loop (schedule
ticks and workers on one thread) on a FakeClock; the job is a real wait> task."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from digpy.clock import FakeClock
from digpy.dsl.compiler import compile_workflow
from digpy.model.records import Attempt
from digpy.scheduler.daemon import Daemon
from digpy.scheduler.sync import store_revision
from digpy.settings import Settings
from digpy.store.sql.engine import open_store

START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)


def test_skip_on_overtime_never_overlaps_attempts_and_logs_the_skipped_slots(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    workflow = compile_workflow("job", {
        "schedule": {"minutes_interval>": 1, "skip_on_overtime": True},
        "+long": {"wait>": "90s"},
    })
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    store = open_store(url)
    clock = FakeClock(START)
    store_revision(store, name="p", path=str(tmp_path), workflows=[workflow], now=START)
    daemon = Daemon(Settings(database=url, data_dir=str(tmp_path)), store, clock)

    with caplog.at_level(logging.INFO, logger="digpy.scheduler.service"):
        for _ in range(20_000):
            if clock.now() >= START + timedelta(minutes=7, seconds=10):
                break
            daemon.step()
            if not daemon.workers.busy:
                clock.advance(1)
    daemon.workers.close()
    with store.read() as tx:
        attempts: list[Attempt] = sorted(
            (a for s in tx.sessions.list_sessions(1, limit=100)
             for a in tx.attempts.list_attempts(s.id)), key=lambda a: a.created_at)
    store.close()

    assert [a.session_time.minute for a in attempts] == [1, 3, 5, 7]
    for earlier, later in pairwise(attempts):
        assert earlier.finished_at is not None and earlier.finished_at <= later.created_at
    skipped = [r.getMessage() for r in caplog.records if "skipped_overtime" in r.getMessage()]
    assert [m.split("@")[1][:19] for m in skipped] == [
        "2026-01-01T00:02:00", "2026-01-01T00:04:00", "2026-01-01T00:06:00"]
