"""The schedule executor fires each due slot once, at its run time, with Digdag's session
times, catch-up, skip options and continuity across revisions (spec §5; reliability S1-S3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from digpy.model.states import Trigger
from digpy.scheduler.service import Action, Fired, ScheduleService
from digpy.scheduler.triggers import NEVER
from digpy.store.sql.engine import SqlStore

from .service_fixtures import pg_schema_url, push, store, workflow

__all__ = ["pg_schema_url", "store"]  # fixtures, re-exported for pytest

T0 = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)  # a Thursday


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def sessions_of(store: SqlStore, name: str = "wf") -> list[datetime]:
    with store.read() as tx:
        project = tx.projects.find_project("p")
        assert project is not None
        rows = tx.sessions.list_sessions(project.id, name, limit=10_000)
    return sorted(s.session_time for s in rows)


def started(fired: list[Fired]) -> list[datetime]:
    return [f.session_time for f in fired if f.action is Action.STARTED]


FORMS: list[tuple[dict[str, Any], datetime, datetime]] = [
    ({"hourly>": "30:00"}, utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 30)),
    ({"daily>": "07:00:00"}, utc(2026, 1, 1), utc(2026, 1, 1, 7)),
    ({"weekly>": "Sun,09:00:00"}, utc(2026, 1, 4), utc(2026, 1, 4, 9)),
    ({"monthly>": "1,09:00:00"}, utc(2026, 1, 1), utc(2026, 1, 1, 9)),
    ({"minutes_interval>": 30}, utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 0, 30)),
    ({"cron>": "42 4 1 * *"}, utc(2026, 1, 1, 4, 42), utc(2026, 1, 1, 4, 42)),
    ({"cron>": "0 * * * *", "delay": 60}, utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 1)),
]


@pytest.mark.parametrize(("schedule", "session_time", "run_time"), FORMS,
                         ids=[next(iter(f[0])) + str(i) for i, f in enumerate(FORMS)])
def test_every_form_fires_at_its_run_time_with_its_session_time(
    store: SqlStore, schedule: dict[str, Any], session_time: datetime, run_time: datetime
) -> None:
    push(store, [workflow("wf", schedule)], T0)
    service = ScheduleService(store)

    assert service.tick(run_time - timedelta(seconds=1)) == []
    fired = service.tick(run_time)

    assert [(f.action, f.session_time, f.run_time) for f in fired] == [
        (Action.STARTED, session_time, run_time)
    ]
    with store.read() as tx:
        attempt = tx.attempts.get_attempt(fired[0].attempt_id or 0)
    assert attempt.trigger is Trigger.SCHEDULE
    assert attempt.session_time == session_time
    assert attempt.name == ""


def test_a_scheduler_that_was_down_starts_one_session_per_missed_slot_in_order(
    store: SqlStore,
) -> None:
    push(store, [workflow("wf", {"minutes_interval>": 1})], utc(2026, 1, 1, 0, 0, 30))

    fired = ScheduleService(store).tick(utc(2026, 1, 1, 0, 10, 30))

    expected = [utc(2026, 1, 1, 0, m) for m in range(1, 11)]
    assert started(fired) == expected
    assert sessions_of(store) == expected


def test_each_caught_up_session_knows_the_previous_one_as_last_executed(
    store: SqlStore,
) -> None:
    push(store, [workflow("wf", {"minutes_interval>": 1})], utc(2026, 1, 1, 0, 0, 30))
    fired = ScheduleService(store).tick(utc(2026, 1, 1, 0, 3))

    with store.read() as tx:
        params = [tx.attempts.get_attempt(f.attempt_id or 0).params for f in fired]
    assert params[0]["last_executed_session_time"] == ""
    assert params[1]["last_executed_session_time"].startswith("2026-01-01T00:01:00")
    assert params[2]["last_executed_session_time"].startswith("2026-01-01T00:02:00")


def test_skip_delayed_by_drops_slots_processed_too_late(store: SqlStore) -> None:
    push(store, [workflow("wf", {"minutes_interval>": 1, "skip_delayed_by": "1m"})],
         utc(2026, 1, 1, 0, 0, 30))

    fired = ScheduleService(store).tick(utc(2026, 1, 1, 0, 10, 30))

    assert [f.action for f in fired] == [Action.SKIPPED_DELAYED] * 9 + [Action.STARTED]
    assert sessions_of(store) == [utc(2026, 1, 1, 0, 10)]


def test_skip_on_overtime_skips_a_slot_while_an_attempt_of_the_workflow_runs(
    store: SqlStore,
) -> None:
    push(store, [workflow("wf", {"minutes_interval>": 1, "skip_on_overtime": True}),
                 workflow("other", {"minutes_interval>": 1})], utc(2026, 1, 1, 0, 0, 30))
    service = ScheduleService(store)

    service.tick(utc(2026, 1, 1, 0, 1))  # starts wf@00:01, which nobody runs: still running
    fired = service.tick(utc(2026, 1, 1, 0, 2))

    assert {(f.workflow_name, f.action) for f in fired} == {
        ("wf", Action.SKIPPED_OVERTIME), ("other", Action.STARTED)
    }
    assert sessions_of(store) == [utc(2026, 1, 1, 0, 1)]


def test_restarts_around_a_due_slot_produce_one_session(store: SqlStore) -> None:
    push(store, [workflow("wf", {"daily>": "07:00:00"})], T0)
    due = utc(2026, 1, 1, 7)

    for offset in (-2, -1, 0, 0, 1, 2):  # a fresh service each time, as after a restart
        ScheduleService(store).tick(due + timedelta(seconds=offset))

    assert sessions_of(store) == [utc(2026, 1, 1)]


def test_a_slot_whose_session_already_exists_is_accepted_quietly_and_advanced(
    store: SqlStore,
) -> None:
    from digpy.engine.attempts import AttemptRequest, start_attempt

    wf = workflow("wf", {"daily>": "07:00:00"})
    pushed = push(store, [wf], T0)
    start_attempt(store, AttemptRequest(
        project_id=pushed.project.id, workflow=wf, definition=pushed.definitions["wf"],
        revision_name=pushed.revision.name, session_time=utc(2026, 1, 1),
    ), now=T0)

    fired = ScheduleService(store).tick(utc(2026, 1, 1, 7))

    assert [f.action for f in fired] == [Action.DUPLICATE]
    with store.read() as tx:
        row = tx.schedules.list_schedules()[0]
    assert row.next_schedule_time == utc(2026, 1, 2)
    assert row.last_session_time == utc(2026, 1, 1)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin"])
@pytest.mark.parametrize("at", ["02:30:00", "01:30:00"])
@pytest.mark.parametrize("month", [3, 10])
def test_a_daily_schedule_fires_once_per_local_day_across_dst_changes(
    store: SqlStore, zone: str, at: str, month: int
) -> None:
    from zoneinfo import ZoneInfo

    # New York changes on Mar 8 / Nov 1 2026, Berlin on Mar 29 / Oct 25 2026.
    start = utc(2026, month, 1) if month == 3 else utc(2026, month, 20)
    push(store, [workflow("wf", {"daily>": at}, timezone=zone)], start)
    service = ScheduleService(store)
    now = start
    while now < start + timedelta(days=45):
        now += timedelta(minutes=30)
        service.tick(now)

    days = [s.astimezone(ZoneInfo(zone)) for s in sessions_of(store)]
    assert all((d.hour, d.minute) == (0, 0) for d in days)  # sessions are local midnights
    dates = [d.date() for d in days]
    assert len(set(dates)) == len(dates)  # never two sessions for one local day
    assert (dates[-1] - dates[0]).days == len(dates) - 1  # and none missed


def test_a_schedule_past_its_end_moves_to_the_9999_sentinel(store: SqlStore) -> None:
    push(store, [workflow("wf", {"daily>": "07:00:00", "end": "2026-01-02"})], T0)

    fired = ScheduleService(store).tick(utc(2026, 1, 10))

    assert started(fired) == [utc(2026, 1, 1), utc(2026, 1, 2)]
    with store.read() as tx:
        row = tx.schedules.list_schedules()[0]
    assert row.next_run_time == NEVER and row.next_schedule_time == NEVER


def test_a_disabled_schedule_does_not_fire_and_catches_up_once_enabled(
    store: SqlStore,
) -> None:
    pushed = push(store, [workflow("wf", {"daily>": "07:00:00"})], T0)
    service = ScheduleService(store)
    schedule_id = pushed.schedules[0].id

    assert service.set_enabled(schedule_id, False, now=T0)
    assert not service.set_enabled(schedule_id, False, now=T0)
    assert service.tick(utc(2026, 1, 3, 8)) == []
    assert service.set_enabled(schedule_id, True, now=utc(2026, 1, 3, 8))
    fired = service.tick(utc(2026, 1, 3, 8))

    assert started(fired) == [utc(2026, 1, 1), utc(2026, 1, 2), utc(2026, 1, 3)]


def test_a_new_revision_keeps_a_schedule_by_workflow_name_and_continues_after_its_last_session(
    store: SqlStore,
) -> None:
    first = push(store, [workflow("wf", {"daily>": "07:00:00"})], T0)
    ScheduleService(store).tick(utc(2026, 1, 1, 7))

    second = push(store, [workflow("wf", {"daily>": "07:00:00"}, task="changed"),
                          workflow("new", {"hourly>": "00:00"})], utc(2026, 1, 3))

    assert second.revision.id != first.revision.id
    kept = {s.workflow_name: s for s in second.schedules}
    assert kept["wf"].id == first.schedules[0].id
    assert kept["wf"].workflow_definition_id == second.definitions["wf"].id
    assert kept["wf"].last_session_time == utc(2026, 1, 1)
    assert kept["wf"].next_schedule_time == utc(2026, 1, 2)  # it will catch up Jan 2 and 3
    assert kept["new"].next_schedule_time == utc(2026, 1, 3)
    third = push(store, [workflow("new", {"hourly>": "00:00"})], utc(2026, 1, 4))
    assert [s.workflow_name for s in third.schedules] == ["new"]
    with store.read() as tx:
        assert [s.workflow_name for s in tx.schedules.list_schedules()] == ["new"]


def test_a_push_at_the_due_second_keeps_the_pending_slot(store: SqlStore) -> None:
    push(store, [workflow("wf", {"daily>": "07:00:00"})], T0)
    due = utc(2026, 1, 1, 7)

    push(store, [workflow("wf", {"daily>": "07:00:00"}, task="v2")], due + timedelta(seconds=1))
    ScheduleService(store).tick(due + timedelta(seconds=1))

    assert sessions_of(store) == [utc(2026, 1, 1)]


@pytest.mark.slow
def test_two_services_on_postgresql_fire_1000_due_slots_exactly_once(pg_schema_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from digpy.store.sql.engine import open_store

    stores = [open_store(pg_schema_url) for _ in range(2)]
    try:
        push(stores[0], [workflow(f"wf{i}", {"minutes_interval>": 1}) for i in range(10)],
             utc(2026, 1, 1, 0, 0, 30))
        now = utc(2026, 1, 1, 1, 40, 30)  # 100 slots of each of 10 workflows are due
        with ThreadPoolExecutor(2) as pool:
            # 1,000 running attempts: above the default attempt_max_run (100), which is not
            # what this test is about (tests/server/test_limits.py is)
            results = list(pool.map(
                lambda s: ScheduleService(s, attempt_max_run=10_000).tick(now), stores))
        fired = [f for r in results for f in r if f.action is Action.STARTED]
        with stores[0].read() as tx:
            project = tx.projects.find_project("p")
            assert project is not None
            sessions = tx.sessions.list_sessions(project.id, limit=10_000)
    finally:
        for s in stores:
            s.close()
    assert len(fired) == len(sessions) == 1000
    assert all(r for r in results)  # both daemons did part of the work
