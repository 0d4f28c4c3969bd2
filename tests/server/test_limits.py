"""Digdag's executor limits on a real store (SQLite and PostgreSQL) with an injected time:
``attempt_max_run`` defers schedule slots 10 minutes and holds backfill slots back; the
TTL rules; the settings that configure them (spec §3.11)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digpy.cli import main
from digpy.dsl.compiler import compile_workflow
from digpy.engine.attempts import AttemptRequest, start_attempt
from digpy.errors import ConfigError
from digpy.model.records import Attempt, Task
from digpy.model.states import AttemptStatus, TaskFlags, TaskState, Trigger
from digpy.scheduler import control
from digpy.scheduler.backfills import advance_backfills
from digpy.scheduler.limits import LIMIT_RETRY, Ttls, find_expired
from digpy.scheduler.service import Action, ScheduleService
from digpy.scheduler.sync import Pushed, store_revision
from digpy.settings import load_settings
from digpy.store.sql.engine import SqlStore, open_store, sqlite_url

T0 = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
SLOT = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # the first hourly slot after T0


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    url = (sqlite_url(tmp_path / "state.db") if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    opened = open_store(url)
    try:
        yield opened
    finally:
        opened.close()


def pushed(store: SqlStore) -> Pushed:
    hourly = compile_workflow("hourly", {"timezone": "UTC", "schedule": {"hourly>": "00:00"},
                                         "+a": {"echo>": "x"}})
    blocker = compile_workflow("blocker", {"+a": {"echo>": "x"}})
    return store_revision(store, name="p", path="/nowhere", workflows=[hourly, blocker], now=T0)


def block(store: SqlStore, project: Pushed, session_time: datetime) -> Attempt:
    """A running attempt of another workflow, which fills a limit of one."""
    workflow = compile_workflow("blocker", {"+a": {"echo>": "x"}})
    return start_attempt(store, AttemptRequest(
        project_id=project.project.id, workflow=workflow,
        definition=project.definitions["blocker"], revision_name=project.revision.name,
        session_time=session_time), now=T0)


def finish(store: SqlStore, attempt: Attempt, now: datetime) -> None:
    with store.write() as tx:
        assert tx.attempts.finish_attempt(attempt.id, AttemptStatus.SUCCESS, now=now)


def sessions(store: SqlStore, project: Pushed, workflow: str) -> list[datetime]:
    with store.read() as tx:
        rows = tx.sessions.list_sessions(project.project.id, workflow, limit=1000)
    return sorted(s.session_time for s in rows)


def test_running_attempts_are_counted_in_the_whole_store(store: SqlStore) -> None:
    project = pushed(store)
    first, _ = block(store, project, T0), block(store, project, SLOT)
    finish(store, first, T0)

    with store.read() as tx:
        assert tx.attempts.count_running_attempts() == 1


def test_a_schedule_slot_over_the_limit_is_retried_ten_minutes_later_and_fired_once(
    store: SqlStore,
) -> None:
    project = pushed(store)
    blocker = block(store, project, T0)
    service = ScheduleService(store, attempt_max_run=1)

    deferred = service.tick(SLOT)
    assert [(f.action, f.session_time) for f in deferred] == [(Action.DEFERRED_LIMIT, SLOT)]
    assert sessions(store, project, "hourly") == []  # no session is created meanwhile
    finish(store, blocker, SLOT)
    assert service.tick(SLOT + LIMIT_RETRY - timedelta(seconds=1)) == []

    fired = service.tick(SLOT + LIMIT_RETRY)
    assert [(f.action, f.session_time) for f in fired] == [(Action.STARTED, SLOT)]
    assert service.tick(SLOT + LIMIT_RETRY + timedelta(seconds=1)) == []
    assert sessions(store, project, "hourly") == [SLOT]
    with store.read() as tx:
        schedule = tx.schedules.list_schedules(project.project.id)[0]
    assert (schedule.last_session_time, schedule.next_schedule_time) == (
        SLOT, SLOT + timedelta(hours=1))


def test_a_schedule_under_the_limit_fires_on_time(store: SqlStore) -> None:
    project = pushed(store)
    block(store, project, T0)

    fired = ScheduleService(store, attempt_max_run=2).tick(SLOT)

    assert [f.action for f in fired] == [Action.STARTED]


def test_a_backfill_slot_waits_while_the_limit_is_reached_then_starts(store: SqlStore) -> None:
    project = pushed(store)
    schedule_id = _schedule_id(store, project)
    plan = control.backfill(store, schedule_id, from_time=SLOT - timedelta(hours=2), count=2,
                            attempt_name="bf", now=SLOT)
    assert plan.first_attempt_id is not None
    finish(store, _attempt(store, plan.first_attempt_id), SLOT)
    blocker = block(store, project, T0)

    assert advance_backfills(store, SLOT, attempt_max_run=1) == []
    finish(store, blocker, SLOT)
    started = advance_backfills(store, SLOT, attempt_max_run=1)

    assert len(started) == 1
    assert _attempt(store, started[0]).session_time == SLOT - timedelta(hours=1)


def _schedule_id(store: SqlStore, project: Pushed) -> int:
    with store.read() as tx:
        return tx.schedules.list_schedules(project.project.id)[0].id


def _attempt(store: SqlStore, attempt_id: int) -> Attempt:
    with store.read() as tx:
        return tx.attempts.get_attempt(attempt_id)


# -- the TTL rules (pure: the daemon applies them to the attempts it drives) -----------------

def attempt_at(created: datetime) -> Attempt:
    return Attempt(id=7, session_id=1, project_id=1, workflow_name="wf", session_time=created,
                   session_uuid="u", name="", index=1, params={}, status=AttemptStatus.RUNNING,
                   trigger=Trigger.API, who="test", workflow_definition_id=1,
                   revision_name="r", timezone="UTC", created_at=created, finished_at=None,
                   cancel_requested=False, task_limit=1000, result=None, error=None)


def running_task(name: str, started: datetime) -> Task:
    return Task(id=1, attempt_id=7, parent_id=None, full_name=name, is_group=False,
                operator="sh", state=TaskState.RUNNING, flags=TaskFlags(0), upstream_ids=(),
                config={}, started_at=started)


def test_a_task_running_longer_than_task_ttl_expires_its_attempt() -> None:
    ttls = Ttls(task_ttl="2s", attempt_ttl="7d")
    attempt = attempt_at(T0)
    task = running_task("+wf+nap", T0 + timedelta(seconds=5))

    assert find_expired(attempt, [task], ttls, T0 + timedelta(seconds=6)) is None
    found = find_expired(attempt, [task], ttls, T0 + timedelta(seconds=7))

    assert found is not None and not found.timeout
    assert found.reason == "task +wf+nap exceeded task_ttl 2s"


def test_an_attempt_older_than_attempt_ttl_expires_as_a_workflow_timeout() -> None:
    ttls = Ttls(task_ttl="1d", attempt_ttl="7d")
    attempt = attempt_at(T0)

    assert find_expired(attempt, [], ttls, T0 + timedelta(days=7, seconds=-1)) is None
    found = find_expired(attempt, [], ttls, T0 + timedelta(days=7))

    assert found is not None and found.timeout
    assert found.reason == "attempt 7 exceeded attempt_ttl 7d"


# -- settings ----------------------------------------------------------------------------------

def test_the_limits_default_to_digdags_and_come_from_the_file_and_environment(
    tmp_path: Path,
) -> None:
    config = tmp_path / "digpy.toml"
    config.write_text('attempt_max_run = 5\ntask_ttl = 3600\nattempt_ttl = "2d"\n')

    defaults = load_settings(None, {})
    loaded = load_settings(config, {"DIGPY_ATTEMPT_TTL": "1h 30m"})

    assert (defaults.attempt_max_run, defaults.task_ttl_seconds,
            defaults.attempt_ttl_seconds) == (100, 86400, 7 * 86400)
    assert (loaded.attempt_max_run, loaded.task_ttl_seconds,
            loaded.attempt_ttl_seconds) == (5, 3600, 5400)


@pytest.mark.parametrize(("environ", "message"), [
    ({"DIGPY_TASK_TTL": "1 day"}, "setting task_ttl: Invalid duration '1 day'"),
    ({"DIGPY_ATTEMPT_TTL": "0s"}, "attempt_ttl must be longer than 0 seconds"),
    ({"DIGPY_ATTEMPT_MAX_RUN": "0"}, "attempt_max_run must be at least 1"),
    ({"DIGPY_ATTEMPT_MAX_RUN": "many"}, "attempt_max_run: 'many' is not a int"),
])
def test_a_bad_limit_setting_is_a_config_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, environ)


def test_digpy_server_with_a_bad_duration_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DIGPY_TASK_TTL", "2x")

    code = main(["server", "--data-dir", str(tmp_path), "--disable-api"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "error: setting task_ttl: Invalid duration '2x': write a number of seconds or units "
        "such as '10s', '3m', '1h 30m' or '2d'"]


def test_the_lease_flags_reach_the_settings_and_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["server", "--data-dir", str(tmp_path), "--disable-api",
                 "--lease-seconds", "5", "--heartbeat-seconds", "10"])

    assert code == 2
    assert "(got 5 and 10)" in capsys.readouterr().err
