"""cron4j's ``Predictor.nextMatchingTime`` over local wall-clock minutes, as Digdag runs it.

Digdag's ``CronScheduler`` asks cron4j for the next match after an instant. cron4j

1. floors the instant to the minute and adds one minute; if the wall-clock fields of *that
   instant* in the zone match, it is the answer;
2. otherwise it searches the wall-clock calendar forward field by field for the first
   (date, hour, minute) that matches all five fields, and turns it into an instant with
   ``java.util.GregorianCalendar``, whose lenient resolution picks the **later** instant both
   for a wall time skipped by spring-forward (02:30 → 03:30 daylight time) and for one that
   happens twice at fall-back (01:30 → the standard-time 01:30);
3. if that resolution moved the date, it searches again from the new date.

Sources: cron4j 2.2.5 ``Predictor``/``SchedulingPattern``/``DayOfMonthValueMatcher``; Digdag
``CronScheduler`` (which makes ``match`` use the workflow zone); ICU ticket 5812 and the JDK
``ZoneInfo.getOffsetsByWall`` rule for how ``GregorianCalendar`` resolves gaps and overlaps.
Keeping step 1 reproduces a cron4j quirk on purpose: a search that starts one minute before
the *first* 01:30 of a fall-back night returns that first 01:30.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta, tzinfo

from digpy.dsl.cronpattern import CronFields

_MINUTE = timedelta(minutes=1)
_ZERO = timedelta()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# cron4j would loop forever on an impossible pattern; the dsl drops those, and every possible
# (month, day, weekday) combination recurs within one 400-year Gregorian cycle.
_MAX_MONTHS = 400 * 12 + 1


class _Part:
    """One ``|`` alternative with sorted value lists for fast "next value" lookups."""

    __slots__ = ("days", "fields", "hours", "last_day", "minutes", "months", "weekdays")

    def __init__(self, fields: CronFields) -> None:
        self.fields = fields  # sets, for membership tests
        self.minutes = sorted(fields.minutes)
        self.hours = sorted(fields.hours)
        self.days = fields.days
        self.last_day = 32 in fields.days
        self.months = fields.months
        self.weekdays = fields.weekdays

    def matches(self, wall: datetime) -> bool:
        return (wall.minute in self.fields.minutes and wall.hour in self.fields.hours
                and self.day_matches(wall.date()))

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months or (day.isoweekday() % 7) not in self.weekdays:
            return False
        if day.day in self.days:
            return True
        return self.last_day and day.day == calendar.monthrange(day.year, day.month)[1]

    def first_time(self, hour: int, minute: int) -> tuple[int, int] | None:
        """The earliest matching (hour, minute) at or after ``hour:minute`` in one day."""
        if hour in self.fields.hours:
            i = bisect_left(self.minutes, minute)
            if i < len(self.minutes):
                return hour, self.minutes[i]
        j = bisect_right(self.hours, hour)
        return (self.hours[j], self.minutes[0]) if j < len(self.hours) else None

    def next_wall(self, start: datetime) -> datetime:
        """The earliest matching wall-clock minute at or after the naive ``start``."""
        day = start.date()
        if self.day_matches(day):
            found = self.first_time(start.hour, start.minute)
            if found:
                return datetime(day.year, day.month, day.day, *found)
        day = self._next_day(day)
        return datetime(day.year, day.month, day.day, self.hours[0], self.minutes[0])

    def _next_day(self, day: date) -> date:
        """The first matching date after ``day``, stepping month by month."""
        year, month, first = day.year, day.month, day.day + 1
        for _ in range(_MAX_MONTHS):
            if month in self.months:
                found = self._day_in_month(year, month, first)
                if found:
                    return found
            year, month, first = year + month // 12, month % 12 + 1, 1
        raise ValueError("cron pattern never matches")

    def _day_in_month(self, year: int, month: int, first: int) -> date | None:
        length = calendar.monthrange(year, month)[1]
        for number in range(first, length + 1):
            if number in self.days or (self.last_day and number == length):
                day = date(year, month, number)
                if day.isoweekday() % 7 in self.weekdays:
                    return day
        return None


class CronMatcher:
    """Next matches of a parsed cron4j pattern in one time zone."""

    def __init__(self, parts: tuple[CronFields, ...], zone: tzinfo) -> None:
        self._parts = tuple(_Part(p) for p in parts)
        self._zone = zone

    def next_after(self, instant: datetime) -> datetime:
        """The first match strictly after ``instant`` at minute precision (a UTC datetime)."""
        minutes = (instant - _EPOCH) // _MINUTE
        probe = _EPOCH + (minutes + 1) * _MINUTE
        wall = probe.astimezone(self._zone).replace(tzinfo=None)
        if any(part.matches(wall) for part in self._parts):
            return probe
        return min(self._search(part, wall) for part in self._parts)

    def _search(self, part: _Part, start: datetime) -> datetime:
        while True:
            wall = part.next_wall(start)
            instant = resolve_wall_time(wall, self._zone)
            resolved = instant.astimezone(self._zone)
            if resolved.date() == wall.date():
                return instant
            # A gap pushed the time past midnight: cron4j searches on from that date.
            start = datetime.combine(resolved.date(), wall.time())


def resolve_wall_time(wall: datetime, zone: tzinfo) -> datetime:
    """The instant (UTC) of a naive local time, resolved as ``GregorianCalendar`` does: the
    later of the two candidate instants, both in a spring-forward gap and a fall-back overlap."""
    local = wall.replace(tzinfo=zone)
    # The later instant is the one with the smaller UTC offset.
    offset = min(local.utcoffset() or _ZERO, local.replace(fold=1).utcoffset() or _ZERO)
    return (wall - offset).replace(tzinfo=UTC)


