"""A server's JSON (the shapes docs/api.md documents) reads into the same views the local
state gives: ids as numbers, times in the workflow's zone, errors as one message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from digpy.cli.client import wire

SHAPES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "api_shapes.json").read_text(encoding="utf-8"))


def test_an_attempt_reads_with_its_times_in_the_workflow_zone() -> None:
    view = wire.attempt(SHAPES["attempt"])

    data = view.to_json()
    assert (data["id"], data["session_id"], data["project"], data["workflow"]) == (
        12, 7, "etl", "daily")
    assert data["session_time"] == "2024-05-01T00:00:00+09:00"
    assert data["created_at"] == "2024-05-02T07:00:01+09:00"
    assert data["finished_at"] == "2024-05-02T07:03:10+09:00"
    assert data["duration"] == 189.0
    assert (data["status"], data["trigger"], data["who"], data["name"]) == (
        "error", "schedule", "scheduler", "")
    assert data["error"] == "+daily+load failed: exit 1"
    assert data["params"] == {"target": "prod"}


@pytest.mark.parametrize(("flags", "status"), [
    ({"done": False, "success": False, "cancelRequested": False}, "running"),
    ({"done": False, "success": False, "cancelRequested": True}, "running"),
    ({"done": True, "success": True, "cancelRequested": False}, "success"),
    ({"done": True, "success": False, "cancelRequested": False}, "error"),
    ({"done": True, "success": False, "cancelRequested": True}, "killed"),
])
def test_a_digdag_attempt_without_status_gets_it_from_its_flags(
        flags: dict[str, bool], status: str) -> None:
    digdag = {k: v for k, v in SHAPES["attempt"].items()
              if k not in ("status", "timezone", "trigger", "who", "error")}

    assert wire.attempt({**digdag, **flags}).status == status


def test_a_session_without_attempt_is_pending_and_with_one_carries_it() -> None:
    pending = wire.session(SHAPES["session"])
    assert (pending.id, pending.status, pending.last_attempt) == (7, "pending", None)

    last = {k: v for k, v in SHAPES["attempt"].items()
            if k not in ("sessionId", "sessionUuid", "project", "workflow", "sessionTime")}
    done = wire.session({**SHAPES["session"], "lastAttempt": last})

    assert done.status == "error"
    assert done.last_attempt is not None and done.last_attempt.session_id == 7
    assert done.to_json()["session_time"] == "2024-05-01T00:00:00+09:00"


def test_a_task_reads_its_error_message_log_file_and_times() -> None:
    from zoneinfo import ZoneInfo

    view = wire.task(SHAPES["task"], 12, ZoneInfo("Asia/Tokyo"))

    data = view.to_json()
    assert (data["id"], data["parent_id"], data["upstream_ids"]) == (40, 39, [38])
    assert data["error"] == "command failed with exit code 1"
    assert data["started_at"] == "2024-05-02T07:00:02+09:00"
    assert (data["duration"], data["operator"], data["log_path"]) == (3.0, "sh", "+daily+load.log")
    assert data["store_params"] == {"rows": 3}


def test_a_task_without_error_has_none() -> None:
    assert wire.task({**SHAPES["task"], "error": {}}, 12, None).error is None


def test_a_workflow_and_a_schedule_read_like_the_local_ones() -> None:
    workflow = wire.workflow(SHAPES["workflow"]).to_json()
    assert workflow == {"name": "daily", "project": "etl", "timezone": "Asia/Tokyo",
                        "schedule": "daily>: 07:00:00", "source": "daily.dig", "tasks": 4,
                        "revision": "5f1c0a9e2b77"}

    schedule = wire.schedule(SHAPES["schedule"]).to_json()
    assert schedule == {"id": 2, "project": "etl", "workflow": "daily",
                        "schedule": "daily>: 07:00:00", "timezone": "Asia/Tokyo",
                        "next_session_time": "2024-05-02T00:00:00+09:00",
                        "next_run_time": "2024-05-02T07:00:00+09:00", "disabled": False}


def test_an_ended_schedule_has_no_next_times() -> None:
    ended = {**SHAPES["schedule"], "nextRunTime": None, "nextScheduleTime": None}

    view = wire.schedule(ended)

    assert (view.next_session_time, view.next_run_time) == (None, None)
