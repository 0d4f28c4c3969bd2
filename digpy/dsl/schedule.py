"""``schedule:`` and ``sla:`` blocks → ``Schedule`` / ``Sla`` (see docs/schedules.md).

Every form is turned into Digdag's pair (cron4j pattern for the *session* time, delay in
seconds to the *run* time), exactly as Digdag's ``*SchedulerFactory`` classes do, so the time
math in ``digpy.scheduler.triggers`` has one code path. The cron4j pattern syntax is parsed
here (not in ``digpy.scheduler``) because a bad pattern is a config error that ``digpy check``
must report at its line, and ``dsl`` may not import ``scheduler``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from typing import Any, NamedTuple

from digpy.dsl.cronpattern import parse_cron
from digpy.dsl.durations import parse_duration
from digpy.dsl.model import Schedule, Sla
from digpy.dsl.source import ConfigMap, key_location, map_location, value_location
from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError, Location

KINDS = ("hourly", "daily", "weekly", "monthly", "minutes_interval", "cron", "seconds_interval")
OPTIONS = ("start", "end", "skip_on_overtime", "skip_delayed_by")
SLA_OPTIONS = ("time", "duration", "alert", "fail")
_FORMATS = {"hourly": "MM:SS", "daily": "HH:MM:SS", "weekly": "DDD,HH:MM:SS",
            "monthly": "D,HH:MM:SS"}
_DELAY_KINDS = ("minutes_interval", "cron", "seconds_interval")
_DIGITS = re.compile(r"\d+")
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Type(NamedTuple):
    kind: str
    key: str  # the key holding the value: "daily>", "_command" or "at"
    value: Any


# --------------------------------------------------------------------------- schedule:

def parse_schedule(config: Mapping[str, Any], *, timezone: str) -> Schedule:
    """The ``schedule:`` mapping of a workflow whose zone is ``timezone``."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"schedule: must be a mapping such as {{daily>: 07:00:00}}, "
                          f"not {config!r}", location=map_location(config))
    found = _value_of(config, _find_type(config))
    where = value_location(config, found.key)
    value, cron, delay, interval = _FORMS[found.kind](found.value, where)
    if found.kind in _DELAY_KINDS:
        delay = _delay(config)
    start, end = _date(config, "start"), _date(config, "end")
    if start and end and start > end:
        raise ConfigError(f"schedule: end {end} is before start {start} (both are dates in "
                          f"{timezone}; end is inclusive)", location=value_location(config, "end"))
    return Schedule(
        kind=found.kind, value=value, cron=cron, delay=delay, interval_seconds=interval,
        start=start, end=end,
        skip_on_overtime=_flag(config, "skip_on_overtime", "schedule", default=False),
        skip_delayed_by=_optional_duration(config, "skip_delayed_by"),
        unknown_keys=_unknown_keys(config, found),
    )


def suggest_schedule_option(key: str) -> list[str]:
    """Known ``schedule:`` options close to ``key`` (for the unknown-key warning)."""
    return did_you_mean(key, (*OPTIONS, "at", "delay"))


def _find_type(config: Mapping[str, Any]) -> _Type:
    keys = [k for k in config if isinstance(k, str) and k.endswith(">")]
    if "_type" in config:
        keys.append("_type")
    if not keys:
        # `daily: 07:00:00` (no >) is the usual slip: point at it.
        bare = [k for k in config if isinstance(k, str) and k in KINDS]
        where = key_location(config, bare[0]) if bare else map_location(config)
        raise ConfigError("schedule: needs one type such as daily>: 07:00:00 or "
                          "cron>: '0 * * * *'", location=where, suggestions=[f"{bare[0]}>"]
                          if bare else [])
    if len(keys) > 1:
        raise ConfigError(f"schedule: has more than one type ({', '.join(keys)}); keep one",
                          location=key_location(config, keys[1]))
    if keys[0] == "_type":
        return _named_type(config)
    kind = keys[0][:-1].strip()
    _check_kind(kind, key_location(config, keys[0]), suffix=">")
    return _Type(kind, keys[0], config[keys[0]])


def _named_type(config: Mapping[str, Any]) -> _Type:
    kind = config["_type"]
    if not isinstance(kind, str):
        raise ConfigError(f"schedule: _type must be a type name, not {kind!r}",
                          location=value_location(config, "_type"))
    _check_kind(kind, value_location(config, "_type"), suffix="")
    return _Type(kind, "_command", config.get("_command"))


def _check_kind(kind: str, where: Location | None, *, suffix: str) -> None:
    if kind not in KINDS:
        hints = [k + suffix for k in did_you_mean(kind, KINDS)]
        raise ConfigError(f"Unknown schedule type {kind + suffix!r}", location=where,
                          suggestions=hints)


def _value_of(config: Mapping[str, Any], found: _Type) -> _Type:
    """Resolve ``at:``, which hourly/daily/weekly/monthly take instead of the ``>`` value."""
    at = config.get("at") if found.kind in _FORMATS else None
    if found.value is not None and at is not None:
        raise ConfigError(f"schedule: {found.kind}> has both a value and at:; keep one",
                          location=key_location(config, "at"))
    if found.value is not None:
        return found
    if at is not None:
        return _Type(found.kind, "at", at)
    example = {"minutes_interval": "30", "seconds_interval": "60", "cron": "'0 * * * *'"}
    needs = _FORMATS.get(found.kind) or example[found.kind]
    raise ConfigError(f"schedule: {found.kind}> needs a value such as {needs}",
                      location=value_location(config, found.key))


# Each form returns (value as written, session cron, delay seconds, seconds_interval).
_Form = tuple[str, str | None, int, int | None]


def _clock(kind: str, cron: str, value: Any, where: Location | None) -> _Form:
    """hourly> (MM:SS after each hour) and daily> (HH:MM:SS after midnight)."""
    text = _text(value, kind, where)
    return text, cron, _time_of_day(text, kind, 3 if kind == "daily" else 2, where), None


def _weekly(value: Any, where: Location | None) -> _Form:
    text = _text(value, "weekly", where)
    day, time = _split_day(text, "weekly", where)
    bad = f"schedule: weekly> needs a day Sun..Sat or 0-6, not {day!r}"
    # cron4j reads "-1" as "1", so Digdag rejects negative days before building the pattern.
    if (_INTEGER.fullmatch(day) and int(day) < 0) or re.search(r"[\s|]", day):
        raise ConfigError(bad, location=where)
    try:
        parse_cron(f"0 0 * * {day}")
    except ValueError:
        raise ConfigError(bad, location=where) from None
    return text, f"0 0 * * {day}", _time_of_day(time, "weekly", 3, where), None


def _monthly(value: Any, where: Location | None) -> _Form:
    text = _text(value, "monthly", where)
    day, time = _split_day(text, "monthly", where)
    if not _DIGITS.fullmatch(day) or not 1 <= int(day) <= 31:
        raise ConfigError(f"schedule: monthly> needs a day of month 1-31, not {day!r} (for the "
                          "last day use cron>: '0 0 L * *')", location=where)
    return text, f"0 0 {int(day)} * *", _time_of_day(time, "monthly", 3, where), None


def _minutes_interval(value: Any, where: Location | None) -> _Form:
    minutes = _positive_int(value, "minutes_interval>", "minutes", where)
    return str(minutes), f"*/{minutes} * * * *", 0, None


def _cron(value: Any, where: Location | None) -> _Form:
    if not isinstance(value, str):
        raise ConfigError(f"schedule: cron> needs a pattern in quotes such as '0 * * * *', "
                          f"not {value!r}", location=where)
    try:
        parse_cron(value)
    except ValueError as exc:
        raise ConfigError(f"schedule: cron> {exc}", location=where) from None
    return value.strip(), value.strip(), 0, None


def _seconds_interval(value: Any, where: Location | None) -> _Form:
    seconds = _positive_int(value, "seconds_interval>", "seconds", where)
    return str(seconds), None, 0, seconds


_FORMS: dict[str, Callable[[Any, Location | None], _Form]] = {
    "hourly": partial(_clock, "hourly", "0 * * * *"),
    "daily": partial(_clock, "daily", "0 0 * * *"),
    "weekly": _weekly, "monthly": _monthly, "minutes_interval": _minutes_interval,
    "cron": _cron, "seconds_interval": _seconds_interval,
}


def _text(value: Any, kind: str, where: Location | None) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"schedule: {kind}> needs {_FORMATS[kind]} written as text, "
                          f"not {value!r}", location=where)
    return value.strip()


def _split_day(text: str, kind: str, where: Location | None) -> tuple[str, str]:
    day, comma, time = text.partition(",")
    if not comma:
        raise ConfigError(f"schedule: {kind}> needs {_FORMATS[kind]}, not {text!r}",
                          location=where)
    return day.strip(), time.strip()


def _time_of_day(text: str, kind: str, count: int, where: Location | None) -> int:
    """Seconds in ``MM:SS`` (count 2) or ``HH:MM:SS`` (count 3). Like Digdag, parts are not
    range-checked: ``daily>: 25:00:00`` runs at 01:00 the next day."""
    parts = text.split(":")
    if len(parts) != count or not all(_DIGITS.fullmatch(p) for p in parts):
        raise ConfigError(f"schedule: {kind}> needs {_FORMATS[kind]}, not {text!r}",
                          location=where)
    return sum(int(part) * 60**i for i, part in enumerate(reversed(parts)))


def _positive_int(value: Any, name: str, unit: str, where: Location | None) -> int:
    number = _as_int(value)
    if number is None or number < 1:
        raise ConfigError(f"schedule: {name} needs a whole number of {unit} (1 or more), "
                          f"not {value!r}", location=where)
    return number


def _as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def _delay(config: Mapping[str, Any]) -> int:
    value = config.get("delay")
    if value is None:
        return 0
    number = _as_int(value)
    if number is None:
        raise ConfigError(f"schedule: delay: needs a number of seconds, not {value!r}",
                          location=value_location(config, "delay"))
    return number


def _date(config: Mapping[str, Any], key: str) -> date | None:
    value = config.get(key)
    if value is None or type(value) is date:
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"schedule: {key}: needs an existing date YYYY-MM-DD, not {value!r}",
                      location=value_location(config, key))


def _optional_duration(config: Mapping[str, Any], key: str) -> int | None:
    value = config.get(key)
    if value is None:
        return None
    return parse_duration(value, location=value_location(config, key))


def _unknown_keys(config: Mapping[str, Any], found: _Type) -> tuple[str, ...]:
    known = {*OPTIONS, "_type", "_command", f"{found.kind}>"}
    known.add("at" if found.kind in _FORMATS else "delay")
    return tuple(str(k) for k in config if k not in known and not str(k).endswith(">"))


def _flag(config: Mapping[str, Any], key: str, block: str, *, default: bool) -> bool:
    """A boolean, or "true"/"false" text (Digdag's Jackson coerces both)."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{block}: {key}: must be true or false, not {value!r}",
                      location=value_location(config, key))


# --------------------------------------------------------------------------- sla:

def parse_sla(config: Mapping[str, Any]) -> Sla:
    """``sla:`` with exactly one of ``time``/``duration``; the rest becomes the ``^sla`` group."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"sla: must be a mapping such as {{time: '02:00'}}, not {config!r}",
                          location=map_location(config))
    _reject_misspelt_sla_options(config)
    time, duration = config.get("time"), config.get("duration")
    if time is not None and duration is not None:
        raise ConfigError("sla: has both time: and duration:; keep one",
                          location=key_location(config, "duration"))
    if time is None and duration is None:
        raise ConfigError("sla: needs time: HH:MM[:SS] (a clock time) or duration: HH:MM[:SS] "
                          "(after the run time)", location=map_location(config))
    if time is not None:
        clock = _sla_hms(config, "time")
        if clock[0] > 23 or clock[1] > 59 or clock[2] > 59:
            raise ConfigError(f"sla: time: must be a clock time 00:00-23:59:59, not {time!r}",
                              location=value_location(config, "time"))
        sla_time, seconds = clock, None
    else:
        h, m, s = _sla_hms(config, "duration")
        sla_time, seconds = None, h * 3600 + m * 60 + s
    return Sla(time=sla_time, duration=seconds,
               alert=_flag(config, "alert", "sla", default=True),
               fail=_flag(config, "fail", "sla", default=False),
               tasks=_without(config, SLA_OPTIONS))


def _reject_misspelt_sla_options(config: Mapping[str, Any]) -> None:
    # Plain keys are params of the ^sla group, so only near-misses of an option are errors.
    for key in config:
        if isinstance(key, str) and key not in SLA_OPTIONS and key[:1] not in ("+", "_"):
            hints = did_you_mean(key, SLA_OPTIONS)
            if hints:
                raise ConfigError(f"Unknown sla option {key!r}", suggestions=hints,
                                  location=key_location(config, key))


def _sla_hms(config: Mapping[str, Any], key: str) -> tuple[int, int, int]:
    value = config[key]
    parts = value.strip().split(":") if isinstance(value, str) else []
    if len(parts) not in (2, 3) or not all(_DIGITS.fullmatch(p) for p in parts):
        raise ConfigError(f"sla: {key}: needs HH:MM or HH:MM:SS, not {value!r}",
                          location=value_location(config, key))
    h, m, s = (int(p) for p in [*parts, "0"][:3])
    return h, m, s


def _without(config: Mapping[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``config`` minus ``drop`` that keeps the source marks when there are any."""
    out = ConfigMap() if isinstance(config, ConfigMap) else {}
    for key, value in config.items():
        if key not in drop:
            out[key] = value
    if isinstance(config, ConfigMap) and isinstance(out, ConfigMap):
        out.mark = config.mark
        out.key_marks = {k: m for k, m in config.key_marks.items() if k in out}
        out.value_marks = {k: m for k, m in config.value_marks.items() if k in out}
    return out
