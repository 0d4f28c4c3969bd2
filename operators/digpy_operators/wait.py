"""``wait>: 1h 30m`` succeeds once the duration has passed since the task first ran.

Durations are ``Nd Nh Nm Ns`` (Digdag) or a bare number of seconds (digpy). Non-blocking
by default: the operator raises ``PollAgain`` with the start time in its state params, so
the deadline survives an engine restart and no thread is held. With
``blocking: true`` it waits on ``ctx.cancel`` (never ``time.sleep``), so kill and
``_timeout`` still interrupt it. ``poll_interval`` sets the polling period instead of
"the time left"; it cannot be combined with ``blocking`` (Digdag ``WaitOperatorFactory``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from digpy.spi import ConfigError, Operator, PollAgain, TaskFailed, TaskResult, parse_duration

# Same key as Digdag, so the state reads the same in both: epoch milliseconds.
START_STATE_KEY = "wait_start_time_millis"


class WaitOperator(Operator):
    type: ClassVar[str] = "wait"
    retryable: ClassVar[bool] = False

    def run(self) -> TaskResult:
        config = self.request.config
        duration_ms = _duration(config.get("_command"), "wait>") * 1000
        blocking = _flag(config.get("blocking", False), "blocking")
        poll_interval = config.get("poll_interval")
        if blocking and poll_interval is not None:
            raise ConfigError("wait>: poll_interval can't be specified with blocking: true")

        now_ms = int(self.ctx.clock.now().timestamp() * 1000)
        start_ms = _start_ms(self.request.last_state, now_ms)
        deadline_ms = start_ms + duration_ms
        if now_ms > deadline_ms:
            return TaskResult.empty()
        # Whole seconds, at least one, as Digdag: a wait never polls in a tight loop.
        remaining = max((deadline_ms - now_ms) // 1000, 1)
        if blocking:
            return self._block(remaining)
        interval = remaining
        if poll_interval is not None:
            interval = max(_duration(poll_interval, "poll_interval"), 1)
        raise PollAgain(interval, {**self.request.last_state, START_STATE_KEY: start_ms})

    def _block(self, seconds: int) -> TaskResult:
        if self.ctx.cancel.wait(seconds):
            raise TaskFailed(self.ctx.cancel.reason or "The task was canceled")
        return TaskResult.empty()


def _start_ms(state: Any, now_ms: int) -> int:
    value = state.get(START_STATE_KEY)
    if value is None:
        return now_ms
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TaskFailed(f"wait>: the saved state {START_STATE_KEY}={value!r} is not a number")
    return int(value)


def _flag(value: Any, name: str) -> bool:
    """A boolean, or the string "true"/"false" that a ``${...}`` produces."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"wait>: option '{name}' must be true or false, not {value!r}")


def _duration(value: Any, name: str) -> int:
    if value is None or isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(
            f"{_label(name)} needs a duration such as '10s' or '1h 30m', not {value!r}"
        )
    try:
        return parse_duration(value)
    except (ValueError, ConfigError):
        raise ConfigError(
            f"{_label(name)} has an invalid duration {value!r} (use Nd Nh Nm Ns, e.g. '1h 30m')"
        ) from None


def _label(name: str) -> str:
    return name if name.endswith(">") else f"wait>: option '{name}'"
