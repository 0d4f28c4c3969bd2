"""Schedule control (spec §5.5): skip (reschedule), enable/disable and sequential backfill,
on SQLite and PostgreSQL, with times injected as ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digpy.errors import Conflict, NotFound
from digpy.model.states import AttemptStatus, Trigger
from digpy.scheduler import control
from digpy.scheduler.backfills import advance_backfills
from digpy.scheduler.service import ScheduleService
from digpy.store.sql.engine import SqlStore

from .service_fixtures import pg_schema_url, push, store, workflow

__all__ = ["pg_schema_url", "store"]  # fixtures, re-exported for pytest

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # daily 07:00 next fires 2026-01-11 07:00


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def daily(store: SqlStore, timezone: str = "UTC") -> int:
    pushed = push(store, [workflow("wf", {"daily>": "07:00:00"}, timezone=timezone)], T0)
    return pushed.schedules[0].id


def next_slot(store: SqlStore, schedule_id: int) -> tuple[datetime, datetime]:
    with store.read() as tx:
        row = tx.schedules.get_schedule(schedule_id)
    return row.next_schedule_time, row.next_run_time


def attempts(store: SqlStore) -> list[tuple[datetime, str, int, Trigger, AttemptStatus]]:
    with store.read() as tx:
        project = tx.projects.find_project("p")
        assert project is not None
        found = [a for s in tx.sessions.list_sessions(project.id, limit=1000)
                 for a in tx.attempts.list_attempts(s.id)]
    return sorted((a.session_time, a.name, a.index, a.trigger, a.status) for a in found)


def finish(store: SqlStore, attempt_id: int, status: AttemptStatus, now: datetime) -> None:
    with store.write() as tx:
        tx.attempts.finish_attempt(attempt_id, status, now=now)


# -- skip ----------------------------------------------------------------------------------------


def test_skip_by_count_moves_past_that_many_slots_after_the_first_upcoming_one(
    store: SqlStore,
) -> None:
    sid = daily(store)

    state = control.skip(store, sid, count=2, now=T0)

    assert (state.next_schedule_time, state.next_run_time) == (utc(2026, 1, 13),
                                                               utc(2026, 1, 13, 7))
    assert state.changed
    assert next_slot(store, sid) == (utc(2026, 1, 13), utc(2026, 1, 13, 7))


def test_skip_by_count_counts_from_the_given_from_time(store: SqlStore) -> None:
    sid = daily(store)

    state = control.skip(store, sid, count=1, from_time=utc(2026, 2, 1, 8), now=T0)

    assert state.next_schedule_time == utc(2026, 2, 3)


def test_skip_to_a_time_moves_to_the_first_slot_at_or_after_it(store: SqlStore) -> None:
    sid = daily(store)

    assert control.skip(store, sid, next_time=utc(2026, 1, 20), now=T0).next_schedule_time \
        == utc(2026, 1, 20)
    assert control.skip(store, sid, next_time=utc(2026, 1, 25, 0, 0, 1), now=T0) \
        .next_schedule_time == utc(2026, 1, 26)


def test_a_time_without_zone_is_read_in_the_workflow_time_zone(store: SqlStore) -> None:
    sid = daily(store, timezone="Asia/Tokyo")

    state = control.skip(store, sid, next_time=datetime(2026, 1, 20), now=T0)

    assert state.next_schedule_time == datetime(2026, 1, 19, 15, tzinfo=UTC)
    assert state.next_schedule_time.utcoffset() == timedelta(hours=9)


def test_skip_can_override_the_run_time_of_the_new_slot(store: SqlStore) -> None:
    sid = daily(store)

    control.skip(store, sid, next_time=utc(2026, 1, 20), next_run_time=utc(2026, 1, 20, 9),
                 now=T0)

    assert next_slot(store, sid) == (utc(2026, 1, 20), utc(2026, 1, 20, 9))


def test_skipping_backwards_is_rejected_as_already_past_and_changes_nothing(
    store: SqlStore,
) -> None:
    sid = daily(store)
    control.skip(store, sid, next_time=utc(2026, 1, 20), now=T0)

    with pytest.raises(Conflict, match="already past"):
        control.skip(store, sid, next_time=utc(2026, 1, 15), now=T0)

    assert next_slot(store, sid)[0] == utc(2026, 1, 20)


def test_a_dry_run_skip_answers_the_new_slot_and_stores_nothing(store: SqlStore) -> None:
    sid = daily(store)

    state = control.skip(store, sid, count=3, dry_run=True, now=T0)

    assert state.next_schedule_time == utc(2026, 1, 14) and not state.changed
    assert next_slot(store, sid)[0] == utc(2026, 1, 11)


@pytest.mark.parametrize("options", [{}, {"count": 1, "next_time": utc(2026, 2, 1)},
                                     {"count": -1}])
def test_skip_needs_exactly_one_of_count_and_next_time(
    store: SqlStore, options: dict[str, object]
) -> None:
    sid = daily(store)

    with pytest.raises(control.BadRequest):
        control.skip(store, sid, now=T0, **options)  # type: ignore[arg-type]


def test_control_of_an_unknown_schedule_is_not_found(store: SqlStore) -> None:
    daily(store)

    with pytest.raises(NotFound):
        control.skip(store, 999, count=1, now=T0)
    with pytest.raises(NotFound):
        control.disable(store, 999, now=T0)


def test_the_skipped_slots_never_fire(store: SqlStore) -> None:
    sid = daily(store)
    control.skip(store, sid, count=2, now=T0)

    ScheduleService(store).tick(utc(2026, 1, 13, 7))

    assert [a[0] for a in attempts(store)] == [utc(2026, 1, 13)]


# -- enable / disable ----------------------------------------------------------------------------


def test_a_disabled_schedule_catches_up_its_missed_slots_once_enabled(store: SqlStore) -> None:
    sid = daily(store)
    assert control.disable(store, sid, now=T0).disabled_at == T0
    service = ScheduleService(store)
    service.tick(utc(2026, 1, 13, 8))
    assert attempts(store) == []

    state = control.enable(store, sid, now=utc(2026, 1, 13, 8))
    service.tick(utc(2026, 1, 13, 8))

    assert state.enabled and state.changed
    assert [a[0] for a in attempts(store)] == [utc(2026, 1, 11), utc(2026, 1, 12),
                                              utc(2026, 1, 13)]


def test_enable_with_skip_schedule_resumes_at_the_first_upcoming_slot(store: SqlStore) -> None:
    sid = daily(store)
    control.disable(store, sid, now=T0)

    state = control.enable(store, sid, skip_schedule=True, now=utc(2026, 1, 13, 8))
    ScheduleService(store).tick(utc(2026, 1, 13, 8))

    assert state.next_schedule_time == utc(2026, 1, 14)
    assert attempts(store) == []


def test_enable_with_a_next_time_resumes_there(store: SqlStore) -> None:
    sid = daily(store)
    control.disable(store, sid, now=T0)

    state = control.enable(store, sid, next_time=utc(2026, 2, 1), now=T0)

    assert (state.next_schedule_time, state.enabled) == (utc(2026, 2, 1), True)


def test_disabling_twice_or_enabling_an_enabled_schedule_changes_nothing(store: SqlStore) -> None:
    sid = daily(store)

    assert not control.enable(store, sid, now=T0).changed
    assert control.disable(store, sid, now=T0).changed
    assert not control.disable(store, sid, now=T0 + timedelta(hours=1)).changed
    assert next_slot(store, sid)[0] == utc(2026, 1, 11)


# -- backfill ------------------------------------------------------------------------------------


def test_backfill_starts_the_oldest_slot_at_once_and_each_next_one_after_it_is_done(
    store: SqlStore,
) -> None:
    sid = daily(store)
    now = T0

    plan = control.backfill(store, sid, from_time=utc(2026, 1, 5), count=3,
                            attempt_name="bf", now=now)

    assert plan.session_times == (utc(2026, 1, 5), utc(2026, 1, 6), utc(2026, 1, 7))
    assert plan.first_attempt_id is not None and plan.backfill_id is not None
    assert [a[:2] for a in attempts(store)] == [(utc(2026, 1, 5), "bf")]
    assert advance_backfills(store, now) == []  # the first one still runs
    finish(store, plan.first_attempt_id, AttemptStatus.ERROR, now)  # a failure does not stop it
    second = advance_backfills(store, now)
    assert len(second) == 1 and advance_backfills(store, now) == []
    finish(store, second[0], AttemptStatus.SUCCESS, now)
    ScheduleService(store).tick(now)  # the scheduler tick advances backfills too

    assert [(a[0], a[1], a[3]) for a in attempts(store)] == [
        (utc(2026, 1, 5), "bf", Trigger.BACKFILL), (utc(2026, 1, 6), "bf", Trigger.BACKFILL),
        (utc(2026, 1, 7), "bf", Trigger.BACKFILL)]
    with store.read() as tx:
        assert tx.backfills.list_unfinished() == []


def test_each_backfilled_session_knows_the_previous_one_as_last_executed(
    store: SqlStore,
) -> None:
    sid = daily(store)
    ScheduleService(store).tick(utc(2026, 1, 11, 7))  # a real session on Jan 11
    control.skip(store, sid, next_time=utc(2026, 1, 20), now=T0)
    plan = control.backfill(store, sid, from_time=utc(2026, 1, 15), count=2,
                            attempt_name="bf", now=T0)
    assert plan.first_attempt_id is not None
    finish(store, plan.first_attempt_id, AttemptStatus.SUCCESS, T0)
    (second,) = advance_backfills(store, T0)

    with store.read() as tx:
        first_params = tx.attempts.get_attempt(plan.first_attempt_id).params
        second_params = tx.attempts.get_attempt(second).params
    assert first_params["last_executed_session_time"] == "2026-01-11T00:00:00+00:00"
    assert second_params["last_executed_session_time"] == "2026-01-15T00:00:00+00:00"


def test_backfill_covers_slots_before_the_next_slot_only_and_refuses_a_larger_count(
    store: SqlStore,
) -> None:
    sid = daily(store)

    plan = control.backfill(store, sid, from_time=utc(2026, 1, 8, 12), attempt_name="x",
                            dry_run=True, now=T0)
    assert plan.session_times == (utc(2026, 1, 9), utc(2026, 1, 10))
    with pytest.raises(control.BadRequest, match="only 2 slot"):
        control.backfill(store, sid, from_time=utc(2026, 1, 8, 12), count=3,
                         attempt_name="x", now=T0)
    with pytest.raises(control.BadRequest, match="no slot"):
        control.backfill(store, sid, from_time=utc(2026, 3, 1), attempt_name="x", now=T0)


def test_backfill_stops_before_to_time(store: SqlStore) -> None:
    sid = daily(store)

    plan = control.backfill(store, sid, from_time=utc(2026, 1, 1), to_time=utc(2026, 1, 3),
                            attempt_name="x", dry_run=True, now=T0)

    assert plan.session_times == (utc(2026, 1, 1), utc(2026, 1, 2))


def test_a_dry_run_backfill_stores_and_starts_nothing(store: SqlStore) -> None:
    sid = daily(store)

    plan = control.backfill(store, sid, from_time=utc(2026, 1, 5), count=2,
                            attempt_name="x", dry_run=True, now=T0)

    assert plan.dry_run and plan.backfill_id is None and plan.first_attempt_id is None
    assert attempts(store) == []
    with store.read() as tx:
        assert tx.backfills.list_unfinished() == []


def test_a_slot_with_an_attempt_of_that_name_rejects_the_whole_backfill(store: SqlStore) -> None:
    sid = daily(store)
    first = control.backfill(store, sid, from_time=utc(2026, 1, 6), count=1,
                             attempt_name="again", now=T0)
    before = attempts(store)

    with pytest.raises(Conflict, match="again"):
        control.backfill(store, sid, from_time=utc(2026, 1, 5), count=3,
                         attempt_name="again", now=T0)

    assert attempts(store) == before
    with store.read() as tx:
        assert tx.backfills.list_unfinished() == []  # only the first, already finished
    assert first.first_attempt_id is not None


def test_a_session_with_an_attempt_of_another_name_gets_one_more(store: SqlStore) -> None:
    sid = daily(store)
    ScheduleService(store).tick(utc(2026, 1, 11, 7))
    control.skip(store, sid, count=1, now=utc(2026, 1, 11, 8))

    control.backfill(store, sid, from_time=utc(2026, 1, 11), count=1, attempt_name="redo",
                     now=T0)

    assert [(a[0], a[1], a[2]) for a in attempts(store)] == [
        (utc(2026, 1, 11), "", 1), (utc(2026, 1, 11), "redo", 2)]


@pytest.mark.parametrize("name", [""])
def test_a_backfill_needs_an_attempt_name(store: SqlStore, name: str) -> None:
    sid = daily(store)

    with pytest.raises(control.BadRequest):
        control.backfill(store, sid, from_time=utc(2026, 1, 5), attempt_name=name, now=T0)


def test_two_daemons_on_postgresql_start_each_backfill_slot_once_in_order(
    pg_schema_url: str,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from digpy.store.sql.engine import open_store

    stores = [open_store(pg_schema_url) for _ in range(2)]
    try:
        sid = daily(stores[0])
        plans = [control.backfill(stores[0], sid, from_time=utc(2026, 1, 1), count=6,
                                  attempt_name=f"bf{i}", now=T0) for i in range(3)]
        started: list[int] = [p.first_attempt_id for p in plans if p.first_attempt_id]
        with ThreadPoolExecutor(2) as pool:
            for _ in range(10):
                for attempt_id in started:
                    finish(stores[0], attempt_id, AttemptStatus.SUCCESS, T0)
                rounds = list(pool.map(lambda s: advance_backfills(s, T0), stores))
                started = [a for r in rounds for a in r]
        found = attempts(stores[0])
    finally:
        for s in stores:
            s.close()

    for name in ("bf0", "bf1", "bf2"):
        assert [a[0].day for a in found if a[1] == name] == [1, 2, 3, 4, 5, 6]
    assert len(found) == 18  # no slot started twice
