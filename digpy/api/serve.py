"""Serving the API: uvicorn on a background thread of the daemon, on a socket bound up
front (so a taken port or a bad address is a clear error before the daemon starts, and
port 0 tells us the port it picked).

Bind rule (reliability A1): an address other than loopback needs an API token; without one
the daemon refuses to start.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from digpy.errors import ConfigError

log = logging.getLogger("digpy.api")

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """:raises ConfigError: a non-loopback address without a token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to serve the API on {host} without a token: set api_token (or "
            "DIGPY_API_TOKEN), or bind 127.0.0.1")


def bind_socket(host: str, port: int) -> socket.socket:
    """:raises OSError: the address is taken or not ours."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


@dataclass(slots=True)
class ApiServer:
    """uvicorn running ``app`` on ``sock`` in a daemon thread."""

    app: Any
    sock: socket.socket
    _server: Any = None
    _thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="digpy-api",
                                        daemon=True)
        self._thread.start()
        ready.wait(START_TIMEOUT_SECONDS)
        log.info("REST API on %s", self.address)

    def _run(self, ready: threading.Event) -> None:
        import asyncio

        async def serve() -> None:
            task = asyncio.create_task(self._server.serve(sockets=[self.sock]))
            while not self._server.started and not task.done():
                await asyncio.sleep(0.01)
            ready.set()
            await task

        try:
            asyncio.run(serve())
        finally:
            ready.set()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
        self.sock.close()
