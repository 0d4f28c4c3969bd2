"""Running the real daemon as a subprocess (127.0.0.1 only, bounded in time) and creating
attempts for it to adopt."""

from __future__ import annotations

import itertools
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


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, creating its folders (a project file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def start_daemon(data_dir: Path, *args: str, log: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    out = open(log or data_dir / "daemon.log", "ab")  # noqa: SIM115 - owned by the process
    return subprocess.Popen(
        [sys.executable, "-m", "digpy", "server", "--data-dir", str(data_dir), *args],
        stdout=out, stderr=subprocess.STDOUT,
        # A free API port unless a test asks for one: daemons of one test (or of two test
        # runs on one machine) never fight over 65432.
        env={**os.environ, "PYTHONUNBUFFERED": "1", "DIGPY_PORT": "0",
             "DIGPY_LOG_FORMAT": "text", **(env or {})},  # tests read text lines
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


# -- several daemons on PostgreSQL (leases) ---------------------------------------------------

def lease_env(lease: float, heartbeat: float) -> dict[str, str]:
    """Short leases for tests (reliability.md: lease 6 s / heartbeat 2 s, or shorter)."""
    return {"DIGPY_LEASE_SECONDS": str(lease), "DIGPY_HEARTBEAT_SECONDS": str(heartbeat)}


def start_pg_daemon(data_dir: Path, url: str, *args: str, lease: float = 3.0,
                    heartbeat: float = 1.0) -> subprocess.Popen[bytes]:
    return start_daemon(data_dir, "--database", url, "--disable-scheduler", "--disable-api",
                        *args, env=lease_env(lease, heartbeat))


def daemon_id_of(store: SqlStore, pid: int) -> str | None:
    with store.read() as tx:
        return next((d.id for d in tx.leases.list_daemons() if d.pid == pid), None)


def holders(store: SqlStore) -> dict[int, str]:
    """attempt id -> the daemon holding its lease."""
    with store.read() as tx:
        return {lease.attempt_id: lease.daemon_id for lease in tx.leases.list_leases()}


def intervals(path: Path) -> dict[str, list[tuple[int, int]]]:
    """An execution ledger of ``start NAME NS`` / ``end NAME NS`` lines -> each name's runs
    as (start, end) pairs; a run without an end (its process was killed) ends never."""
    runs: dict[str, list[tuple[int, int]]] = {}
    open_runs: dict[str, list[int]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        kind, name, ns = line.split()
        if kind == "start":
            open_runs.setdefault(name, []).append(int(ns))
        else:
            runs.setdefault(name, []).append((open_runs[name].pop(0), int(ns)))
    for name, starts in open_runs.items():
        runs.setdefault(name, []).extend((s, 2**63) for s in starts)
    return runs


def overlapping(runs: list[tuple[int, int]]) -> bool:
    ordered = sorted(runs)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


def create_attempts(url: str, project_dir: Path, workflow: str, count: int) -> list[Attempt]:
    """``count`` attempts of ``workflow``, one per session (session times one hour apart)."""
    from datetime import timedelta

    project = load_project(project_dir)
    now = SystemClock().now()
    with open_store(url) as store:
        pushed = store_revision(store, name=project.name, path=str(project.path),
                                workflows=list(project.workflows.values()), now=now)
        wf = project.workflows[workflow]
        return [start_attempt(store, AttemptRequest(
            project_id=pushed.project.id, workflow=wf, definition=pushed.definitions[workflow],
            revision_name=pushed.revision.name,
            session_time=now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=i),
        ), now=now) for i in range(count)]
