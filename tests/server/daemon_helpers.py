"""Running the real daemon as a subprocess (127.0.0.1 only, bounded in time) and creating
attempts for it to adopt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from digpy.clock import SystemClock
from digpy.dsl.project import load_project
from digpy.engine.attempts import AttemptRequest, start_attempt
from digpy.model.records import Attempt
from digpy.scheduler.sync import store_revision
from digpy.store.sql.engine import SqlStore, open_store


def start_daemon(data_dir: Path, *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    out = open(log or data_dir / "daemon.log", "ab")  # noqa: SIM115 - owned by the process
    return subprocess.Popen(
        [sys.executable, "-m", "digpy", "server", "--data-dir", str(data_dir), *args],
        stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def create_attempt(url: str, project_dir: Path, workflow: str) -> Attempt:
    """Register the directory and start one attempt of ``workflow`` for a daemon to run."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    project = load_project(project_dir)
    now = SystemClock().now()
    with open_store(url) as store:
        pushed = store_revision(store, name=project.name, path=str(project.path),
                                workflows=list(project.workflows.values()), now=now)
        wf = project.workflows[workflow]
        return start_attempt(store, AttemptRequest(
            project_id=pushed.project.id, workflow=wf, definition=pushed.definitions[workflow],
            revision_name=pushed.revision.name, session_time=now.replace(microsecond=0),
        ), now=now)


def attempt_status(store: SqlStore, attempt_id: int) -> str:
    with store.read() as tx:
        return str(tx.attempts.get_attempt(attempt_id).status.value)


def ledger(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []
