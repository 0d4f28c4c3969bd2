"""Reliability R9: the daemon loop survives a store that fails at random, including after a
commit (the caller is told "failed" although the transaction landed), and still runs every
workflow exactly as written: no duplicate session, no lost or doubled task, every attempt
terminal, the loop never dies.

The real ``Daemon`` is stepped in-process on a ``FaultyStore`` (tests/server/faults.py) over
a real SQLite file (and PostgreSQL with DIGPY_TEST_POSTGRES_URL), with a FakeClock that the
test moves a second per round, so ~200 attempts (schedules plus client-style starts) take
no real waiting. The seed is printed; rerun one with DIGPY_FAULT_SEED=<seed>.

Seeds that failed before the fixes (seed 7, SQLite): a committed-then-failed claim left tasks
RUNNING that no thread ran (lost tasks); an outcome whose transaction failed was dropped, so
its task ran again or stayed RUNNING; a failed claim of attempt leases left attempts leased
to the daemon but never driven; any store error in a round ended ``Daemon.run``.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from digpy.clock import FakeClock
from digpy.dsl.model import Workflow
from digpy.dsl.project import load_project
from digpy.engine.attempts import AttemptRequest, start_attempt
from digpy.errors import Conflict
from digpy.model.states import TaskState
from digpy.scheduler.daemon import Daemon
from digpy.scheduler.sync import Pushed, store_revision
from digpy.settings import Settings
from digpy.store.sql.engine import SqlStore, open_store

from .faults import Fault, FaultyStore

MANUAL_STARTS = 120  # client-style starts; the schedules add ~80 sessions
SCHEDULED_MINUTES = 20  # four 1-minute schedules fire this long
MAX_ROUNDS = 4_000
MANUAL_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)  # manual sessions: one a minute from here

WORKFLOWS = {
    "seq": '+a:\n  echo>: a\n+b:\n  sh>: echo "${attempt_id}" >> ${ledger}\n+c:\n  echo>: c\n',
    "par": ("+p:\n  _parallel: true\n  +x:\n    echo>: x\n  +y:\n    echo>: y\n"
            "  +z:\n    echo>: z\n+after:\n  echo>: after\n"),
    "flaky": "+f:\n  sh>: exit 1\n  _retry:\n    limit: 2\n    interval: 5\n",
}
SCHEDULED = "schedule:\n  minutes_interval>: 1\n+s:\n  echo>: s\n+t:\n  echo>: t\n"
# the operator tasks each workflow runs, and how each ends
EXPECTED = {
    "seq": {"+seq+a": "success", "+seq+b": "success", "+seq+c": "success"},
    "par": {"+par+p+x": "success", "+par+p+y": "success", "+par+p+z": "success",
            "+par+after": "success"},
    "flaky": {"+flaky+f": "error"},
}
for _n in range(4):
    EXPECTED[f"sched{_n}"] = {f"+sched{_n}+s": "success", f"+sched{_n}+t": "success"}


def _seed() -> int:
    return int(os.environ.get("DIGPY_FAULT_SEED") or random.SystemRandom().randrange(10_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'digpy.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_the_daemon_runs_200_workflows_exactly_once_on_a_store_that_fails_at_random(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed = _seed()
    print(f"R9 store fault seed: {seed} (DIGPY_FAULT_SEED={seed} reruns it)")
    project_dir, ledger = _project(tmp_path)
    clock = FakeClock(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC))
    clean = open_store(url)
    pushed = _push(clean, project_dir, clock.now())
    faulty = FaultyStore(clean, seed=seed)
    settings = Settings(database=url, data_dir=str(tmp_path / "data"), max_task_threads=8)
    daemon = Daemon(settings, faulty, clock)
    # The test steps the loop itself (run() is never called); a stop request only makes
    # the idle naps return at once, since the FakeClock, not real time, paces the rounds.
    daemon.request_stop()
    rng = random.Random(seed)
    caplog.set_level(logging.WARNING)
    try:
        started = _run(daemon, faulty, clean, pushed, project_dir, clock, rng)
    finally:
        daemon.workers.close()
    faulty.armed = False
    print(f"injected faults: {dict(faulty.injected)}")
    assert faulty.injected[Fault.COMMITTED] > 0, "the seed injected no ambiguous commit"
    assert started == MANUAL_STARTS
    _check(clean, pushed, ledger, seed)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, f"seed {seed}: {tracebacks[0].getMessage()}"
    clean.close()


def _project(tmp_path: Path) -> tuple[Path, Path]:
    project_dir = tmp_path / "proj"
    project_dir.mkdir()
    ledger = tmp_path / "ledger.txt"
    for name, body in WORKFLOWS.items():
        (project_dir / f"{name}.dig").write_text(f"_export:\n  ledger: {ledger}\n{body}")
    for n in range(4):
        (project_dir / f"sched{n}.dig").write_text(SCHEDULED)
    return project_dir, ledger


def _push(store: SqlStore, project_dir: Path, now: datetime) -> Pushed:
    project = load_project(project_dir)
    return store_revision(store, name=project.name, path=str(project.path),
                          workflows=list(project.workflows.values()), now=now)


def _run(daemon: Daemon, faulty: FaultyStore, clean: SqlStore, pushed: Pushed,
         project_dir: Path, clock: FakeClock, rng: random.Random) -> int:
    """Step the daemon, starting a manual attempt now and then and moving the clock; stop
    the schedules after SCHEDULED_MINUTES and return once every attempt is terminal."""
    project = load_project(project_dir)
    names = list(WORKFLOWS)
    started, stop_at = 0, clock.now().timestamp() + SCHEDULED_MINUTES * 60
    for _ in range(MAX_ROUNDS):
        daemon.step()  # a round that raised would fail the test here: the loop must not
        if started < MANUAL_STARTS and rng.random() < 0.3:
            _start(faulty, pushed, project.workflows[rng.choice(names)], clock, started)
            started += 1
        clock.advance(1.0)
        if clock.now().timestamp() >= stop_at:
            with clean.write() as tx:  # (a clean write: the schedules must stop now)
                for row in pushed.schedules:
                    tx.schedules.set_disabled(row.id, clock.now(), now=clock.now())
        finished = started == MANUAL_STARTS and clock.now().timestamp() >= stop_at
        if finished and _all_done(clean, pushed.project.id):
            return started
    raise AssertionError(f"still running after MAX_ROUNDS daemon rounds: {_stuck(clean)}")


def _stuck(store: SqlStore) -> list[tuple[int, list[tuple[str, str]]]]:
    with store.read() as tx:
        return [(a.id, [(t.full_name, t.state.name) for t in tx.tasks.list_tasks(a.id)])
                for a in tx.attempts.list_running_attempts()]


def _start(store: FaultyStore, pushed: Pushed, workflow: Workflow, clock: FakeClock,
           n: int) -> None:
    """A client's start, retried on a store error: the session key turns the retry of a
    start that did commit into a Conflict, never a second session."""
    request = AttemptRequest(
        project_id=pushed.project.id, workflow=workflow,
        definition=pushed.definitions[workflow.name], revision_name=pushed.revision.name,
        session_time=MANUAL_EPOCH + timedelta(minutes=n),
    )
    for _ in range(20):
        try:
            start_attempt(store, request, now=clock.now())
            return
        except Conflict:
            return
        except OperationalError as exc:
            assert "injected" in str(exc)
    raise AssertionError("20 injected errors in a row")


def _all_done(store: SqlStore, project_id: int) -> bool:
    with store.read() as tx:
        return not tx.attempts.list_running_attempts(project_id)


def _check(store: SqlStore, pushed: Pushed, ledger: Path, seed: int) -> None:
    """One session per slot and per start, one attempt each, every operator task ended as
    its workflow says, each ``sh>`` ran once."""
    project_id = pushed.project.id
    with store.read() as tx:
        sessions = tx.sessions.list_sessions(project_id, limit=100_000)
        attempts = {s.id: tx.attempts.list_attempts(s.id) for s in sessions}
        tasks = {a.id: tx.tasks.list_tasks(a.id) for group in attempts.values() for a in group}
    keys = Counter((s.workflow_name, s.session_time) for s in sessions)
    assert max(keys.values()) == 1, f"seed {seed}: duplicate sessions"
    assert sum(1 for s in sessions if s.workflow_name in WORKFLOWS) == MANUAL_STARTS
    for n in range(4):
        times = sorted(s.session_time for s in sessions if s.workflow_name == f"sched{n}")
        assert len(times) >= SCHEDULED_MINUTES - 1, f"seed {seed}: sched{n} fired {len(times)}"
        assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(times))
    for session in sessions:
        (attempt,) = attempts[session.id]
        assert attempt.done, f"seed {seed}: attempt {attempt.id} not terminal"
        ended = {t.full_name: t.state.name.lower() for t in tasks[attempt.id]
                 if t.full_name in EXPECTED[session.workflow_name]}
        assert ended == EXPECTED[session.workflow_name], f"seed {seed}: attempt {attempt.id}"
        assert all(t.state not in (TaskState.READY, TaskState.RUNNING, TaskState.BLOCKED)
                   for t in tasks[attempt.id]), f"seed {seed}: attempt {attempt.id}"
        if session.workflow_name == "flaky":
            (flaky,) = [t for t in tasks[attempt.id] if t.full_name == "+flaky+f"]
            assert flaky.retry_count == 2, f"seed {seed}: attempt {attempt.id}"
    seq = sorted(a.id for s in sessions if s.workflow_name == "seq" for a in attempts[s.id])
    ran = sorted(int(line) for line in ledger.read_text().split()) if ledger.exists() else []
    assert ran == seq, f"seed {seed}: each seq attempt's sh> task runs exactly once"
