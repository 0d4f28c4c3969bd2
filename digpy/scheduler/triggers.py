"""Schedule time math: session slots, run times, ``start``/``end`` and the 9999 sentinel.

A ``Schedule`` is Digdag's pair (cron4j pattern for the session time, delay to the run time),
or an epoch-aligned ``seconds_interval``. ``ScheduleTimes`` answers what Digdag's
``CronScheduler`` / ``SecondsIntervalScheduler`` answer: the first slot (push time, ``digpy
check``), the next and previous slots (``next_session_time`` / ``last_session_time``,
``run --session schedule``) and the next slot the daemon must fire, with ``start``/``end``.
All arithmetic is done on UTC instants; returned datetimes carry the zone's UTC offset of that
instant (a fixed-offset tzinfo) so they print as local times yet compare and add exactly.
See docs/schedules.md for the behaviour and the sources it was pinned from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from digpy.dsl.cronpattern import parse_cron
from digpy.dsl.model import Schedule
from digpy.dsl.timezones import parse_timezone
from digpy.scheduler.cron import CronMatcher

NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # Digdag's "schedule has ended" session and run time
_SECOND = timedelta(seconds=1)
_TICK = timedelta(microseconds=1)  # Digdag subtracts one nanosecond; datetimes stop at micro
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOOKBACK_LIMIT = timedelta(days=800 * 366)


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled session: its ``session_time`` and the ``run_time`` it starts at."""

    session_time: datetime
    run_time: datetime


NEVER_SLOT = Slot(NEVER, NEVER)


def is_never(slot_or_time: Slot | datetime) -> bool:
    """True for the sentinel slot (or time) of a schedule that has passed its ``end``."""
    when = slot_or_time.session_time if isinstance(slot_or_time, Slot) else slot_or_time
    return when >= NEVER


class ScheduleTimes:
    """The slots of one ``schedule:`` in one workflow time zone."""

    def __init__(self, schedule: Schedule, timezone: str) -> None:
        self.schedule = schedule
        self.timezone = timezone
        self._zone = parse_timezone(timezone)
        self._delay = timedelta(seconds=schedule.delay)
        self._interval = schedule.interval_seconds
        self._matcher = (CronMatcher(parse_cron(schedule.cron), self._zone)
                         if schedule.cron else None)
        # seconds_interval ignores start and end, as Digdag's SecondsIntervalScheduler does.
        bounded = self._interval is None
        self._start = self._start_of_day(schedule.start) if bounded and schedule.start else None
        self._end = (self._start_of_day(schedule.end + timedelta(days=1))
                     if bounded and schedule.end else None)

    def next_slot_after(self, session_time: datetime) -> Slot:
        """The slot strictly after ``session_time`` (start and end are not applied)."""
        return self._slot(self._next(_utc(session_time)))

    def previous_session_time(self, session_time: datetime) -> datetime:
        """The slot strictly before ``session_time`` (``last_session_time``), start/end ignored."""
        return self._local(self._previous(_utc(session_time)))

    def next_session_time(self, session_time: datetime) -> datetime:
        """The slot strictly after ``session_time`` (``next_session_time``)."""
        return self.next_slot_after(session_time).session_time

    def first_slot(self, now: datetime) -> Slot:
        """The earliest slot whose run time is at or after ``now``, within start/end (spec §5.4);
        ``NEVER_SLOT`` when the schedule has ended. seconds_interval: the first session at or
        after ``now`` (Digdag compares its session time, not its run time)."""
        now = _utc(now)
        if self._interval is not None:
            return self._slot(self._next(now - _TICK))
        last = now.replace(microsecond=0)
        if last == now:
            last -= _SECOND  # so a run time equal to `now` still counts, as in Digdag
        return self._bounded(last - self._delay)

    def advance(self, slot: Slot) -> Slot:
        """The slot after ``slot`` that the scheduler fires next, honouring ``end``."""
        if is_never(slot):
            return NEVER_SLOT
        if self._interval is not None:
            return self.next_slot_after(slot.session_time)
        return self._bounded(_utc(slot.session_time))

    def slot_at_or_after(self, session_time: datetime) -> Slot:
        """The first slot whose session time is at or after ``session_time``, within
        start/end (reschedule ``-t``, backfill ``--from``); ``NEVER_SLOT`` past the end."""
        when = _utc(session_time) - _TICK
        if self._interval is not None:
            return self.next_slot_after(when)
        return self._bounded(when)

    def latest_session_before(self, now: datetime) -> datetime:
        """``run --session schedule``: the latest session time before ``now``."""
        return self.previous_session_time(now)

    def upcoming(self, now: datetime, count: int) -> list[Slot]:
        """``first_slot(now)`` and the slots after it; stops after the sentinel."""
        slots: list[Slot] = []
        slot = self.first_slot(now)
        while len(slots) < count:
            slots.append(slot)
            if is_never(slot):
                break
            slot = self.advance(slot)
        return slots

    def _bounded(self, after: datetime) -> Slot:
        session = self._next(after)
        if self._start is not None and session + self._delay < self._start:
            session = self._next(self._start - _SECOND)
        # Digdag checks `end` before moving to `start`, so a slot found from `start` could lie
        # past `end`; checking afterwards ends the schedule instead (documented deviation).
        if self._end is not None and session + self._delay >= self._end:
            return NEVER_SLOT
        return self._slot(session)

    def _next(self, after: datetime) -> datetime:
        if self._interval is not None:
            seconds = (after - _EPOCH) // _SECOND
            return _EPOCH + (seconds - seconds % self._interval + self._interval) * _SECOND
        assert self._matcher is not None
        return self._matcher.next_after(after)

    def _previous(self, current: datetime) -> datetime:
        if self._interval is not None:
            seconds = (current - _TICK - _EPOCH) // _SECOND
            return _EPOCH + (seconds - seconds % self._interval) * _SECOND
        # Like Digdag: step back about one interval, then walk forward to the last slot before
        # `current`. Unlike Digdag, step back further when the first step was not far enough,
        # so irregular patterns (`0 0 1,2 * *`) still get a real slot.
        first = self._next(current)
        back = 2 * max(self._next(first) - first, timedelta(minutes=1))
        while self._next(current - back) >= current:
            back *= 2
            if back > _LOOKBACK_LIMIT:
                raise ValueError(f"no slot of {self.schedule.cron!r} before {current}")
        before = current - back
        while (following := self._next(before)) < current:
            before = following
        return before

    def _slot(self, session: datetime) -> Slot:
        return Slot(self._local(session), self._local(session + self._delay))

    def _local(self, instant: datetime) -> datetime:
        if instant >= NEVER:
            return NEVER
        local = instant.astimezone(self._zone)
        return local.replace(tzinfo=_fixed_zone(local.utcoffset() or timedelta()))

    def _start_of_day(self, day: date) -> datetime:
        # java.time's ZonedDateTime.of (Digdag's ScheduleConfigHelper) moves a midnight inside
        # a gap forward and takes the earlier of two midnights: Python's fold=0 does the same.
        return datetime.combine(day, time(), tzinfo=self._zone).astimezone(UTC)


class ScheduleTrigger(BaseTrigger):
    """An APScheduler 3 trigger that fires at a schedule's run times, with Digdag's semantics
    (APScheduler's own CronTrigger differs on DST and cron syntax; see docs/schedules.md)."""

    __slots__ = ("times",)

    def __init__(self, times: ScheduleTimes) -> None:
        self.times = times

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        if previous_fire_time is None:
            slot = self.times.first_slot(now)
        else:
            session = previous_fire_time - timedelta(seconds=self.times.schedule.delay)
            slot = self.times.advance(Slot(session, previous_fire_time))
        return None if is_never(slot) else slot.run_time

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "schedule": self.times.schedule, "timezone": self.times.timezone}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.times = ScheduleTimes(state["schedule"], state["timezone"])

    def __repr__(self) -> str:
        return f"<ScheduleTrigger {self.times.schedule.kind}> {self.times.schedule.value!r}>"


@lru_cache(maxsize=256)
def _fixed_zone(offset: timedelta) -> timezone:
    return timezone(offset)


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"schedule times need a timezone-aware datetime, not {when!r}")
    return when.astimezone(UTC)
