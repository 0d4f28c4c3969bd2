"""What td_wait> and td_wait_table> share (Digdag's AbstractWaitOperatorFactory): the
``interval`` between checks, the job that does one check, and the state between checks.

A check is one job (a query, or a count). On Treasure Data the job is submitted once with a
domain key and its status polled with td>'s 1 → 30 s backoff (state key ``job``); when the
condition is not met yet the job's state is dropped and the task comes back after
``interval`` for a fresh check. ``since`` (the first check, from ctx.clock) and ``checks``
stay in the state, so the log can say how long the task has been waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digpy.spi import ConfigError, OperatorContext, PollAgain, format_duration, parse_duration

from .backend import Backend, JobRequest, ResultSet

# Digdag's defaults (config.td.wait.*): 30 s by default, and no shorter, up to 2 days.
MIN_INTERVAL = 30
MAX_INTERVAL = 2 * 24 * 3600
DEFAULT_INTERVAL = 30
TABLE_EXISTENCE_INTERVAL = 30


def interval(params: Mapping[str, Any]) -> int:
    value = params.get("interval", DEFAULT_INTERVAL)
    seconds = parse_duration(value if isinstance(value, int | str) else str(value))
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ConfigError(f"poll interval must be at least {format_duration(MIN_INTERVAL)} and "
                          f"no greater than {format_duration(MAX_INTERVAL)}, got {value!r}")
    return seconds


class Waiter:
    """The check loop's state: started when first asked, one job per check."""

    def __init__(self, ctx: OperatorContext) -> None:
        self.ctx = ctx
        self.state: dict[str, Any] = dict(ctx.request.last_state)
        self.state.setdefault("since", ctx.clock.now().isoformat())

    def waited(self) -> str:
        since = datetime.fromisoformat(str(self.state["since"]))
        return format_duration(max(int((self.ctx.clock.now() - since).total_seconds()), 0))

    def run_check(self, backend: Backend, job: JobRequest) -> ResultSet:
        """The finished job of this check (PollAgain while a remote job runs)."""
        return backend.run_job(job, self.state, "job")

    def again(self, seconds: int, why: str) -> PollAgain:
        """Wait ``seconds`` before the next check, which starts a new job."""
        self.state.pop("job", None)
        self.state["checks"] = int(self.state.get("checks", 0)) + 1
        self.ctx.log.write(f"{why} (check {self.state['checks']}, waiting for "
                           f"{self.waited()}); checking again in {format_duration(seconds)}\n")
        return PollAgain(seconds, self.state)
