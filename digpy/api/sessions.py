"""Sessions: list (newest first, paged), get, and a session's attempts."""

from __future__ import annotations

from typing import Any

from digpy.api.request import ApiContext, ApiRequest
from digpy.api.routes import Endpoint
from digpy.api.shapes import Names, attempt_json, session_json


def list_sessions(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    last_id, size = req.page()
    with ctx.store.read() as tx:
        names = Names(tx)
        rows = tx.browse.page_sessions(last_id=last_id, limit=size)
        return {"sessions": [session_json(names, s) for s in rows]}


def get_session(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    with ctx.store.read() as tx:
        return session_json(Names(tx), tx.sessions.get_session(req.path_id()))


def session_attempts(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    last_id, size = req.page()
    with ctx.store.read() as tx:
        session = tx.sessions.get_session(req.path_id())
        rows = tx.browse.page_attempts(session_id=session.id, include_retried=True,
                                       last_id=last_id, limit=size)
        names = Names(tx)
        return {"attempts": [attempt_json(names, a) for a in rows]}


ENDPOINTS = [
    Endpoint(method="GET", path="/api/sessions", handler=list_sessions,
             summary="List sessions, newest first", returns="SessionList",
             query=("last_id", "page_size")),
    Endpoint(method="GET", path="/api/sessions/{id}", handler=get_session,
             summary="Get a session", returns="Session"),
    Endpoint(method="GET", path="/api/sessions/{id}/attempts", handler=session_attempts,
             summary="List a session's attempts, newest first", returns="AttemptList",
             query=("last_id", "page_size")),
]
