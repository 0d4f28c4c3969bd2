"""The guard in front of every route, called as ASGI in-process: off loopback ``/metrics``
needs the token like the rest (a server bound elsewhere is not started by tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from digpy.api.app import Access, Guard
from digpy.api.request import ApiContext
from digpy.api.serve import check_bind, is_loopback
from digpy.clock import SystemClock
from digpy.errors import ConfigError
from digpy.secrets.crypto import SecretCipher


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def status_of(guard: Guard, path: str, authorization: bytes | None) -> int:
    headers = [(b"authorization", authorization)] if authorization else []
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers,
             "query_string": b""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    return int(sent[0]["status"])


def guard(tmp_path: Path, *, public_metrics: bool, stopping: bool = False) -> Guard:
    ctx = ApiContext(store=None, clock=SystemClock(), data_dir=tmp_path,  # type: ignore[arg-type]
                     cipher=SecretCipher(b"k" * 32), version="test",
                     stopping=lambda: stopping)
    return Guard(_app, ctx, Access(token="tok", public_metrics=public_metrics))


def test_off_loopback_metrics_need_the_token_too(tmp_path: Path) -> None:
    closed = guard(tmp_path, public_metrics=False)
    assert status_of(closed, "/metrics", None) == 401
    assert status_of(closed, "/metrics", b"Bearer tok") == 200
    opened = guard(tmp_path, public_metrics=True)
    assert status_of(opened, "/metrics", None) == 200
    assert status_of(opened, "/api/projects", None) == 401


def test_a_stopping_daemon_answers_503_to_authorised_requests(tmp_path: Path) -> None:
    draining = guard(tmp_path, public_metrics=True, stopping=True)
    assert status_of(draining, "/api/projects", b"Bearer tok") == 503
    assert status_of(draining, "/api/projects", b"Bearer nope") == 401


def test_which_addresses_count_as_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.0.0.2", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "example.com"]))
    check_bind("0.0.0.0", "token")  # allowed with a token
    with pytest.raises(ConfigError, match="without a token"):
        check_bind("0.0.0.0", "")
