"""Schedules through the API (list, disable/enable, skip, backfill via scheduler.control)
and ``/metrics`` in the Prometheus text format on a live daemon."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from api_helpers import write_project
from live_server import LiveServer, live_server, wait_for

DAILY = {"daily.dig": "timezone: UTC\nschedule:\n  daily>: 07:00:00\n+a:\n  echo>: hi\n"}
SCHEDULE_KEYS = {"id", "project", "workflow", "nextRunTime", "nextScheduleTime", "disabledAt",
                 "schedule", "timezone", "lastSessionTime"}


def daily_schedule(server: LiveServer, tmp_path: Path, name: str) -> dict:
    project = server.push(name, write_project(tmp_path / name, DAILY))
    schedules = server.get(f"/api/projects/{project['id']}/schedules")["schedules"]
    assert len(schedules) == 1
    return schedules[0]


def test_a_pushed_schedule_is_listed_with_its_next_times(
        server: LiveServer, tmp_path: Path) -> None:
    schedule = daily_schedule(server, tmp_path, "listed-schedule")
    assert set(schedule) == SCHEDULE_KEYS
    assert (schedule["workflow"]["name"], schedule["schedule"], schedule["disabledAt"]) == (
        "daily", "daily>: 07:00:00", None)
    assert schedule["nextScheduleTime"].endswith("T00:00:00+00:00")
    assert schedule["nextRunTime"].endswith("T07:00:00Z")
    assert schedule in server.get("/api/schedules")["schedules"]
    assert server.get(f"/api/schedules/{schedule['id']}") == schedule


def test_disable_and_enable_flip_disabled_at(server: LiveServer, tmp_path: Path) -> None:
    schedule = daily_schedule(server, tmp_path, "toggled")
    off = server.request("POST", f"/api/schedules/{schedule['id']}/disable")
    assert off.status == 200 and off.json()["disabledAt"] is not None
    on = server.request("POST", f"/api/schedules/{schedule['id']}/enable", {})
    assert on.status == 200 and on.json()["disabledAt"] is None
    assert server.request("POST", "/api/schedules/999/disable").status == 404


def test_skip_moves_the_next_slot_and_a_dry_run_only_tells(
        server: LiveServer, tmp_path: Path) -> None:
    schedule = daily_schedule(server, tmp_path, "skipped")
    path = f"/api/schedules/{schedule['id']}/skip"
    next_day = (datetime.fromisoformat(schedule["nextScheduleTime"]) + timedelta(days=1))
    dry = server.request("POST", path, {"count": 1, "dryRun": True}).json()
    assert dry["nextScheduleTime"] == next_day.isoformat()
    assert server.get(f"/api/schedules/{schedule['id']}") == schedule
    moved = server.request("POST", path, {"count": 1}).json()
    assert moved["nextScheduleTime"] == next_day.isoformat()
    assert server.get(f"/api/schedules/{schedule['id']}")["nextScheduleTime"] == \
        next_day.isoformat()
    assert server.request("POST", path, {}).status == 400  # neither count nor nextTime


def test_a_backfill_runs_each_past_slot_in_order(server: LiveServer, tmp_path: Path) -> None:
    schedule = daily_schedule(server, tmp_path, "backfilled")
    first = datetime.fromisoformat(schedule["nextScheduleTime"]) - timedelta(days=3)
    answer = server.request("POST", f"/api/schedules/{schedule['id']}/backfill", {
        "fromTime": first.isoformat(), "attemptName": "bf", "count": 3})
    assert answer.status == 200, answer.body
    plan = answer.json()
    assert plan["sessionTimes"] == [(first + timedelta(days=d)).isoformat() for d in range(3)]
    assert [a["retryAttemptName"] for a in plan["attempts"]] == ["bf"]

    def all_done() -> bool:
        found = server.get("/api/attempts", project="backfilled")["attempts"]
        return len(found) == 3 and all(a["done"] for a in found)

    wait_for(all_done, 90, "three backfilled attempts")
    found = server.get("/api/attempts", project="backfilled")["attempts"]
    assert sorted(a["sessionTime"] for a in found) == plan["sessionTimes"]
    assert {(a["trigger"], a["retryAttemptName"], a["status"]) for a in found} == {
        ("backfill", "bf", "success")}


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} missing from:\n{text}"
    return float(found.group(1))


def test_metrics_report_attempts_ready_tasks_durations_and_schedule_lateness(
        tmp_path: Path) -> None:
    started = tmp_path / "started"
    project = write_project(tmp_path / "metered", {
        "tick.dig": "timezone: UTC\nschedule:\n  seconds_interval>: 1\n+a:\n  echo>: tick\n",
        "wide.dig": f"_parallel: true\n+one:\n  sh>: touch {started}; sleep 3\n"
                    f"+two:\n  sh>: touch {started}; sleep 3\n"})
    with live_server(tmp_path / "data", "--max-task-threads", "1") as server:
        pushed = server.push("metered", project)
        server.start(pushed["id"], "wide", "2024-05-01T00:00:00+00:00")
        wait_for(started.exists, 60, "a wide task to start")
        busy = server.request("GET", "/metrics")
        assert busy.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert metric(busy.text, "digpy_tasks_ready") >= 1  # one thread: the other waits

        def fired() -> bool:
            text = server.request("GET", "/metrics").text
            return metric(text, "digpy_schedule_lateness_seconds_count") >= 2 and \
                metric(text, 'digpy_attempts{status="success"}') >= 2

        wait_for(fired, 60, "scheduled attempts to succeed")
        text = server.request("GET", "/metrics").text
    assert metric(text, "digpy_up") == 1
    assert 'digpy_info{version="' in text and 'database="sqlite"} 1' in text
    assert metric(text, 'digpy_attempts{status="error"}') == 0
    assert metric(text, "digpy_task_duration_seconds_count") >= 2
    assert metric(text, 'digpy_task_duration_seconds_bucket{le="+Inf"}') == \
        metric(text, "digpy_task_duration_seconds_count")
    assert "# TYPE digpy_schedule_lateness_seconds histogram" in text


def test_truncated_session_time_follows_the_mode(server: LiveServer, tmp_path: Path) -> None:
    schedule = daily_schedule(server, tmp_path, "truncated")
    path = f"/api/workflows/{schedule['workflow']['id']}/truncated_session_time"
    when = "2024-05-01T13:45:10+00:00"
    expected = {"hour": "2024-05-01T13:00:00+00:00", "day": "2024-05-01T00:00:00+00:00",
                "schedule": "2024-05-01T00:00:00+00:00",
                "next_schedule": "2024-05-02T00:00:00+00:00"}
    for mode, truncated in expected.items():
        answer = server.get(path, session_time=when, mode=mode)
        assert (answer["sessionTime"], answer["timeZone"]) == (truncated, "UTC"), mode
    assert server.request("GET", path, query={"session_time": when, "mode": "week"}).status == 400
    assert server.request("GET", path, query={"session_time": "noon"}).status == 400
