"""TD's SQL functions, rewritten in the parsed query before it reaches the backend.

With constant arguments (the common case: ``TD_TIME_RANGE(time, '${session_date}', NULL)``)
the call becomes plain SQL any database runs and can push down: ``time >= 1454112000``. With
column arguments it becomes a call to a ``td__*`` Python UDF (registered by ``duckfuncs``; the
local backend only). TD_SCHEDULED_TIME() is the job's scheduled time, i.e. session_unixtime.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from . import tdtime
from .tdtime import TdTimeError

_Args = Sequence[exp.Expression]


@dataclass(frozen=True, slots=True)
class Rewriter:
    """Rewrites TD_* calls for one job: ``scheduled_time`` and whether the target is DuckDB
    (the only backend with the ``td__*`` fallbacks and ``strftime``)."""

    scheduled_time: int
    duckdb: bool

    def __call__(self, node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Anonymous):
            return node
        handler = _HANDLERS.get(str(node.name).upper())
        if handler is None:
            return node
        try:
            return handler(self, list(node.expressions))
        except TdTimeError as exc:
            raise TdTimeError(f"{node.name}: {exc}") from exc

    def fallback(self, name: str, args: _Args) -> exp.Expression:
        if not self.duckdb:
            raise TdTimeError(
                f"{name.upper()} with non-constant arguments is available on the local backend "
                "only; pass constants or compute it in the query")
        return exp.Anonymous(this=f"td__{name}", expressions=list(args))


class _NotConstant(Exception):  # an internal signal, never escapes this module
    pass


def _const(node: exp.Expression) -> str | None:
    """The text of a literal (or None for NULL); _NotConstant for anything else."""
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return f"-{node.this.this}"
    raise _NotConstant


def _consts(args: _Args) -> list[str | None] | None:
    try:
        return [_const(a) for a in args]
    except _NotConstant:
        return None


def _arity(name: str, args: _Args, low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise TdTimeError(f"{name} takes {low} to {high} arguments, got {len(args)}")


def _tz(args: _Args, index: int) -> exp.Expression:
    return args[index] if len(args) > index else exp.Literal.string("UTC")


def _range(column: exp.Expression, low: int | None, high: int | None) -> exp.Expression:
    parts: list[exp.Expression] = []
    if low is not None:
        parts.append(exp.GTE(this=column.copy(), expression=exp.Literal.number(low)))
    if high is not None:
        parts.append(exp.LT(this=column.copy(), expression=exp.Literal.number(high)))
    if not parts:
        return exp.Boolean(this=True)
    return exp.Paren(this=exp.and_(*parts))


def _varchar(node: exp.Expression) -> exp.Expression:
    return exp.Cast(this=node, to=exp.DataType.build("VARCHAR"))


def _time_range(rw: Rewriter, args: _Args) -> exp.Expression:
    _arity("TD_TIME_RANGE", args, 3, 4)
    consts = _consts([*args[1:3], _tz(args, 3)])
    if consts is None:
        return rw.fallback("time_range", [args[0], _varchar(args[1]), _varchar(args[2]),
                                          _tz(args, 3)])
    start, end, tz = consts
    return _range(args[0], tdtime.time_bound(start, tz), tdtime.time_bound(end, tz))


def _interval(rw: Rewriter, args: _Args) -> exp.Expression:
    _arity("TD_INTERVAL", args, 2, 3)
    consts = _consts([args[1], _tz(args, 2)])
    if consts is None or consts[0] is None:
        return rw.fallback("interval", [args[0], args[1], _tz(args, 2),
                                        exp.Literal.number(rw.scheduled_time)])
    low, high = tdtime.interval_bounds(consts[0], consts[1], rw.scheduled_time)
    return _range(args[0], low, high)


def _time_format(rw: Rewriter, args: _Args) -> exp.Expression:
    _arity("TD_TIME_FORMAT", args, 2, 3)
    consts = _consts([args[1], _tz(args, 2)])
    if consts is not None and consts[0] is not None:
        native, _ = tdtime.compile_format(consts[0])
        zone_name = _duck_zone(consts[1])
        if rw.duckdb and native is not None and zone_name is not None:
            local = _fn("timezone", exp.Literal.string(zone_name), _fn("to_timestamp", args[0]))
            return _fn("strftime", local, exp.Literal.string(native))
    return rw.fallback("time_format", [args[0], args[1], _tz(args, 2)])


def _date_trunc(rw: Rewriter, args: _Args) -> exp.Expression:
    _arity("TD_DATE_TRUNC", args, 2, 3)
    consts = _consts([args[0], _tz(args, 2)])
    zone_name = _duck_zone(consts[1]) if consts else None
    if rw.duckdb and consts and consts[0] and zone_name is not None:
        tdtime.truncate(tdtime.to_local(0, None), consts[0].lower())  # validates the unit
        zone_lit = exp.Literal.string(zone_name)
        local = _fn("timezone", zone_lit, _fn("to_timestamp", args[1]))
        truncated = _fn("date_trunc", exp.Literal.string(consts[0].lower()), local)
        seconds = _fn("epoch", _fn("timezone", zone_lit.copy(), truncated))
        return exp.Cast(this=seconds, to=exp.DataType.build("BIGINT"))
    return rw.fallback("date_trunc", [args[0], args[1], _tz(args, 2)])


def _time_parse(rw: Rewriter, args: _Args) -> exp.Expression:
    _arity("TD_TIME_PARSE", args, 1, 2)
    consts = _consts([args[0], _tz(args, 1)])
    if consts is None:
        return rw.fallback("time_parse", [args[0], _tz(args, 1)])
    if consts[0] is None:
        return exp.Null()
    parsed = tdtime.parse_time(consts[0], consts[1])
    return exp.Null() if parsed is None else exp.Literal.number(parsed)


def _time_add(rw: Rewriter, args: _Args) -> exp.Expression:
    _arity("TD_TIME_ADD", args, 2, 3)
    consts = _consts([args[0], args[1], _tz(args, 2)])
    if consts is None or consts[0] is None or consts[1] is None:
        return rw.fallback("time_add", [_varchar(args[0]), args[1], _tz(args, 2)])
    return exp.Literal.number(tdtime.time_add(consts[0], consts[1], consts[2]))


def _scheduled_time(rw: Rewriter, args: _Args) -> exp.Expression:
    _arity("TD_SCHEDULED_TIME", args, 0, 0)
    return exp.Literal.number(rw.scheduled_time)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    # Anonymous keeps the call verbatim: sqlglot's typed nodes would re-map the format string.
    return exp.Anonymous(this=name, expressions=list(args))


def _duck_zone(name: str | None) -> str | None:
    """A zone name DuckDB's ICU knows for this TD zone, or None (then the UDF path is used)."""
    zone = tdtime.zone(name)
    key = getattr(zone, "key", None)
    if key is not None:
        return str(key)
    offset = zone.utcoffset(None)
    if offset is None or offset.total_seconds() % 3600:
        return None
    hours = int(offset.total_seconds() // 3600)
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


_HANDLERS: dict[str, Callable[[Rewriter, _Args], exp.Expression]] = {
    "TD_TIME_RANGE": _time_range,
    "TD_INTERVAL": _interval,
    "TD_TIME_FORMAT": _time_format,
    "TD_DATE_TRUNC": _date_trunc,
    "TD_TIME_PARSE": _time_parse,
    "TD_TIME_ADD": _time_add,
    "TD_SCHEDULED_TIME": _scheduled_time,
}
