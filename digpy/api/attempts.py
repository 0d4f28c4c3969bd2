"""Attempts: list (filters, paging), get, tasks, retries, start or retry
(``PUT /api/attempts``) and kill. Starting goes through ``engine.attempts.start_attempt``;
a retry's reuse of earlier results through ``engine.resume.plan_resume``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digpy.api.errors import ApiError, bad_request
from digpy.api.projects import live_project
from digpy.api.request import ApiContext, ApiRequest, parse_id, parse_time
from digpy.api.routes import Endpoint
from digpy.api.shapes import Names, attempt_json, task_json
from digpy.engine.resume import ResumePlan
from digpy.errors import Conflict
from digpy.model.records import Attempt, WorkflowDefinition
from digpy.model.states import Trigger
from digpy.store.base import Tx


def conflict(ctx: ApiContext, attempt_id: int, message: str) -> ApiError:
    """409 whose body is the conflicting attempt (as Digdag answers)."""
    with ctx.store.read() as tx:
        body = attempt_json(Names(tx), tx.attempts.get_attempt(attempt_id))
    return ApiError(409, message, body)


def list_attempts(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    last_id, size = req.page()
    project_name, workflow = req.text("project"), req.text("workflow")
    with ctx.store.read() as tx:
        project_id = None
        if project_name is not None:
            project = tx.projects.find_project(project_name)
            if project is None:
                return {"attempts": []}
            project_id = project.id
        rows = tx.browse.page_attempts(
            project_id=project_id, workflow=workflow, last_id=last_id, limit=size,
            include_retried=req.flag("include_retried"))
        names = Names(tx)
        return {"attempts": [attempt_json(names, a) for a in rows]}


def get_attempt(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    with ctx.store.read() as tx:
        return attempt_json(Names(tx), tx.attempts.get_attempt(req.path_id()))


def attempt_tasks(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    with ctx.store.read() as tx:
        attempt = tx.attempts.get_attempt(req.path_id())
        return {"tasks": [task_json(t) for t in tx.tasks.list_tasks(attempt.id)]}


def attempt_retries(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    with ctx.store.read() as tx:
        attempt = tx.attempts.get_attempt(req.path_id())
        names = Names(tx)
        rows = reversed(tx.attempts.list_attempts(attempt.session_id))
        return {"attempts": [attempt_json(names, a) for a in rows]}


def kill_attempt(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    attempt_id = req.path_id()
    with ctx.store.write() as tx:
        tx.attempts.get_attempt(attempt_id)
        killed = tx.attempts.request_cancel(attempt_id)
    if not killed:
        raise conflict(ctx, attempt_id, f"attempt {attempt_id} is already done or being killed")
    return {}


def start_attempt(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    """``PUT /api/attempts``: a session's first attempt, or a retry (a new name, maybe
    resuming an earlier attempt). 409 with the conflicting attempt; 429 while
    ``attempt_max_run`` attempts are running (scheduler.limits).

    With an idempotency key (``Idempotency-Key`` header or ``requestId`` field; Digdag has
    none) a repeated request answers 200 with the attempt the first one started, however
    many race (reliability C6): the key is stored, unique, with the attempt."""
    body = req.json()
    key = _idempotency_key(req, body)
    if key is None:
        return _start(ctx, body, None)
    try:
        return _started_with(ctx, key, body) or _start(ctx, body, key)
    except (ApiError, Conflict) as exc:
        if isinstance(exc, ApiError) and exc.status != 409:
            raise
        # Lost the race to a request with the same key (its session or key insert won):
        # answer with its attempt; a 409 for any other reason stands.
        found = _started_with(ctx, key, body)
        if found is None:
            raise
        return found


def _start(ctx: ApiContext, body: Mapping[str, Any], key: str | None) -> dict[str, Any]:
    from digpy.engine import attempts as engine

    definition_id = parse_id(body.get("workflowId"), "workflowId")
    session_time = parse_time(body.get("sessionTime"), "sessionTime")
    name, params = _name(body), _params(body)
    with ctx.store.read() as tx:
        definition = tx.projects.get_definition(definition_id)
        live_project(tx, definition.project_id)
        revision_name = tx.projects.get_revision(definition.revision_id).name
        _check_session(ctx, tx, definition, session_time, name)
        plan = _resume_plan(ctx, tx, definition, body.get("resume"))
    workflow = ctx.workflow(definition)
    request = engine.AttemptRequest(
        project_id=definition.project_id, workflow=workflow, definition=definition,
        revision_name=revision_name, session_time=session_time, name=name,
        params=_with_session_variables(workflow, session_time, params),
        trigger=Trigger.RETRY if name else Trigger.API, who="api", resume=plan)
    try:
        attempt = _start_within_limit(ctx, request, key)
    except Conflict:  # started by someone else between the check and the insert
        with ctx.store.read() as tx:
            _check_session(ctx, tx, definition, session_time, name)
        raise
    with ctx.store.read() as tx:
        return attempt_json(Names(tx), tx.attempts.get_attempt(attempt.id))


def _idempotency_key(req: ApiRequest, body: Mapping[str, Any]) -> str | None:
    header = req.headers.get("idempotency-key")
    field = body.get("requestId")
    if header is not None and field is not None and header != field:
        raise bad_request("the Idempotency-Key header and requestId differ; send one")
    key = header if header is not None else field
    if key is None:
        return None
    if not isinstance(key, str) or not 0 < len(key) <= 255:
        raise bad_request("an idempotency key (Idempotency-Key or requestId) must be a "
                          "string of 1 to 255 characters")
    return key


def _started_with(ctx: ApiContext, key: str, body: Mapping[str, Any]
                  ) -> dict[str, Any] | None:
    """The attempt a request with ``key`` started, as JSON; 409 when that request was for
    another workflow or session (a key is one user action, never reused)."""
    with ctx.store.read() as tx:
        attempt = tx.attempts.find_by_idempotency_key(key)
        if attempt is None:
            return None
        found = attempt_json(Names(tx), attempt)
    same = (str(attempt.workflow_definition_id) == str(body.get("workflowId"))
            and attempt.session_time == parse_time(body.get("sessionTime"), "sessionTime"))
    if not same:
        raise ApiError(409, f"idempotency key {key!r} already started attempt {attempt.id} "
                       "of another workflow or session", found)
    return found


def _start_within_limit(ctx: ApiContext, request: Any, key: str | None) -> Attempt:
    """Count the running attempts in the transaction that inserts the new one."""
    from digpy.engine.attempts import start_attempt_in
    from digpy.scheduler.limits import TooManyAttempts, check_capacity

    try:
        with ctx.store.write() as tx:
            check_capacity(tx, ctx.attempt_max_run)
            attempt = start_attempt_in(tx, request, now=ctx.clock.now())
            if key is not None:
                tx.attempts.set_idempotency_key(attempt.id, key)
            return attempt
    except TooManyAttempts as exc:
        raise ApiError(429, str(exc)) from None


def _name(body: Mapping[str, Any]) -> str:
    name = body.get("retryAttemptName") or ""
    if not isinstance(name, str) or len(name) > 255:
        raise bad_request("retryAttemptName must be a string of at most 255 characters")
    return name


def _params(body: Mapping[str, Any]) -> dict[str, Any]:
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise bad_request("params must be a JSON object")
    return params


def _with_session_variables(workflow: Any, session_time: datetime, params: dict[str, Any]
                            ) -> dict[str, Any]:
    from digpy.engine.attempts import attempt_params
    from digpy.scheduler.triggers import ScheduleTimes

    return attempt_params(workflow, session_time, params, schedule_times=ScheduleTimes)


def _check_session(ctx: ApiContext, tx: Tx, definition: WorkflowDefinition,
                   session_time: datetime, name: str) -> None:
    """409 when the name is taken in the session or its last attempt still runs."""
    session = tx.sessions.find_session(definition.project_id, definition.name, session_time)
    if session is None:
        return
    taken = tx.attempts.find_attempt(session.id, name)
    if taken is not None:
        what = f"an attempt named {name!r}" if name else "an attempt"
        raise conflict(ctx, taken.id, f"session {session.id} already has {what}: use "
                       "retryAttemptName (digpy retry) to run it again")
    attempts = tx.attempts.list_attempts(session.id)
    if attempts and not attempts[-1].done:
        raise conflict(ctx, attempts[-1].id, f"attempt {attempts[-1].id} of session "
                       f"{session.id} is still running; kill it or wait")


def _resume_plan(ctx: ApiContext, tx: Tx, definition: WorkflowDefinition, resume: Any
                 ) -> ResumePlan:
    from digpy.engine.resume import plan_resume

    if resume is None:
        return ResumePlan()
    if not isinstance(resume, dict) or resume.get("mode") not in ("failed", "from"):
        raise bad_request('resume must be {"mode": "failed"|"from", "attemptId": ...}')
    old: Attempt = tx.attempts.get_attempt(parse_id(resume.get("attemptId"), "attemptId"))
    if old.project_id != definition.project_id or old.workflow_name != definition.name:
        raise bad_request(f"attempt {old.id} is not an attempt of workflow {definition.name}")
    if not old.done:
        raise conflict(ctx, old.id, f"attempt {old.id} is still running; kill it or wait")
    tasks = tx.tasks.list_tasks(old.id)
    if resume["mode"] == "failed":
        try:
            return plan_resume(tasks, resume="failed")
        except Conflict as exc:
            raise conflict(ctx, old.id, str(exc)) from None
    target = resume.get("from")
    if not isinstance(target, str) or not target:
        raise bad_request('resume mode "from" needs "from": "+task"')
    return plan_resume(tasks, resume_from=target)


ENDPOINTS = [
    Endpoint(method="GET", path="/api/attempts", handler=list_attempts,
             summary="List attempts, newest first", returns="AttemptList",
             query=("project", "workflow", "include_retried", "last_id", "page_size")),
    Endpoint(method="PUT", path="/api/attempts", handler=start_attempt, body="json",
             summary="Start a session's attempt or a retry", returns="Attempt"),
    Endpoint(method="GET", path="/api/attempts/{id}", handler=get_attempt,
             summary="Get an attempt", returns="Attempt"),
    Endpoint(method="GET", path="/api/attempts/{id}/tasks", handler=attempt_tasks,
             summary="List an attempt's tasks in creation order", returns="TaskList"),
    Endpoint(method="GET", path="/api/attempts/{id}/retries", handler=attempt_retries,
             summary="List every attempt of the attempt's session", returns="AttemptList"),
    Endpoint(method="POST", path="/api/attempts/{id}/kill", handler=kill_attempt,
             summary="Kill a running attempt", returns="object"),
]
