"""A real ``digpy server`` subprocess on 127.0.0.1 for the client tests, and the few HTTP
calls a test makes itself (pushing a project, waiting for an attempt to finish)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

STARTUP_SECONDS = 60.0
FINISH_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until ``condition`` holds; a bound on waiting, never an assertion on time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    token: str | None = None

    def request(self, method: str, target: str, data: bytes | None = None,
                content_type: str = "application/json") -> Any:
        headers = {"Content-Type": content_type}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + target, data=data, method=method,
                                         headers=headers)
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def push(self, project_dir: Path, name: str, revision: str) -> Any:
        """Upload the folder as a new revision (``PUT /api/projects``)."""
        from digpy.scheduler.archive import make_archive

        query = urlencode({"project": name, "revision": revision})
        return self.request("PUT", f"/api/projects?{query}", make_archive(project_dir).data,
                            "application/gzip")

    def attempt(self, attempt_id: int) -> Any:
        return self.request("GET", f"/api/attempts/{attempt_id}")

    def wait_done(self, attempt_id: int) -> Any:
        wait_for(lambda: self.attempt(attempt_id)["done"], FINISH_SECONDS,
                 f"attempt {attempt_id} to finish")
        return self.attempt(attempt_id)

    def answers(self) -> bool:
        try:
            self.request("GET", "/api/version")
        except urllib.error.HTTPError:
            return True  # it answers, if only to refuse
        except (urllib.error.URLError, OSError):
            return False
        return True

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self) -> str:
        path = self.data_dir / "daemon.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_server(data_dir: Path, *args: str, token: str | None = None) -> LiveServer:
    """``digpy server`` on a free 127.0.0.1 port, once it answers ``/api/version``."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("digpy.api.app") is None:
        pytest.skip("this digpy server serves no REST API yet (digpy/api/app.py)")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DIGPY_API_TOKEN", None)
    if token:
        env["DIGPY_API_TOKEN"] = token
    log = open(data_dir / "daemon.log", "ab")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "digpy", "server", "--data-dir", str(data_dir),
         "--bind", "127.0.0.1", "--port", str(port), *args],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    server = LiveServer(f"http://127.0.0.1:{port}", data_dir, proc, token)
    try:
        wait_for(lambda: server.answers() or proc.poll() is not None, STARTUP_SECONDS,
                 "digpy server to answer")
    except AssertionError:
        server.stop(signal.SIGKILL)
        raise
    if proc.poll() is not None:
        raise AssertionError(f"digpy server exited {proc.returncode}:\n{server.log()}")
    return server
