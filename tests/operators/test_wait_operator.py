"""wait>: polls (or blocks on the cancel token) until its duration has passed since the
task first ran."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from digpy_operators.wait import START_STATE_KEY, WaitOperator, parse_duration

from digpy.clock import FakeClock
from digpy.errors import ConfigError, PollAgain, TaskFailed
from digpy.spi.process import CancelEvent
from digpy.spi.testing import make_context

START = datetime(2016, 1, 30, 0, 0, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)


def _run(tmp_path: Path, clock: FakeClock, config: dict[str, Any], **kw: Any) -> Any:
    ctx = make_context(tmp_path, operator="wait", config=config, clock=clock, **kw)
    return WaitOperator(ctx).run()


def test_first_run_polls_again_with_its_start_time_saved_in_state(tmp_path: Path) -> None:
    with pytest.raises(PollAgain) as poll:
        _run(tmp_path, FakeClock(START), {"_command": "10s"})

    assert poll.value.interval == 10
    assert poll.value.state == {START_STATE_KEY: START_MS}


def test_a_later_run_keeps_the_original_deadline(tmp_path: Path) -> None:
    # Given a wait that started at START and an engine that came back 4 s later
    clock = FakeClock(START)
    clock.advance(4)

    # When the task runs again with the saved state
    with pytest.raises(PollAgain) as poll:
        _run(tmp_path, clock, {"_command": "10s"}, last_state={START_STATE_KEY: START_MS})

    # Then it waits only for the time left, and keeps the start time
    assert poll.value.interval == 6
    assert poll.value.state[START_STATE_KEY] == START_MS


def test_wait_succeeds_once_the_clock_has_passed_the_deadline(tmp_path: Path) -> None:
    clock = FakeClock(START)
    clock.advance(10.001)
    result = _run(tmp_path, clock, {"_command": "10s"}, last_state={START_STATE_KEY: START_MS})
    assert result.store_params == {}


def test_exactly_at_the_deadline_it_polls_one_more_second_like_digdag(tmp_path: Path) -> None:
    clock = FakeClock(START)
    clock.advance(10)
    with pytest.raises(PollAgain) as poll:
        _run(tmp_path, clock, {"_command": "10s"}, last_state={START_STATE_KEY: START_MS})
    assert poll.value.interval == 1


def test_a_restart_long_after_the_deadline_finishes_at_once(tmp_path: Path) -> None:
    clock = FakeClock(START)
    clock.advance(3 * 3600)
    result = _run(tmp_path, clock, {"_command": "1h 30m"}, last_state={START_STATE_KEY: START_MS})
    assert result.subtask_config is None


def test_poll_interval_sets_how_often_it_polls(tmp_path: Path) -> None:
    with pytest.raises(PollAgain) as poll:
        _run(tmp_path, FakeClock(START), {"_command": "1h", "poll_interval": "5m"})
    assert poll.value.interval == 300


def test_poll_interval_together_with_blocking_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="poll_interval can't be specified with blocking"):
        config = {"_command": "1h", "blocking": True, "poll_interval": "1s"}
        _run(tmp_path, FakeClock(START), config)


@pytest.mark.parametrize("bad", ["ten seconds", "", "1m 1h", -5, True, None, [10]])
def test_an_invalid_duration_is_a_config_error_naming_wait(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ConfigError, match="wait>"):
        _run(tmp_path, FakeClock(START), {"_command": bad})


def test_an_invalid_poll_interval_is_a_config_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="option 'poll_interval'"):
        _run(tmp_path, FakeClock(START), {"_command": "1m", "poll_interval": "often"})


def test_an_invalid_blocking_flag_is_a_config_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="option 'blocking'"):
        _run(tmp_path, FakeClock(START), {"_command": "1m", "blocking": "yes"})


class RecordingCancel:
    """A cancel token that never fires and records how long it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return False

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        return False

    @property
    def reason(self) -> str:
        return ""


def test_blocking_wait_waits_on_the_cancel_token_for_the_time_left(tmp_path: Path) -> None:
    cancel = RecordingCancel()
    result = _run(
        tmp_path, FakeClock(START), {"_command": "2m", "blocking": "true"}, cancel=cancel
    )
    assert cancel.waits == [120]
    assert result.store_params == {}


def test_a_kill_interrupts_a_blocking_wait(tmp_path: Path) -> None:
    cancel = CancelEvent()
    threading.Timer(0.1, cancel.set, args=("killed by user",)).start()

    with pytest.raises(TaskFailed, match="killed by user"):
        _run(tmp_path, FakeClock(START), {"_command": "1h", "blocking": True}, cancel=cancel)


def test_wait_is_not_retried() -> None:
    assert WaitOperator.retryable is False


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("1h 30m", 5400), ("1d2h3m4s", 93784), (" 2 M ", 120), ("0s", 0),
     ("90", 90), (45, 45)],
)
def test_durations_read_days_hours_minutes_and_seconds_or_bare_seconds(
    text: str | int, seconds: int
) -> None:
    assert parse_duration(text) == seconds
