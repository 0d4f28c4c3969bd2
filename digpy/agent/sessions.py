"""``require>`` in local mode: the engine's ``SessionControl`` (digpy.spi.workflows).

Finding or starting another workflow's session goes through the same facade, and a started
attempt joins the running driver, so ``digpy run`` drives both to the end.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import TYPE_CHECKING

from digpy.agent.pool import Driver
from digpy.clock import Clock
from digpy.dsl.model import Workflow
from digpy.engine.attempts import AttemptRequest, start_attempt
from digpy.errors import Conflict, NotFound
from digpy.model.records import Attempt, Task
from digpy.model.states import AttemptStatus as Status
from digpy.spi.workflows import AttemptStatus, SessionRequest
from digpy.store.base import Store

if TYPE_CHECKING:
    from digpy.agent.local import LocalEngine


class LocalSessionControl:
    def __init__(self, engine: LocalEngine, driver: Driver) -> None:
        self.engine = engine
        self.driver = driver

    def find_or_start(self, request: SessionRequest) -> AttemptStatus:
        project_id = self._project_id(request)
        with self.engine.store.read() as tx:
            session = tx.sessions.find_session(project_id, request.workflow, request.session_time)
            attempts = tx.attempts.list_attempts(session.id) if session else []
        name = request.retry_attempt_name
        if name is None and attempts:
            return _status(attempts[-1])
        if name is not None:
            named = [a for a in attempts if a.name == name]
            if named:
                return _status(named[0])
            if attempts and not attempts[-1].done:
                return _status(attempts[-1])
        return self._start(request, name or "")

    def _start(self, request: SessionRequest, name: str) -> AttemptStatus:
        workflow = self.engine.workflow_named(request.workflow)
        try:
            attempt = self.engine.start(
                workflow, session_time=request.session_time, params=request.params, name=name
            )
        except Conflict:  # someone started it meanwhile: answer with theirs
            return self.find_or_start(request)
        self.driver.adopt(attempt.id)
        return _status(attempt, started=True)

    def _project_id(self, request: SessionRequest) -> int:
        registered = self.engine.registered
        if request.project_id is not None and request.project_id != registered.project.id:
            raise NotFound(f"project {request.project_id} does not exist in local mode")
        if request.project_name is not None and request.project_name != registered.project.name:
            raise NotFound(f"project {request.project_name!r} does not exist in local mode")
        return registered.project.id


def _status(attempt: Attempt, *, started: bool = False) -> AttemptStatus:
    return AttemptStatus(
        session_id=attempt.session_id,
        attempt_id=attempt.id,
        done=attempt.done,
        success=attempt.status is Status.SUCCESS,
        started=started,
    )


# -- local-mode session helpers ------------------------------------------------------------


def default_session_time(store: Store, clock: Clock, project_id: int, workflow: Workflow
                         ) -> datetime:
    """``--session last``: the workflow's newest session, else today 00:00 in its zone."""
    with store.read() as tx:
        newest = tx.sessions.list_sessions(project_id, workflow.name, limit=1)
    if newest:
        return newest[0].session_time
    from digpy.dsl.timezones import parse_timezone

    local_now = clock.now().astimezone(parse_timezone(workflow.timezone))
    return datetime.combine(local_now.date(), time(), tzinfo=local_now.tzinfo)


def previous_successes(store: Store, project_id: int, workflow_name: str, when: datetime
                       ) -> list[Task]:
    """The newest success per task name in the session so far (what a re-run replays)."""
    with store.read() as tx:
        session = tx.sessions.find_session(project_id, workflow_name, when)
        if session is None:
            return []
        return tx.tasks.latest_successes(session.id, before_attempt_id=2**62)


def start_named(store: Store, clock: Clock, request: AttemptRequest, name: str | None
                ) -> Attempt:
    """The first attempt of a session is unnamed; later local runs are ``run-N``. The name
    is chosen before the transaction (a failed insert would build the task rows twice)."""
    if name is not None:
        return start_attempt(store, replace(request, name=name), now=clock.now())
    try:
        return start_attempt(store, replace(request, name=_run_name(store, request)),
                             now=clock.now())
    except Conflict:  # another process started an attempt of this session meanwhile
        return start_attempt(store, replace(request, name=_run_name(store, request)),
                             now=clock.now())


def _run_name(store: Store, request: AttemptRequest) -> str:
    with store.read() as tx:
        session = tx.sessions.find_session(
            request.project_id, request.workflow.name, request.session_time
        )
        attempts = tx.attempts.list_attempts(session.id) if session else []
    if all(a.name for a in attempts):
        return ""
    return f"run-{len(attempts) + 1}"
