"""Budgets that keep one ``${...}`` from eating the agent: sizes, depth and wall-clock time.

Every helper that can build something big checks its size *before* building it, so a payload
like ``'a'.repeat(1e9)`` fails fast instead of allocating. Loops that call user functions
(``map``, ``sort`` with a comparator, ``replace`` with a callback) check the deadline on each
call through ``Realm.enter``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from digpy.clock import SystemClock
from digpy.dsl.expr.values import limit_error

MAX_TEMPLATE_CHARS = 1_000_000  # a whole template string (SQL files included)
MAX_EXPRESSION_CHARS = 100_000  # one ${...}
MAX_DEPTH = 200  # AST depth and parser nesting
MAX_STRING = 8_000_000  # characters in any string an expression builds
MAX_ARRAY = 1_000_000  # elements in any array an expression builds
MAX_CALL_DEPTH = 64  # nested JS function calls ("Maximum call stack size exceeded")
TIME_BUDGET_SECONDS = 1.0  # per render()/evaluate_expression() call

_CLOCK = SystemClock()


class Realm:
    """What one evaluation shares: the JS local zone, 'now' for moment()/Date, and budgets."""

    __slots__ = ("_now", "_now_ms", "deadline", "depth", "tz", "tz_name")

    def __init__(self, tz: tzinfo, tz_name: str, now: datetime | None,
                 budget: float = TIME_BUDGET_SECONDS) -> None:
        self.tz = tz
        self.tz_name = tz_name
        self._now = now
        self._now_ms: int | None = None
        self.deadline = _CLOCK.monotonic() + budget
        self.depth = 0

    def now_ms(self) -> int:
        """Epoch milliseconds of 'now'; the system clock only when the caller gave none."""
        if self._now_ms is None:
            now = self._now if self._now is not None else _CLOCK.now()
            self._now_ms = int(now.timestamp() * 1000) if now.tzinfo else _naive_ms(now, self.tz)
        return self._now_ms

    def check_time(self) -> None:
        if _CLOCK.monotonic() > self.deadline:
            raise limit_error("expression took longer than its time budget")

    def enter(self) -> None:
        """Called on every JS function call: time and stack budgets."""
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise limit_error("Maximum call stack size exceeded")
        self.check_time()

    def leave(self) -> None:
        self.depth -= 1


def _naive_ms(now: datetime, tz: tzinfo) -> int:
    return int(now.replace(tzinfo=tz).timestamp() * 1000)


def check_string_size(n: int) -> None:
    if n > MAX_STRING:
        raise limit_error(f"a string of {n} characters exceeds the limit of {MAX_STRING}")


def check_array_size(n: float) -> None:
    if n > MAX_ARRAY:
        raise limit_error(f"an array of {int(n)} elements exceeds the limit of {MAX_ARRAY}")


def checked_str(s: str) -> str:
    check_string_size(len(s))
    return s


def checked_list(items: list[Any]) -> list[Any]:
    check_array_size(len(items))
    return items
