"""Reliability C1 with real processes: three ``digpy server`` schedulers on one PostgreSQL
database catch up 10 workflows x 100 missed daily slots; every slot gets exactly one
session (``FOR UPDATE SKIP LOCKED`` on schedules, the unique session key)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from digpy.cli import main
from digpy.store.sql.engine import open_store

from .daemon_helpers import start_daemon, stop, wait_for

WORKFLOWS = 10
SLOTS = 100  # 2020-01-01 .. 2020-04-09 inclusive (end is inclusive)


def sessions(url: str) -> tuple[int, int]:
    """(sessions, distinct (project, workflow, session_time) keys)."""
    with open_store(url, run_migrations=False) as store, store.engine.connect() as conn:
        return tuple(conn.execute(sa.text(  # type: ignore[return-value]
            "SELECT count(*), count(DISTINCT (project_id, workflow_name, session_time)) "
            "FROM sessions")).one())


def test_three_daemons_give_1000_missed_slots_exactly_one_session_each(
    tmp_path: Path, pg_url: str,
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    for i in range(WORKFLOWS):
        (project / f"wf{i}.dig").write_text(
            "timezone: UTC\nschedule:\n  daily>: 00:00:00\n  start: 2020-01-01\n"
            "  end: 2020-04-09\n+a:\n  echo>: hi\n")
    open_store(pg_url).close()  # migrate once, before the daemons race for it
    # 1,000 attempts stay running (no executor): above the default attempt_max_run (100)
    daemons = [start_daemon(tmp_path / f"d{i}", "--database", pg_url, "--disable-executor",
                            "--disable-api", env={"DIGPY_ATTEMPT_MAX_RUN": "10000"})
               for i in range(3)]
    try:
        logs = [tmp_path / f"d{i}" / "daemon.log" for i in range(3)]
        wait_for(lambda: all(p.exists() and "digpy daemon on" in p.read_text() for p in logs),
                 30, "three daemons up")
        assert main(["push", str(project), "--database", pg_url,
                     "--schedule-from", "2020-01-01T00:00:00Z"]) == 0
        wait_for(lambda: sessions(pg_url)[0] >= WORKFLOWS * SLOTS, 60, "every missed slot")
        fired = [p.read_text().count(": started") for p in logs]
    finally:
        codes = [stop(d) for d in daemons]
    assert codes == [0, 0, 0]
    assert sessions(pg_url) == (WORKFLOWS * SLOTS, WORKFLOWS * SLOTS)
    texts = [p.read_text() for p in logs]
    assert not [t for t in texts if "Traceback" in t or " ERROR " in t]
    assert sum(fired) == WORKFLOWS * SLOTS  # no slot was started twice by two daemons
    print(f"slots started per daemon: {fired}")
