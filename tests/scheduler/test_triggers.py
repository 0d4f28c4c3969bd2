"""Schedule time math against Digdag's golden cases, cron4j rules, start/end and DST days."""

from __future__ import annotations

import itertools
import pickle
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from digpy.dsl.cronpattern import parse_cron
from digpy.dsl.schedule import parse_schedule
from digpy.scheduler.cron import CronMatcher
from digpy.scheduler.triggers import NEVER, ScheduleTimes, ScheduleTrigger, Slot, is_never

DATA = Path(__file__).resolve().parents[1] / "data" / "schedules"
SLOT_FILES = ("forms.yaml", "cron.yaml", "start_end.yaml", "dst_new_york.yaml", "dst_berlin.yaml")


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def _cases(files: tuple[str, ...], section: str) -> list[Any]:
    return [pytest.param(case, id=f"{name}: {case['name']}")
            for name in files for case in _load(name).get(section, [])]


def _times(case: dict[str, Any]) -> ScheduleTimes:
    schedule = parse_schedule(case["schedule"], timezone=case["timezone"])
    return ScheduleTimes(schedule, case["timezone"])


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _pair(slot: Slot) -> list[str]:
    return [slot.session_time.isoformat(), slot.run_time.isoformat()]


@pytest.mark.parametrize("case", _cases(SLOT_FILES, "cases"))
def test_the_first_slots_are_digdags(case: dict[str, Any]) -> None:
    slots = _times(case).upcoming(_at(case["now"]), len(case["slots"]))
    assert [_pair(s) for s in slots] == case["slots"]


@pytest.mark.parametrize("case", _cases(("start_end.yaml",), "advance"))
def test_advancing_a_slot_honours_start_and_end(case: dict[str, Any]) -> None:
    times = _times(case)
    session = _at(case["from"])
    slot = times.advance(Slot(session, session + timedelta(seconds=times.schedule.delay)))
    assert _pair(slot) == case["expect"]


@pytest.mark.parametrize("case", _cases(("previous.yaml",), "previous"))
def test_the_previous_session_time_is_the_slot_just_before(case: dict[str, Any]) -> None:
    assert _times(case).previous_session_time(_at(case["of"])).isoformat() == case["expect"]


@pytest.mark.parametrize("case", _cases(("previous.yaml",), "next"))
def test_the_next_slot_is_the_slot_just_after(case: dict[str, Any]) -> None:
    times = _times(case)
    slot = times.next_slot_after(_at(case["after"]))
    assert _pair(slot) == case["expect"]
    assert times.next_session_time(_at(case["after"])) == slot.session_time


@pytest.mark.parametrize("case", _cases(("previous.yaml",), "latest_before"))
def test_run_session_schedule_takes_the_latest_session_before_now(case: dict[str, Any]) -> None:
    assert _times(case).latest_session_before(_at(case["now"])).isoformat() == case["expect"]


def _daily(value: str, zone: str, **options: Any) -> ScheduleTimes:
    return ScheduleTimes(parse_schedule({"daily>": value, **options}, timezone=zone), zone)


def test_never_is_the_9999_sentinel_for_slots_and_times() -> None:
    assert datetime(9999, 1, 1, tzinfo=UTC) == NEVER
    assert is_never(NEVER) and is_never(Slot(NEVER, NEVER))
    assert not is_never(datetime(9998, 12, 31, tzinfo=UTC))


def test_upcoming_stops_after_the_sentinel() -> None:
    times = _daily("10:00:00", "UTC", end="2016-03-31")
    slots = times.upcoming(datetime(2016, 3, 30, 12, tzinfo=UTC), 5)
    assert [s.session_time.day for s in slots[:1]] == [31]
    assert len(slots) == 2 and is_never(slots[1])
    assert is_never(times.advance(slots[1]))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _daily("10:00:00", "UTC").first_slot(datetime(2024, 1, 1))


def test_returned_times_show_the_local_offset_and_compare_as_instants() -> None:
    times = ScheduleTimes(parse_schedule({"hourly>": "00:00"}, timezone="America/New_York"),
                          "America/New_York")
    first, second = times.upcoming(datetime(2024, 11, 3, 4, tzinfo=UTC), 2)
    assert first.session_time.utcoffset() == timedelta(hours=-4)
    assert second.session_time.utcoffset() == timedelta(hours=-5)
    assert second.session_time - first.session_time == timedelta(hours=2)
    assert first.session_time == datetime(2024, 11, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin"])
@pytest.mark.parametrize("schedule", [{"daily>": "01:30:00"}, {"daily>": "02:30:00"},
                                      {"cron>": "30 1 * * *"}, {"cron>": "30 2 * * *"}])
def test_a_daily_schedule_never_runs_twice_on_one_local_day(zone: str,
                                                              schedule: dict[str, str]) -> None:
    times = ScheduleTimes(parse_schedule(schedule, timezone=zone), zone)
    slots = times.upcoming(datetime(2024, 1, 1, tzinfo=UTC), 366)
    days = [s.session_time.date() for s in slots]
    assert len(set(days)) == len(days) == 366
    assert all(b.run_time > a.run_time for a, b in itertools.pairwise(slots))


def test_the_apscheduler_trigger_fires_at_run_times() -> None:
    trigger = ScheduleTrigger(_daily("07:00:00", "Asia/Tokyo"))
    now = datetime(2024, 5, 5, 8, tzinfo=UTC)
    first = trigger.get_next_fire_time(None, now)
    assert first is not None and first.isoformat() == "2024-05-06T07:00:00+09:00"
    following = trigger.get_next_fire_time(first, first)
    assert following is not None and following.isoformat() == "2024-05-07T07:00:00+09:00"


def test_the_apscheduler_trigger_stops_after_the_end_date() -> None:
    trigger = ScheduleTrigger(_daily("07:00:00", "UTC", end="2024-05-06"))
    first = trigger.get_next_fire_time(None, datetime(2024, 5, 5, 8, tzinfo=UTC))
    assert first == datetime(2024, 5, 6, 7, tzinfo=UTC)
    assert trigger.get_next_fire_time(first, first) is None


def test_the_apscheduler_trigger_survives_pickling_as_job_stores_do() -> None:
    trigger = ScheduleTrigger(_daily("07:00:00", "Europe/Berlin", start="2030-01-01"))
    copy = pickle.loads(pickle.dumps(trigger))
    now = datetime(2024, 5, 5, tzinfo=UTC)
    assert copy.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)
    assert "daily" in repr(copy)


# A reference for cron4j's field rules in UTC (no DST): test each day, then each minute.
_POOLS = {
    "minute": ["0", "*/15", "5,35", "50-10", "*", "7-8/1"],
    "hour": ["*", "9-17", "*/6", "22-2", "0", "12"],
    "day": ["*", "1-15", "10,20", "L", "*/2", "15,L"],
    "month": ["*", "jan-jun", "*/2", "dec,1", "mar"],
    "weekday": ["*", "mon-fri", "sun", "1,3,5", "fri-mon", "7"],
}


def _reference_next(pattern: str, after: datetime) -> datetime:
    (fields,) = parse_cron(pattern)
    start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = start.date()
    while True:
        last = (date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)).day
        ok_day = day.day in fields.days or (32 in fields.days and day.day == last)
        if ok_day and day.month in fields.months and day.isoweekday() % 7 in fields.weekdays:
            for hour in sorted(fields.hours):
                for minute in sorted(fields.minutes):
                    found = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                    if found >= start:
                        return found
        day += timedelta(days=1)


def test_the_cron_matcher_agrees_with_a_day_by_day_reference_on_random_patterns() -> None:
    rng = random.Random(20240505)
    for _ in range(150):
        pattern = " ".join(rng.choice(pool) for pool in _POOLS.values())
        matcher = CronMatcher(parse_cron(pattern), UTC)
        when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(10**6))
        for _ in range(4):
            expected = _reference_next(pattern, when)
            assert matcher.next_after(when) == expected, (pattern, when)
            when = expected
