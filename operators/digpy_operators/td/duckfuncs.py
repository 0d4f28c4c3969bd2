"""The ``td__*`` DuckDB UDFs: TD functions whose arguments are columns, not constants.

``tdfuncs`` turns constant-argument calls into plain SQL; what remains calls these, row by row,
with the same Python functions (``tdtime``) so both paths share one definition of TD semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
from duckdb.func import FunctionNullHandling
from duckdb.sqltypes import BIGINT, BOOLEAN, VARCHAR

from . import tdtime


def _time_range(
    time: int | None, start: str | None, end: str | None, tz: str | None
) -> bool | None:
    if time is None:
        return None
    low, high = tdtime.time_bound(start, tz), tdtime.time_bound(end, tz)
    return (low is None or time >= low) and (high is None or time < high)


def _interval(time: int | None, spec: str | None, tz: str | None, scheduled: int) -> bool | None:
    if time is None or spec is None:
        return None
    low, high = tdtime.interval_bounds(spec, tz, scheduled)
    return low <= time < high


def _time_format(time: int, pattern: str, tz: str) -> str:
    return tdtime.format_time(time, pattern, tz)


def _date_trunc(unit: str, time: int, tz: str) -> int:
    return tdtime.date_trunc(unit, time, tz)


def _time_parse(text: str | None, tz: str | None) -> int | None:
    return None if text is None else tdtime.parse_time(text, tz)


def _time_add(time: str, duration: str, tz: str) -> int:
    return tdtime.time_add(time, duration, tz)


# name -> (function, argument types, return type, NULL arguments are meaningful)
_UDFS: dict[str, tuple[Callable[..., Any], list[Any], Any, bool]] = {
    "td__time_range": (_time_range, [BIGINT, VARCHAR, VARCHAR, VARCHAR], BOOLEAN, True),
    "td__interval": (_interval, [BIGINT, VARCHAR, VARCHAR, BIGINT], BOOLEAN, True),
    "td__time_format": (_time_format, [BIGINT, VARCHAR, VARCHAR], VARCHAR, False),
    "td__date_trunc": (_date_trunc, [VARCHAR, BIGINT, VARCHAR], BIGINT, False),
    "td__time_parse": (_time_parse, [VARCHAR, VARCHAR], BIGINT, True),  # may return NULL
    "td__time_add": (_time_add, [VARCHAR, VARCHAR, VARCHAR], BIGINT, False),
}


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Add the UDFs to a connection. side_effects=False lets DuckDB fold constant calls."""
    for name, (fn, args, returns, nulls_matter) in _UDFS.items():
        nulls = FunctionNullHandling.SPECIAL if nulls_matter else FunctionNullHandling.DEFAULT
        con.create_function(name, fn, args, returns, side_effects=False, null_handling=nulls)
