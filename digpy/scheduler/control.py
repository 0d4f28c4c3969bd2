"""Schedule control (spec §5.5): what ``POST /api/schedules/{id}/skip|backfill|enable|disable``
and the matching client commands do to a stored schedule.

Each call is one transaction on the store and takes ``now`` from its caller (the API's clock),
so tests drive it with a FakeClock. Times given without a zone are read in the workflow's
time zone (Digdag's ``LocalTimeOrInstant``); returned times carry the workflow zone's offset.

Errors, for the REST layer: ``NotFound`` (404) no such schedule; ``Conflict`` (409) the new
next slot would be in the past of the stored one, or a backfill's attempt name is taken;
``BadRequest`` (400, a ``ConfigError`` so the CLI exits 2) the arguments cannot be honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digpy.dsl.model import Workflow
from digpy.dsl.timezones import parse_timezone
from digpy.engine.definitions import from_definition
from digpy.errors import ConfigError, Conflict
from digpy.model.schedules import StoredSchedule
from digpy.scheduler.backfills import BackfillPlan, plan_and_start
from digpy.scheduler.triggers import ScheduleTimes, Slot, is_never
from digpy.store.base import Store, Tx

__all__ = ["BackfillPlan", "BadRequest", "ScheduleState", "backfill", "disable", "enable",
           "skip"]


class BadRequest(ConfigError):
    """A control request whose arguments cannot be honoured (HTTP 400, exit code 2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleState:
    """A schedule as a control call left it (or, for a dry run, would leave it)."""

    schedule_id: int
    project_id: int
    workflow_name: str
    next_schedule_time: datetime  # session time of the next slot; 9999-01-01 once ended
    next_run_time: datetime
    disabled_at: datetime | None
    changed: bool  # False for a dry run and when nothing had to change

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


def skip(
    store: Store,
    schedule_id: int,
    *,
    count: int | None = None,
    from_time: datetime | None = None,
    next_time: datetime | None = None,
    next_run_time: datetime | None = None,
    dry_run: bool = False,
    now: datetime,
) -> ScheduleState:
    """Move the schedule's next slot forward (Digdag ``reschedule`` /
    ``POST /api/schedules/{id}/skip``).

    Exactly one of ``count`` and ``next_time``: ``count`` skips that many slots past the first
    slot whose run time is at or after ``from_time`` (default ``now``); ``next_time`` moves to
    the first slot whose session time is at or after it. ``next_run_time`` overrides the new
    slot's run time. Nothing is written when ``dry_run``.

    :raises NotFound: no such schedule.
    :raises Conflict: the new slot is before the stored next slot ("already past").
    :raises BadRequest: neither or both of ``count`` and ``next_time``, or ``count`` < 0."""
    if (count is None) == (next_time is None):
        raise BadRequest("give either a count of slots to skip or a next time, not both")
    if count is not None and count < 0:
        raise BadRequest(f"the count of slots to skip must be 0 or more, not {count}")
    with store.write() as tx:
        row, workflow, times = _load(tx, schedule_id)
        if count is not None:
            slot = times.first_slot(_aware(from_time or now, workflow))
            for _ in range(count):
                slot = times.advance(slot)
        else:
            assert next_time is not None
            slot = times.slot_at_or_after(_aware(next_time, workflow))
        if next_run_time is not None and not is_never(slot):
            slot = Slot(slot.session_time, _aware(next_run_time, workflow))
        if slot.session_time < row.next_schedule_time:
            raise Conflict(
                f"schedule {schedule_id} is already past {slot.session_time.isoformat()}: its "
                f"next session is {_local(row.next_schedule_time, workflow).isoformat()}")
        changed = not dry_run and _move(tx, row, slot, now)
    return _state(row, workflow, slot=slot, changed=changed)


def backfill(
    store: Store,
    schedule_id: int,
    *,
    from_time: datetime,
    attempt_name: str,
    count: int | None = None,
    to_time: datetime | None = None,
    dry_run: bool = False,
    now: datetime,
) -> BackfillPlan:
    """Run the schedule's past slots again, one attempt named ``attempt_name`` per slot
    (trigger ``backfill``), oldest first and one after another (Digdag ``backfill``).

    The slots are every slot from the first one at or after ``from_time`` up to, not including,
    the schedule's next slot (and ``to_time`` when given), at most ``count``. The plan is
    stored and the first slot's attempt started in one transaction; the daemon starts each
    further slot when the previous slot's attempt is done, whatever its outcome (as Digdag's
    delayed attempts do). Sessions that already have other attempts get one more.

    :raises NotFound: no such schedule.
    :raises Conflict: a slot's session already has an attempt named ``attempt_name``
        (nothing is stored then).
    :raises BadRequest: no slot in the range, ``count`` larger than the slots available,
        or an empty ``attempt_name``."""
    if not attempt_name:
        raise BadRequest("a backfill needs an attempt name")
    if count is not None and count < 1:
        raise BadRequest(f"the count of slots to backfill must be 1 or more, not {count}")
    with store.write() as tx:
        row, workflow, times = _load(tx, schedule_id)
        first = times.slot_at_or_after(_aware(from_time, workflow))
        end = row.next_schedule_time
        if to_time is not None:
            end = min(end, _aware(to_time, workflow))
        slots = _slots_between(times, first, end, count)
        _check_slots(schedule_id, slots, count, first, end)
        return plan_and_start(tx, row, workflow, slots, attempt_name=attempt_name,
                              dry_run=dry_run, now=now)


def enable(
    store: Store,
    schedule_id: int,
    *,
    skip_schedule: bool = False,
    next_time: datetime | None = None,
    now: datetime,
) -> ScheduleState:
    """Enable the schedule (Digdag ``enable`` / ``POST /api/schedules/{id}/enable``).

    By default it resumes from its stored next slot, so the slots missed while it was
    disabled are caught up. ``skip_schedule`` first moves it to the first slot whose run time
    is at or after ``now`` (never backwards); ``next_time`` to the first slot at or after that
    session time (as ``skip``).

    :raises NotFound: no such schedule.
    :raises Conflict: ``next_time`` is before the stored next slot.
    :raises BadRequest: both ``skip_schedule`` and ``next_time``."""
    if skip_schedule and next_time is not None:
        raise BadRequest("give skip_schedule or a next time, not both")
    with store.write() as tx:
        row, workflow, times = _load(tx, schedule_id)
        slot = Slot(row.next_schedule_time, row.next_run_time)
        if skip_schedule:
            upcoming = times.first_slot(now)
            slot = max(slot, upcoming, key=lambda s: s.session_time)
        elif next_time is not None:
            slot = times.slot_at_or_after(_aware(next_time, workflow))
            if slot.session_time < row.next_schedule_time:
                raise Conflict(f"schedule {schedule_id} is already past "
                               f"{slot.session_time.isoformat()}")
        moved = _move(tx, row, slot, now)
        enabled = tx.schedules.set_disabled(schedule_id, None, now=now)
        row = tx.schedules.get_schedule(schedule_id)
    return _state(row, workflow, changed=moved or enabled)


def disable(store: Store, schedule_id: int, *, now: datetime) -> ScheduleState:
    """Disable the schedule: no slot fires until ``enable`` (Digdag ``disable`` /
    ``POST /api/schedules/{id}/disable``). Disabling a disabled schedule changes nothing.

    :raises NotFound: no such schedule."""
    with store.write() as tx:
        row, workflow, _ = _load(tx, schedule_id)
        changed = tx.schedules.set_disabled(schedule_id, now, now=now)
        row = tx.schedules.get_schedule(schedule_id)
    return _state(row, workflow, changed=changed)


# -- helpers ----------------------------------------------------------------------------------


def _load(tx: Tx, schedule_id: int) -> tuple[StoredSchedule, Workflow, ScheduleTimes]:
    row = tx.schedules.get_schedule(schedule_id)
    workflow = from_definition(tx.projects.get_definition(row.workflow_definition_id))
    assert workflow.schedule is not None  # sync_schedules deletes schedules that lost it
    return row, workflow, ScheduleTimes(workflow.schedule, workflow.timezone)


def _move(tx: Tx, row: StoredSchedule, slot: Slot, now: datetime) -> bool:
    if slot == Slot(row.next_schedule_time, row.next_run_time):
        return False
    if not tx.schedules.advance(
        row.id, expected_next=row.next_schedule_time, next_run_time=slot.run_time,
        next_schedule_time=slot.session_time, last_session_time=row.last_session_time, now=now,
    ):
        raise Conflict(f"schedule {row.id} fired meanwhile; try again")
    return True


def _slots_between(times: ScheduleTimes, first: Slot, end: datetime,
                   count: int | None) -> list[Slot]:
    slots: list[Slot] = []
    slot = first
    while not is_never(slot) and slot.session_time < end:
        if count is not None and len(slots) == count:
            break
        slots.append(slot)
        slot = times.advance(slot)
    return slots


def _check_slots(schedule_id: int, slots: list[Slot], count: int | None, first: Slot,
                 end: datetime) -> None:
    if not slots:
        raise BadRequest(f"schedule {schedule_id} has no slot from "
                         f"{first.session_time.isoformat()} before {end.isoformat()}")
    if count is not None and len(slots) < count:
        raise BadRequest(f"schedule {schedule_id} has only {len(slots)} slot(s) from "
                         f"{first.session_time.isoformat()} before {end.isoformat()}; "
                         f"asked for {count}")


def _aware(when: datetime, workflow: Workflow) -> datetime:
    """A time without a zone is a local time of the workflow's zone."""
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=parse_timezone(workflow.timezone))
    return when


def _local(when: datetime, workflow: Workflow) -> datetime:
    return when if is_never(when) else when.astimezone(parse_timezone(workflow.timezone))


def _state(row: StoredSchedule, workflow: Workflow, *, changed: bool,
           slot: Slot | None = None) -> ScheduleState:
    slot = slot or Slot(row.next_schedule_time, row.next_run_time)
    return ScheduleState(
        schedule_id=row.id, project_id=row.project_id, workflow_name=row.workflow_name,
        next_schedule_time=_local(slot.session_time, workflow),
        next_run_time=_local(slot.run_time, workflow),
        disabled_at=row.disabled_at, changed=changed,
    )
