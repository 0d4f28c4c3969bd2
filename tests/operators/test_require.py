"""require>: start or wait for another session, against a fake SessionControl."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from control_flow_cases import load_cases, run_operator
from digpy_operators.require import RequireOperator

from digpy.errors import NotFound
from digpy.spi import ConfigError, PollAgain, TaskFailed
from digpy.spi.workflows import (
    AttemptStatus,
    SessionRequest,
    TooManyAttempts,
    set_session_control,
    using_session_control,
)

FRESH = "<fresh>"


class ScriptedSessions:
    """A SessionControl that answers from a script and remembers what it was asked."""

    def __init__(self) -> None:
        self.answer: AttemptStatus | Exception | None = None
        self.requests: list[SessionRequest] = []

    def find_or_start(self, request: SessionRequest) -> AttemptStatus:
        self.requests.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        assert self.answer is not None, "the script has no answer for this call"
        return self.answer


def _answer(step: Mapping[str, Any]) -> AttemptStatus | Exception | None:
    errors = {"not_found": NotFound("no such workflow"), "too_many_attempts": TooManyAttempts()}
    if "raise" in step:
        return errors[step["raise"]]
    return AttemptStatus(**step["answer"]) if "answer" in step else None


def _same(actual: Any, expected: Any, fresh: list[str]) -> bool:
    """``actual == expected``, where "<fresh>" matches one attempt name used throughout."""
    if expected == FRESH:
        if not fresh:
            uuid.UUID(actual)  # a real, random name
            fresh.append(actual)
        return bool(actual == fresh[0])
    if isinstance(expected, Mapping):
        return (isinstance(actual, Mapping) and set(actual) == set(expected)
                and all(_same(actual[k], expected[k], fresh) for k in expected))
    if isinstance(actual, datetime):
        return actual == datetime.fromisoformat(expected)
    return bool(actual == expected)


def _check_request(sessions: ScriptedSessions, expected: Mapping[str, Any],
                   fresh: list[str]) -> None:
    asked = sessions.requests[-1]
    for field, value in expected.items():
        assert _same(getattr(asked, field), value, fresh), f"{field}: {getattr(asked, field)!r}"


@pytest.mark.parametrize("case", load_cases("require.yaml"))
def test_require_starts_waits_reruns_and_judges_as_digdag_does(tmp_path: Path, case: Any) -> None:
    sessions, fresh = ScriptedSessions(), list[str]()
    state: dict[str, Any] = dict(case.get("state", {}))
    local = case.get("local_config", case["config"])

    def run() -> Any:
        return run_operator(RequireOperator, tmp_path, case["config"], local_config=local,
                            last_state=state)

    with using_session_control(sessions):
        for step in case["steps"]:
            sessions.answer = _answer(step)
            if "config_error" in step:
                with pytest.raises(ConfigError, match=step["config_error"]):
                    run()
                assert sessions.requests == []  # refused before the engine is asked
            elif "error" in step:
                with pytest.raises(TaskFailed, match=step["error"]):
                    run()
            elif "poll" in step:
                with pytest.raises(PollAgain) as poll:
                    run()
                assert poll.value.interval == step["poll"]["interval"]
                assert _same(poll.value.state, step["poll"]["state"], fresh), poll.value.state
                state = poll.value.state
            else:
                assert run().subtask_config is None
            if "request" in step:
                _check_request(sessions, step["request"], fresh)


def test_waiting_backs_off_from_one_second_doubling_to_ten(tmp_path: Path) -> None:
    # Given a required attempt that keeps running
    sessions = ScriptedSessions()
    sessions.answer = AttemptStatus(session_id=1, attempt_id=2, done=False, success=False)
    intervals: list[float] = []
    state: dict[str, Any] = {}
    with using_session_control(sessions):
        for _ in range(7):
            with pytest.raises(PollAgain) as poll:
                run_operator(RequireOperator, tmp_path, {"_command": "other"}, last_state=state)
            intervals.append(poll.value.interval)
            state = poll.value.state
    # Then the polls come 1, 2, 4, 8 seconds apart and then every 10
    assert intervals == [1, 2, 4, 8, 10, 10, 10]


def test_require_without_a_registered_session_control_fails_clearly(tmp_path: Path) -> None:
    previous = set_session_control(None)
    try:
        with pytest.raises(TaskFailed, match="session control"):
            run_operator(RequireOperator, tmp_path, {"_command": "other"})
    finally:
        set_session_control(previous)


def test_a_process_wide_session_control_is_used_when_none_is_scoped(tmp_path: Path) -> None:
    sessions = ScriptedSessions()
    sessions.answer = AttemptStatus(session_id=1, attempt_id=2, done=True, success=True)
    previous = set_session_control(sessions)
    try:
        run_operator(RequireOperator, tmp_path, {"_command": "other"})
    finally:
        set_session_control(previous)
    assert [r.workflow for r in sessions.requests] == ["other"]


def test_require_honours_an_operator_level_retry() -> None:
    assert RequireOperator.type == "require"
    assert RequireOperator.retryable is True
