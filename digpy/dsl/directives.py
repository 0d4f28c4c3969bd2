"""Reading directive values (``_retry``, ``_parallel``, ``_background`` ...) with the
coercions Digdag's Jackson-backed ``Config`` applies, so a value Digdag accepts is accepted
here and one it rejects is a ConfigError with the value's location.

Strings are accepted where Digdag accepts them because a ``${...}`` evaluates to text
(``_retry: ${n}`` becomes ``"3"``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from digpy.dsl.model import IntervalType, RetryPolicy
from digpy.dsl.source import plain, value_location
from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError, Location

# Jackson's textual booleans; an empty string or "null" coerces to false.
_TRUE_TEXT = frozenset({"true", "True", "TRUE"})
_FALSE_TEXT = frozenset({"false", "False", "FALSE", "", "null"})
_INT_TEXT = re.compile(r"[+-]?\d+")
_INTERVAL_TYPES = ("constant", "exponential")


def show(value: Any, limit: int = 80) -> str:
    """A short JSON rendering of a config value for error messages."""
    try:
        text = json.dumps(plain(value), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_bool(value: Any, *, key: str, default: bool, location: Location | None) -> bool:
    """``value`` read as a boolean (None -> ``default``); ConfigError when it is not one."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        text = value.strip()
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
    raise ConfigError(f"{key} must be true or false, not {show(value)}", location=location)


def as_int(value: Any, *, what: str, location: Location | None) -> int:
    """``value`` read as an integer: ints, finite floats (truncated, as Jackson does) and
    decimal strings; ConfigError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise ConfigError(f"{what} must be an integer, not {show(value)}", location=location)


def parse_retry(value: Any, *, location: Location | None = None) -> RetryPolicy:
    """``_retry: N`` or ``_retry: {limit, interval, interval_type, max_interval}``."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        limit = as_int(value, what="_retry", location=location)
        return _retry_policy(limit=limit, location=location)
    if isinstance(value, Mapping):
        return _retry_from_mapping(value, location)
    raise ConfigError(f"Invalid _retry format: {show(value)}", location=location)


def _retry_from_mapping(config: Mapping[str, Any], location: Location | None) -> RetryPolicy:
    def where(key: str) -> Location | None:
        return value_location(config, key) or location

    if config.get("limit") is None:
        raise ConfigError("_retry needs a 'limit' (e.g. _retry: {limit: 3, interval: 10})",
                          location=location)
    limit = as_int(config["limit"], what="_retry limit", location=where("limit"))
    interval = 0
    if config.get("interval") is not None:
        interval = as_int(config["interval"], what="_retry interval", location=where("interval"))
    max_interval = None
    if config.get("max_interval") is not None:
        max_interval = as_int(config["max_interval"], what="_retry max_interval",
                              location=where("max_interval"))
    kind = _interval_type(config.get("interval_type"), where("interval_type"))
    return _retry_policy(limit=limit, interval=interval, interval_type=kind,
                         max_interval=max_interval, location=location)


def _interval_type(value: Any, location: Location | None) -> IntervalType:
    if value is None:
        return "constant"
    text = str(value).lower() if isinstance(value, str | int | float) else None
    if text == "constant":
        return "constant"
    if text == "exponential":
        return "exponential"
    raise ConfigError(f"Invalid retry_interval_type: {show(value)}", location=location,
                      suggestions=did_you_mean(str(value), _INTERVAL_TYPES))


def _retry_policy(*, location: Location | None, **fields: Any) -> RetryPolicy:
    for name in ("limit", "interval", "max_interval"):
        if (fields.get(name) or 0) < 0:
            raise ConfigError(f"_retry {name} must not be negative, got {fields[name]}",
                              location=location)
    return RetryPolicy(**fields)


def parse_parallel(value: Any, *, location: Location | None = None) -> bool | int:
    """``true``/``false`` (or their text from ``${...}``) -> bool; ``{limit: N}`` -> N, the
    size of the fixed batches. Check ``isinstance(result, bool)`` first: bool is an int.

    ``limit`` of 0 or less means no limit, as in Digdag, and returns True."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in _TRUE_TEXT | _FALSE_TEXT:
        return value.strip() in _TRUE_TEXT
    if isinstance(value, Mapping):
        if value.get("limit") is None:
            raise ConfigError("_parallel needs a 'limit' (e.g. _parallel: {limit: 2})",
                              location=location)
        where = value_location(value, "limit") or location
        limit = as_int(value["limit"], what="_parallel limit", location=where)
        return limit if limit > 0 else True
    raise ConfigError(f"Invalid _parallel format: {show(value)}"
                      " (use true, false or {limit: N})", location=location)
