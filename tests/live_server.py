"""A real ``digpy server`` process on 127.0.0.1 (SQLite in a temporary folder, a free port)
and a small HTTP client for tests: ``with live_server(tmp_path) as server: server.get(...)``.

Importable from any test (``from tests.live_server import live_server``); the daemon's log
is ``<data_dir>/daemon.log``, printed when the server fails to start.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

START_TIMEOUT = 60.0
_ADDRESS = re.compile(r"REST API on (http://\S+)")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    token: str | None = None

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'digpy.db'}"

    @property
    def log(self) -> str:
        return (self.data_dir / "daemon.log").read_text(errors="replace")

    def request(self, method: str, path: str, body: Any = None, *, query: Mapping[str, Any]
                | None = None, token: str | None = "default", content_type: str | None = None,
                timeout: float = 30.0) -> Answer:
        """One HTTP request; any status comes back as an ``Answer`` (never raises on 4xx)."""
        url = self.url + path + (("?" + urlencode(query)) if query else "")
        data, kind = _encode(body, content_type)
        request = urllib.request.Request(url, data=data, method=method)
        if kind:
            request.add_header("Content-Type", kind)
        bearer = self.token if token == "default" else token
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, _lower(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _lower(error.headers), error.read())

    def get(self, path: str, **query: Any) -> Any:
        """GET that must answer 200; its JSON."""
        answer = self.request("GET", path, query=query or None)
        assert answer.status == 200, (path, answer.status, answer.body[:500])
        return answer.json()

    def push(self, project: str, directory: Path, **query: Any) -> Any:
        """Upload ``directory`` as a tar.gz revision of ``project``; the project JSON."""
        answer = self.request("PUT", "/api/projects", tar_gz(directory),
                              query={"project": project, **query},
                              content_type="application/gzip")
        assert answer.status == 200, answer.body[:500]
        return answer.json()

    def start(self, project_id: str, workflow: str, session_time: str, **body: Any) -> Answer:
        wf = self.get(f"/api/projects/{project_id}/workflows/{workflow}")
        return self.request("PUT", "/api/attempts",
                            {"workflowId": wf["id"], "sessionTime": session_time, **body})

    def wait_done(self, attempt_id: str, timeout: float = 60.0) -> Any:
        """Poll until the attempt is done; its JSON (a bound on waiting, not a timing test)."""
        found: list[Any] = []

        def done() -> bool:
            found[:] = [self.get(f"/api/attempts/{attempt_id}")]
            return bool(found[0]["done"])

        wait_for(done, timeout, f"attempt {attempt_id} to finish")
        return found[0]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise


def start_live_server(data_dir: Path, *args: str, token: str | None = None,
                      env: Mapping[str, str] | None = None) -> LiveServer:
    """Start ``digpy server --port 0`` and wait until its API answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", "DIGPY_LOG_FORMAT": "text", **(env or {})}
    environ.pop("DIGPY_API_TOKEN", None)
    if token:
        environ["DIGPY_API_TOKEN"] = token
    log_path = data_dir / "daemon.log"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "digpy", "server", "--data-dir", str(data_dir),
             "--port", "0", *args], stdout=out, stderr=subprocess.STDOUT, env=environ)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = _ADDRESS.search(log_path.read_text(errors="replace"))
        if found:
            return LiveServer(url=found.group(1), data_dir=data_dir, proc=proc, token=token)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(5)
    raise AssertionError(f"digpy server did not start:\n{log_path.read_text()[-3000:]}")


@contextmanager
def live_server(data_dir: Path, *args: str, token: str | None = None,
                env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    server = start_live_server(data_dir, *args, token=token, env=env)
    try:
        yield server
    finally:
        server.stop()


def tar_gz(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(directory)))
    return buffer.getvalue()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _encode(body: Any, content_type: str | None) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, content_type
    if isinstance(body, bytes):
        return body, content_type or "application/octet-stream"
    return json.dumps(body).encode(), content_type or "application/json"


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
