"""The ASGI app: the route table wrapped in auth, draining and JSON errors.

Handlers are synchronous (the store is blocking); each runs on Starlette's thread pool with
a fully read, size-capped body. Every failure becomes ``{"message", "status"}``: user
mistakes are 4xx with a one-line message, bugs a 500 whose body says nothing about the
server (the traceback goes to the daemon's log only).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from digpy.api.errors import ApiError
from digpy.api.request import ApiContext, ApiRequest
from digpy.api.routes import Endpoint, Reply
from digpy.errors import ConfigError, ConfigErrors, Conflict, DigpyError, NotFound
from digpy.store.base import StoreLocked

log = logging.getLogger("digpy.api")

MAX_BODY_BYTES = 4 * 1024 * 1024  # archives are capped at 2 MB; JSON bodies are small


@dataclass(frozen=True, slots=True, kw_only=True)
class Access:
    """Who may call: ``token`` (None: nobody needs one, loopback only) and whether
    ``/metrics`` is open (on a loopback bind)."""

    token: str | None
    public_metrics: bool


def all_endpoints(metrics: Any) -> list[Endpoint]:
    from digpy import __version__
    from digpy.api import attempts, logs, projects, schedules, secrets, sessions, workflows
    from digpy.api.meta import meta_endpoints
    from digpy.api.metrics import metrics_endpoint

    endpoints = [*projects.ENDPOINTS, *workflows.ENDPOINTS, *schedules.ENDPOINTS,
                 *sessions.ENDPOINTS, *attempts.ENDPOINTS, *logs.ENDPOINTS,
                 *secrets.ENDPOINTS, metrics_endpoint(metrics)]
    return [*endpoints, *meta_endpoints(endpoints, __version__)]


def create_app(ctx: ApiContext, access: Access, metrics: Any) -> ASGIApp:
    routes = [_route(ctx, e) for e in all_endpoints(metrics)]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    return Guard(app, ctx, access)


def error_json(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"message": message, "status": status}, status_code=status,
                        headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"no such endpoint: {request.method} {request.url.path}",
               405: f"{request.method} is not allowed on {request.url.path}"}
    return error_json(exc.status_code, message.get(exc.status_code, str(exc.detail)))


def _route(ctx: ApiContext, endpoint: Endpoint) -> Route:
    async def serve(request: Request) -> Response:
        try:
            body = await _read_body(request) if endpoint.body else b""
            api_request = ApiRequest(method=request.method, path=dict(request.path_params),
                                     query=dict(request.query_params), body=body,
                                     headers=dict(request.headers))
            result = await run_in_threadpool(endpoint.handler, ctx, api_request)
        except Exception as exc:  # every failure becomes a JSON error
            return _failure(exc)
        return _response(result)

    return Route(endpoint.path, serve, methods=[endpoint.method], name=None)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is over {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"the body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _response(result: dict[str, Any] | Reply) -> Response:
    if not isinstance(result, Reply):
        return JSONResponse(result)
    if result.status == 204:
        return Response(status_code=204, headers=dict(result.headers))
    if result.content is not None:
        return Response(result.content, status_code=result.status,
                        media_type=result.media_type, headers=dict(result.headers))
    return JSONResponse(result.json, status_code=result.status, headers=dict(result.headers))


def _failure(exc: Exception) -> Response:
    status = _status_of(exc)
    if isinstance(exc, ApiError):
        return JSONResponse(exc.payload(), status_code=exc.status)
    if status == 500:
        log.error("API request failed", exc_info=exc)
        return error_json(500, "internal error; the server log has the details")
    return error_json(status, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _status_of(exc: Exception) -> int:
    pairs: Sequence[tuple[type[Exception], int]] = (
        (ApiError, 0), (NotFound, 404), (Conflict, 409), (StoreLocked, 503),
        (ConfigError, 400), (ConfigErrors, 400), (DigpyError, 400))
    for kind, status in pairs:
        if isinstance(exc, kind):
            return status or getattr(exc, "status", 500)
    return 500


class Guard:
    """Pure ASGI middleware: the bearer token, then 503 while the daemon drains."""

    def __init__(self, app: ASGIApp, ctx: ApiContext, access: Access) -> None:
        self.app = app
        self.ctx = ctx
        self.access = access
        self._expected = f"Bearer {access.token}".encode() if access.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        if not self._allowed(scope):
            return error_json(401, "token missing or wrong: send Authorization: Bearer <token>",
                              {"WWW-Authenticate": "Bearer"})
        if self.ctx.stopping():
            return error_json(503, "digpy server is stopping", {"Retry-After": "5"})
        return None

    def _allowed(self, scope: Scope) -> bool:
        if self._expected is None:
            return True
        if scope["path"] == "/metrics" and self.access.public_metrics:
            return True
        given = dict(scope["headers"]).get(b"authorization", b"")
        return hmac.compare_digest(given, self._expected)
