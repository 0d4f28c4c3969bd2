"""``start`` and ``retry`` against a digpy server: create the attempt with ``PUT
/api/attempts`` and print its ids; the server runs it (``digpy log ID -f -e URL`` follows).

Session times are resolved as the local ``start`` resolves them: ``hourly``/``daily``/
``schedule`` by the server (``truncated_session_time``, Digdag's way, so the workflow's zone
and schedule are the server's), ``now`` and literal times here in the workflow's zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click

from digpy.cli.client import wire
from digpy.cli.client.http import ConflictOnServer, path
from digpy.cli.client.output import emit_detail
from digpy.cli.client.remote import HttpBackend
from digpy.cli.client.views import AttemptView
from digpy.errors import ConfigError, DigpyError

SERVER_MODES = {"hourly": "hour", "daily": "day", "schedule": "schedule"}
KEYWORDS = ("now", *SERVER_MODES)


def start_on_server(backend: HttpBackend, project: str, workflow: str, *, session: str,
                    params: Mapping[str, Any], name: str | None, now: datetime) -> int:
    """``digpy start PROJECT WORKFLOW --session WHEN -e URL``; exit code 0 (or raises)."""
    found = backend.workflow_json(project, workflow)
    when = session_time_on_server(backend, found, session, now)
    body = {"workflowId": found["id"], "sessionTime": when, "retryAttemptName": name,
            "params": dict(params), "resume": None}
    try:
        created = put_attempt(backend, body)
    except ConflictOnServer as exc:
        raise _existing_session(backend, exc, when) from None
    _print_started("Started a session attempt:", created, backend)
    return 0


def put_attempt(backend: HttpBackend, body: Mapping[str, Any]) -> AttemptView:
    """``PUT /api/attempts`` with one idempotency key (``requestId``) for this user action,
    tried twice when the first try got no answer or a server failure (5xx, 429): the
    request may have started the attempt before the answer was lost, and the key makes
    the server return that attempt instead of a 409 or a second one (reliability C6).
    Refusals (4xx: ConfigError) are final."""
    keyed = {**body, "requestId": uuid.uuid4().hex}
    target = path("api", "attempts")
    try:
        return wire.attempt(backend.client.send("PUT", target, keyed).json())
    except ConfigError:
        raise
    except DigpyError:
        pass  # the second try's error, if any, is the one the user sees
    return wire.attempt(backend.client.send("PUT", target, keyed).json())


def session_time_on_server(backend: HttpBackend, workflow: Mapping[str, Any], text: str,
                           now: datetime) -> str:
    """``--session WHEN`` as an ISO 8601 time with the workflow's offset."""
    from digpy.dsl.sessiontime import parse_session_time
    from digpy.dsl.timezones import parse_timezone

    zone = str(workflow.get("timezone") or "UTC")
    word = text.strip()
    if word == "now":
        return now.astimezone(parse_timezone(zone)).isoformat()
    if word in SERVER_MODES:
        target = path("api", "workflows", workflow["id"], "truncated_session_time",
                      session_time=now.isoformat(), mode=SERVER_MODES[word])
        return str(backend.client.get(target)["sessionTime"])
    try:
        return parse_session_time(word, zone).isoformat()
    except ConfigError:
        raise ConfigError(f"--session {text!r} is not a session: use one of "
                          f"{', '.join(KEYWORDS)}, yyyy-MM-dd or 'yyyy-MM-dd HH:mm:ss' (in the "
                          "workflow time zone)") from None


def _existing_session(backend: HttpBackend, exc: ConflictOnServer, when: str) -> ConfigError:
    """Digdag's 409 on ``start``: point at ``retry`` with the existing attempt's id."""
    body = exc.body if isinstance(exc.body, dict) else {}
    if "id" not in body:
        return ConfigError(str(exc))
    existing = wire.attempt(body)
    return ConfigError(
        f"a session for session time {when} already exists (session id {existing.session_id}"
        f", attempt id {existing.id}, {existing.status}); to run it again use `digpy retry "
        f"{existing.id} --all -e {backend.description}` (or --resume / --resume-from +TASK)")


def retry_on_server(backend: HttpBackend, attempt_id: int, *, resume_from: str | None,
                    resume: bool, latest: bool, params: Mapping[str, Any],
                    name: str | None) -> int:
    """``digpy retry ATTEMPT -e URL``: a new attempt of the same session on the server.

    ``--latest-revision`` runs the workflow of that name in the project's newest pushed
    revision; ``--keep-revision`` the definition the old attempt ran."""
    from digpy.engine.params import deep_merge

    old = backend.attempt_json(attempt_id)
    workflow_id = old["workflow"]["id"]
    if latest:
        found = backend.workflow_json(old["project"]["name"], old["workflow"]["name"])
        workflow_id = found["id"]
    body = {"workflowId": workflow_id, "sessionTime": old["sessionTime"],
            "retryAttemptName": name or uuid.uuid4().hex,
            "params": deep_merge(old.get("params") or {}, params),
            "resume": _resume(attempt_id, resume_from, resume)}
    try:
        created = put_attempt(backend, body)
    except ConflictOnServer as exc:
        raise ConfigError(f"cannot retry attempt {attempt_id}: {exc}") from None
    _print_started(f"Retrying attempt {attempt_id}:", created, backend)
    return 0


def _resume(attempt_id: int, resume_from: str | None, resume: bool) -> dict[str, str] | None:
    if resume_from is not None:
        return {"mode": "from", "attemptId": str(attempt_id), "from": resume_from}
    if resume:
        return {"mode": "failed", "attemptId": str(attempt_id)}
    return None


def _print_started(title: str, created: AttemptView, backend: HttpBackend) -> None:
    from digpy.cli.client.listings import attempt_lines
    from digpy.cli.client.report import user_params

    click.echo(title)
    # The built-in last_session_*/next_session_* params would bury the user's own.
    shown = [(key, user_params(created.params) if key == "params" else value)
             for key, value in attempt_lines(created)
             if key not in ("finished at", "duration", "error")]
    emit_detail(created, shown, None)
    where = f"-e {backend.description}"
    click.echo(f"\n* Use `digpy session {created.session_id} {where}` to show the session.")
    click.echo(f"* Use `digpy log {created.id} -f {where}` to follow its task logs.")
