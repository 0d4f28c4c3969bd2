"""require>: make sure another workflow's session has run, starting it if needed.

``require>: other_wf`` looks up the session (this project, ``other_wf``, this task's
``session_time``). No session yet: start it and wait. A running attempt: wait. A finished
attempt: re-run it under ``rerun_on`` (``none``, ``failed`` or ``all``; never one this task
started itself), then succeed when it succeeded, or when ``ignore_failure`` is true, else
fail. Waiting is polling, never sleeping: ``PollAgain`` every 1 s doubling to 10 s, with
what is known kept in the task's state (Digdag ``RequireOperatorFactory``).

The engine is reached through the ``SessionControl`` it registers in
``digpy.spi.workflows``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from digpy.spi import ConfigError, Operator, PollAgain, TaskFailed, TaskResult
from digpy.spi.workflows import (
    AttemptStatus,
    SessionRequest,
    TooManyAttempts,
    bool_option,
    int_option,
    mapping_option,
    session_control,
    str_option,
)

MAX_POLL_SECONDS = 10
ATTEMPT_LIMIT_WAIT_SECONDS = 600  # when the site may start no more attempts right now
RERUN_CHOICES = ("none", "failed", "all")

# State keys, named as Digdag names them.
KICKED = "require_kicked"  # the attempt we wait for was started by this task
RERUN_NAME = "rerun_on_retry_attempt_name"  # the fresh attempt name that forces a re-run
POLLS = "retry"  # how many times we have polled: sets the backoff


@dataclass(frozen=True, slots=True, kw_only=True)
class RequireOptions:
    session: SessionRequest
    ignore_failure: bool
    rerun_on: str


class RequireOperator(Operator):
    type = "require"
    retryable = True  # Digdag's require> is a BaseOperator: operator-level _retry applies

    def run(self) -> TaskResult:
        options = self._options()
        state = dict(self.request.last_state)
        try:
            status = session_control().find_or_start(options.session)
        except LookupError:
            raise TaskFailed(f"Dependent workflow does not exist: {_describe(options.session)}"
                             ) from None
        except TooManyAttempts:
            raise PollAgain(ATTEMPT_LIMIT_WAIT_SECONDS, state) from None
        if status.started:
            raise _poll(state | {KICKED: True} | _target(status))
        return _settle(status, state, options)

    def _options(self) -> RequireOptions:
        config, local = self.request.config, self.request.local_config
        rerun_on = str_option(config, "rerun_on") if "rerun_on" in config else "none"
        if rerun_on not in RERUN_CHOICES:
            raise ConfigError(f"invalid rerun_on option: {rerun_on!r} (use none, failed or all)")
        # retry_attempt_name is read from the task's own keys only, never inherited.
        attempt_name = local.get("retry_attempt_name") or None
        attempt_name = self.request.last_state.get(RERUN_NAME, attempt_name)
        project_id, project_name = self._project(local)
        session = SessionRequest(
            project_id=project_id, project_name=project_name,
            workflow=str_option(config, "_command"), session_time=self._session_time(),
            params=dict(mapping_option(config, "params", required=False)),
            retry_attempt_name=str(attempt_name) if attempt_name is not None else None,
            requested_by_attempt_id=self.request.attempt_id)
        self._refuse_own_session(session)
        return RequireOptions(session=session, rerun_on=rerun_on,
                              ignore_failure=bool_option(config, "ignore_failure", False))

    def _project(self, local: Mapping[str, Any]) -> tuple[int | None, str | None]:
        has_id = local.get("project_id") is not None
        has_name = local.get("project_name") is not None
        if has_id and has_name:
            raise ConfigError("Both project_id and project_name can't be set")
        if has_name:
            return None, str_option(local, "project_name")
        if has_id:
            return int_option(local, "project_id"), None
        return self.request.project_id, None

    def _session_time(self) -> datetime:
        value = self.request.config.get("session_time")
        return self.request.session_time if value is None else parse_instant(value)

    def _refuse_own_session(self, session: SessionRequest) -> None:
        # Waiting for the session this task belongs to would wait forever.
        same_project = (session.project_id == self.request.project_id
                        or session.project_name == self.request.project_name)
        if (same_project and session.workflow == self.request.workflow_name
                and session.session_time == self.request.session_time
                and session.retry_attempt_name is None):
            raise ConfigError(f"require> can't wait for its own session ({session.workflow}"
                              f" at {session.session_time.isoformat()}): it would never finish")


def _settle(status: AttemptStatus, state: dict[str, Any], options: RequireOptions) -> TaskResult:
    """The attempt exists and we did not just start it: wait, re-run, fail or succeed."""
    if not status.done:
        raise _poll(state | _target(status))
    kicked = bool(state.get(KICKED, False))
    rerun = options.rerun_on == "all" or (options.rerun_on == "failed" and not status.success)
    if rerun and not kicked:
        # A fresh attempt name makes the next find_or_start start a new attempt; it is
        # saved before that call, so a crash in between cannot start two.
        raise _poll(state | {RERUN_NAME: str(uuid.uuid4())})
    if not status.success and not options.ignore_failure:
        raise TaskFailed(f"Dependent workflow failed. Session id: {status.session_id},"
                         f" attempt id: {status.attempt_id}")
    return TaskResult.empty()


def _target(status: AttemptStatus) -> dict[str, Any]:
    return {"target_session_id": status.session_id, "target_attempt_id": status.attempt_id}


def _poll(state: dict[str, Any]) -> PollAgain:
    """Come back in 1, 2, 4, 8, 10, 10 ... seconds."""
    polls = int(state.get(POLLS, 0))
    return PollAgain(min(2**polls, MAX_POLL_SECONDS), state | {POLLS: polls + 1})


def _describe(session: SessionRequest) -> str:
    project = (f"project '{session.project_name}'" if session.project_name is not None
               else f"project id {session.project_id}")
    return f"{project}, workflow '{session.workflow}'"


def parse_instant(value: Any) -> datetime:
    """``session_time`` as Digdag reads an Instant: ISO 8601 with an offset (``Z`` or
    ``+09:00``), or epoch seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError("session_time needs a time zone offset")
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise ConfigError(f"session_time must be an ISO 8601 time with an offset, such as"
                      f" 2016-01-30T00:00:00+09:00, not {value!r}")
