"""A retry wait survives a daemon restart: the next try starts at the persisted ``retry_at``
and the retry count continues (reliability R10). In-process daemons on one store and a
FakeClock, so the 30 s wait takes no real time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from digpy.clock import FakeClock
from digpy.model.records import Task
from digpy.model.states import TaskState
from digpy.scheduler.daemon import Daemon
from digpy.settings import Settings
from digpy.store.sql.engine import open_store

from .daemon_helpers import create_attempt


def test_a_retry_wait_continues_after_a_restart_at_the_persisted_time(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "flaky.dig").write_text(
        "+f:\n  sh>: exit 1\n  _retry:\n    limit: 2\n    interval: 30\n")
    url = f"sqlite:///{tmp_path / 'digpy.db'}"
    attempt = create_attempt(url, project, "flaky")
    settings = Settings(database=url, data_dir=str(tmp_path), disable_scheduler=True)
    clock = FakeClock(datetime.now(UTC))
    store = open_store(url)

    def task() -> Task:
        with store.read() as tx:
            return next(t for t in tx.tasks.list_tasks(attempt.id) if t.full_name.endswith("+f"))

    first = Daemon(settings, store, clock)
    for _ in range(200):
        first.step()
        waiting = task()
        if waiting.state == TaskState.RETRY_WAITING:
            break
    first.workers.close()
    persisted = waiting.retry_at
    assert waiting.retry_count == 1 and persisted is not None

    second = Daemon(settings, store, clock)  # the restart
    for _ in range(500):
        second.step()
        current = task()
        if current.state == TaskState.RETRY_WAITING and current.retry_count == 2:
            break
    second.workers.close()
    store.close()
    assert clock.now() >= persisted  # the second try did not start before the persisted time
    assert task().retry_count == 2
