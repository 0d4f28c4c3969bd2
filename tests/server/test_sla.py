"""SLA (spec §5.6): an attempt still running at its SLA time gets the ``^sla`` tasks (and
``^sla^alert`` with ``alert: true``, ``^sla^fail`` with ``fail: true``), once; in
``digpy run`` as in the daemon, as in Digdag.
The engine cases run on a FakeClock; one ``digpy run`` runs for real."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from engine.harness import Harness, compile_text  # tests/engine (tests/ is on sys.path)

from digpy.cli import main
from digpy.clock import FakeClock
from digpy.engine.results import RunResult
from digpy.model.states import AttemptStatus
from digpy.scheduler.daemon import Daemon
from digpy.scheduler.sync import store_revision
from digpy.settings import Settings
from digpy.store.sql.engine import SqlStore, create_sql_engine, migrate, open_store, sqlite_url

SLOW = "+slow: {trace>: slow, advance: 120}\n+after: {trace>: after}\n"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sla-template") / "state.db"
    engine = create_sql_engine(sqlite_url(path))
    migrate(engine)
    engine.dispose()
    return path


def run_local(tmp_path: Path, template_db: Path, text: str) -> tuple[RunResult, list[str]]:
    harness = Harness(project=tmp_path, template_db=template_db)
    with harness.engine() as engine:
        result = engine.run(compile_text(text))
    return result, harness.trace.entries


def states(result: RunResult) -> dict[str, str]:
    return {t.full_name: str(t.state) for t in result.tasks}


def test_a_run_that_outlasts_its_sla_runs_the_notice_tasks_and_still_succeeds(
    tmp_path: Path, template_db: Path
) -> None:
    result, ran = run_local(tmp_path, template_db,
                            "sla:\n  duration: 00:01:00\n  +notice: {trace>: notice}\n" + SLOW)

    assert result.status is AttemptStatus.SUCCESS
    assert sorted(ran) == ["after", "notice", "slow"]
    assert states(result)["+wf^sla"] == "success"
    assert states(result)["+wf^sla+notice"] == "success"


def test_fail_true_fails_the_attempt_with_an_sla_violation(
    tmp_path: Path, template_db: Path
) -> None:
    result, ran = run_local(tmp_path, template_db,
                            "sla:\n  duration: 00:01:00\n  fail: true\n"
                            "  +notice: {trace>: notice}\n" + SLOW)

    assert result.status is AttemptStatus.ERROR
    assert "notice" in ran and "after" in ran  # the rest of the workflow still ran
    assert states(result)["+wf^sla^fail"] == "error"
    assert [t.error["message"] for t in result.failed_tasks] == ["SLA violation"]  # type: ignore[index]


def test_a_run_done_before_its_sla_adds_no_sla_tasks(tmp_path: Path, template_db: Path) -> None:
    result, ran = run_local(tmp_path, template_db,
                            "sla:\n  duration: 00:05:00\n  fail: true\n"
                            "  +notice: {trace>: notice}\n" + SLOW)

    assert result.status is AttemptStatus.SUCCESS
    assert "notice" not in ran
    assert not any("^sla" in name for name in states(result))


@pytest.mark.parametrize(("sla", "added"), [
    ("  +notice: {trace>: notice}\n",
     ["+wf^sla", "+wf^sla+notice", "+wf^sla^alert"]),
    ("  fail: true\n  +notice: {trace>: notice}\n",
     ["+wf^sla", "+wf^sla+notice", "+wf^sla^alert", "+wf^sla^fail"]),
    ("  alert: false\n  +notice: {trace>: notice}\n", ["+wf^sla", "+wf^sla+notice"]),
    ("  fail: true\n  trace>: notice\n", ["+wf^sla", "+wf^sla^alert", "+wf^sla^fail"]),
])
def test_alert_adds_an_sla_alert_notify_task_before_the_fail_task(
    tmp_path: Path, template_db: Path, caplog: pytest.LogCaptureFixture, sla: str,
    added: list[str],
) -> None:
    with caplog.at_level(logging.WARNING, logger="digpy.notify"):
        result, _ = run_local(tmp_path, template_db, "sla:\n  duration: 00:01:00\n" + sla + SLOW)

    assert [name for name in states(result) if "^sla" in name] == added
    alerts = [r.getMessage() for r in caplog.records if r.name == "digpy.notify"]
    if "+wf^sla^alert" in added:  # the default log notifier: a warning naming the task
        assert states(result)["+wf^sla^alert"] == "success"
        assert alerts == ["Notification: SLA violation (project default, workflow wf, "
                          f"attempt {result.attempt_id}, task +wf^sla^alert)"]
    else:
        assert alerts == []


def test_the_sla_alert_sits_under_the_sla_group_or_beside_a_single_sla_task(
    tmp_path: Path, template_db: Path
) -> None:
    harness = Harness(project=tmp_path, template_db=template_db)
    with harness.engine() as engine:
        engine.run(compile_text("sla:\n  duration: 00:01:00\n  +n: {trace>: n}\n" + SLOW))
        engine.run(compile_text("sla:\n  duration: 00:01:00\n  trace>: n\n" + SLOW, "wf2"))
    store = open_store(sqlite_url(tmp_path / ".digpy" / "state.db"))
    try:
        with store.read() as tx:
            parents = {}
            for attempt_id in (1, 2):
                tasks = {t.id: t for t in tx.tasks.list_tasks(attempt_id)}
                parents.update({t.full_name: tasks[t.parent_id].full_name
                                for t in tasks.values() if t.parent_id is not None})
    finally:
        store.close()
    assert parents["+wf^sla^alert"] == "+wf^sla"  # the sla: block is a group
    assert parents["+wf2^sla^alert"] == "+wf2"  # a single operator: beside it, as ^fail


def test_digpy_run_fires_the_sla_of_a_real_slow_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(tmp_path / "config"))
    root = tmp_path / "proj"
    root.mkdir()
    (root / "wf.dig").write_text(
        "sla:\n  duration: 00:00:01\n  fail: true\n  +notice:\n    sh>: echo notice >> ledger\n"
        "+slow:\n  sh>: sleep 4 && echo slow >> ledger\n")

    code = main(["run", "wf", "--project", str(root)])

    assert code == 1
    assert sorted((root / "ledger").read_text().split()) == ["notice", "slow"]
    assert "SLA violation" in capsys.readouterr().out


# -- the daemon -------------------------------------------------------------------------------

SCHEDULED = """\
timezone: UTC
schedule:
  daily>: 07:00:00
sla:
  time: "07:01"
  fail: true
  +notice:
    sh>: echo notice >> {ledger}
+long:
  wait>: 5m
"""


@pytest.fixture
def daemon_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(f"sqlite:///{tmp_path / 'digpy.db'}")
    try:
        yield store
    finally:
        store.close()


def run_daemon(daemon: Daemon, clock: FakeClock, until: datetime, steps: int = 3000) -> None:
    for _ in range(steps):
        if clock.now() >= until:
            return
        daemon.step()
        if not daemon.workers.busy:
            clock.advance(1)  # nothing to run: let the virtual time pass


def test_the_daemon_fires_a_scheduled_attempts_sla_once_across_a_restart(
    tmp_path: Path, daemon_store: SqlStore
) -> None:
    ledger = tmp_path / "ledger"
    workflow = compile_text(SCHEDULED.format(ledger=ledger), "wf")
    clock = FakeClock(datetime(2026, 1, 1, 6, 59, 50, tzinfo=UTC))
    store_revision(daemon_store, name="p", path=str(tmp_path), workflows=[workflow],
                   now=clock.now())
    settings = Settings(database=f"sqlite:///{tmp_path / 'digpy.db'}", data_dir=str(tmp_path))

    first = Daemon(settings, daemon_store, clock)
    run_daemon(first, clock, until=datetime(2026, 1, 1, 7, 2, tzinfo=UTC))
    first.workers.drain()
    first.workers.close()
    assert ledger.read_text().split() == ["notice"]
    second = Daemon(settings, daemon_store, clock)  # a restart before the attempt ends
    run_daemon(second, clock, until=datetime(2026, 1, 1, 7, 10, tzinfo=UTC))
    second.workers.close()

    with daemon_store.read() as tx:
        (attempt,) = tx.attempts.list_attempts(1)
        names = [t.full_name for t in tx.tasks.list_tasks(attempt.id)]
    assert attempt.status is AttemptStatus.ERROR  # fail: true
    assert names.count("+wf^sla") == 1
    assert ledger.read_text().split() == ["notice"]
