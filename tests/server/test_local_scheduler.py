"""``digpy scheduler --project DIR``: Digdag's local scheduler. It serves the REST API like
``digdag scheduler``, re-registers the project when its files change, and keeps the last
good revision when an edit breaks a workflow."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import LiveServer, wait_for

pytestmark = pytest.mark.slow

ADDRESS = re.compile(r"REST API on (http://\S+)")


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "orders.dig").write_text("schedule:\n  daily>: 07:00:00\n+count:\n  echo>: hi\n")
    log = tmp_path / "scheduler.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "digpy", "scheduler", "--project", str(project),
             "--port", "0"], stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "DIGPY_LOG_FORMAT": "text"})
    wait_for(lambda: ADDRESS.search(log.read_text()) is not None or proc.poll() is not None,
             60, "the scheduler's API")
    found = ADDRESS.search(log.read_text())
    assert found, log.read_text()[-2000:]
    live = LiveServer(url=found.group(1), data_dir=project / ".digpy", proc=proc)
    yield live, project
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def workflow_names(server: LiveServer) -> list[str]:
    return sorted(w["name"] for w in server.get("/api/workflows")["workflows"])


def test_the_local_scheduler_serves_the_api_with_the_projects_schedules(
        scheduler: tuple[LiveServer, Path]) -> None:
    server, _ = scheduler

    schedules = server.get("/api/schedules")["schedules"]

    assert [s["workflow"]["name"] for s in schedules] == ["orders"]
    assert schedules[0]["nextRunTime"].endswith("T07:00:00Z")  # daily>: 07:00:00 in UTC
    assert workflow_names(server) == ["orders"]


def test_an_added_workflow_file_is_picked_up_without_a_restart(
        scheduler: tuple[LiveServer, Path]) -> None:
    server, project = scheduler

    (project / "refunds.dig").write_text("schedule:\n  hourly>: 05:00\n+sum:\n  echo>: x\n")

    wait_for(lambda: workflow_names(server) == ["orders", "refunds"], 30,
             "the new workflow to be registered")
    assert sorted(s["workflow"]["name"] for s in server.get("/api/schedules")["schedules"]) == [
        "orders", "refunds"]


def test_a_broken_edit_keeps_the_last_good_revision_running(
        scheduler: tuple[LiveServer, Path], tmp_path: Path) -> None:
    server, project = scheduler

    (project / "orders.dig").write_text("+count:\n  echo>: hi\n+count:\n  echo>: again\n")
    time.sleep(3)  # several reload polls

    assert workflow_names(server) == ["orders"]
    assert [s["workflow"]["name"] for s in server.get("/api/schedules")["schedules"]] == [
        "orders"]
    assert "not reloading" in (tmp_path / "scheduler.log").read_text()
