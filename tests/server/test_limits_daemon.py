"""Executor limits in a real ``digpy server`` process (spec §3.11): a start over
``attempt_max_run`` is refused with 429; a task over ``task_ttl`` and an attempt over
``attempt_ttl`` kill the whole attempt (its running ``sh>`` is stopped) and the log says why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from live_server import LiveServer, live_server, wait_for

SESSION = "2024-05-01T00:00:00+00:00"


def sleepy(server: LiveServer, tmp_path: Path, name: str) -> tuple[dict, Path]:
    """Push a project whose first task sleeps a minute; its id and the task's start marker."""
    started = tmp_path / f"{name}.started"
    root = tmp_path / name
    root.mkdir()
    (root / f"{name}.dig").write_text(
        f"+nap:\n  sh>: touch {started}; sleep 60\n+after:\n  echo>: never\n")
    return server.push(name, root), started


def states(server: LiveServer, attempt_id: str) -> dict[str, str]:
    tasks = server.get(f"/api/attempts/{attempt_id}/tasks")["tasks"]
    return {t["fullName"]: t["state"] for t in tasks}


def test_a_start_over_attempt_max_run_is_refused_with_429(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", env={"DIGPY_ATTEMPT_MAX_RUN": "1"}) as server:
        project, started = sleepy(server, tmp_path, "busy")
        first = server.start(project["id"], "busy", SESSION).json()
        wait_for(started.exists, 60, "the first attempt to run")

        refused = server.start(project["id"], "busy", "2024-05-02T00:00:00+00:00")

        assert refused.status == 429
        assert refused.json()["message"].startswith("too many running attempts (1): 1 are")
        client = subprocess.run(
            [sys.executable, "-m", "digpy", "start", "busy", "busy", "--session", "2024-05-03",
             "-e", server.url], capture_output=True, text=True, timeout=60)
        assert client.returncode == 1  # busy, not the user's mistake: try again later
        assert client.stderr.strip().splitlines() == [
            f"error: the server at {server.url} is busy: too many running attempts (1): 1 are "
            "running; wait for some to finish, kill some, or raise attempt_max_run"]
        assert server.request("POST", f"/api/attempts/{first['id']}/kill").status == 200
        server.wait_done(first["id"])
        again = server.start(project["id"], "busy", "2024-05-02T00:00:00+00:00")
        assert again.status == 200
        server.request("POST", f"/api/attempts/{again.json()['id']}/kill")
        server.wait_done(again.json()["id"])


def test_a_task_running_longer_than_task_ttl_kills_its_attempt_and_says_why(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path / "data", "--lease-seconds", "9", "--heartbeat-seconds", "3",
                     env={"DIGPY_TASK_TTL": "2s"}) as server:
        project, _ = sleepy(server, tmp_path, "slow")
        attempt = server.start(project["id"], "slow", SESSION).json()

        done = server.wait_done(attempt["id"], timeout=45)  # sleep 60 was stopped

        assert (done["status"], done["cancelRequested"]) == ("killed", True)
        tasks = states(server, attempt["id"])
        assert (tasks["+slow+nap"], tasks["+slow+after"]) == ("canceled", "blocked")
        assert f"attempt {attempt['id']} (project slow, workflow slow, session " in server.log
        assert "task +slow+nap exceeded task_ttl 2s; killing the attempt" in server.log
        assert "lease 9s, heartbeat 3s" in server.log  # the lease flags reached the daemon


def test_an_attempt_older_than_attempt_ttl_is_killed_with_a_timeout_warning(
    tmp_path: Path,
) -> None:
    with live_server(tmp_path / "data", env={"DIGPY_ATTEMPT_TTL": "3s"}) as server:
        project, _ = sleepy(server, tmp_path, "long")
        attempt = server.start(project["id"], "long", SESSION).json()

        done = server.wait_done(attempt["id"], timeout=45)

        assert (done["status"], done["cancelRequested"]) == ("killed", True)
        tasks = states(server, attempt["id"])
        assert (tasks["+long+nap"], tasks["+long+after"]) == ("canceled", "blocked")
        assert (f"WARNING digpy.scheduler.limits: Workflow execution timeout: attempt "
                f"{attempt['id']} (project long, workflow long, session 2024-05-01T00:00:00"
                in server.log)
        assert f"attempt {attempt['id']} exceeded attempt_ttl 3s; killing it" in server.log
