"""Every listing's output shapes: --json keys, --jsonl lines, --tsv header, plain columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_helpers import Cli, write

WORKFLOW = """\
timezone: Asia/Tokyo
schedule:
  daily>: 07:00:00
+hello:
  sh>: echo hello ${session_date}
"""

ATTEMPT_KEYS = {"id", "index", "name", "session_id", "session_uuid", "project", "workflow",
                "session_time", "timezone", "status", "trigger", "who", "revision", "params",
                "created_at", "finished_at", "duration", "cancel_requested", "error"}
SESSION_KEYS = {"id", "uuid", "project", "workflow", "session_time", "status", "last_attempt"}
TASK_KEYS = {"id", "attempt_id", "full_name", "parent_id", "upstream_ids", "is_group",
             "operator", "state", "started_at", "finished_at", "duration", "retry_count",
             "error", "config", "store_params", "export_params", "state_params", "log_path"}
WORKFLOW_KEYS = {"name", "project", "timezone", "schedule", "source", "tasks", "revision"}
SCHEDULE_KEYS = {"id", "project", "workflow", "schedule", "timezone", "next_session_time",
                 "next_run_time", "disabled"}


@pytest.fixture
def ran(project: Path, cli: Cli) -> Path:
    """Two sessions of `daily` (attempts 1 and 2)."""
    write(project, "daily.dig", WORKFLOW)
    assert cli("run", "daily", "--session", "2016-01-30").code == 0
    assert cli("run", "daily", "--session", "2016-01-31").code == 0
    return project


def test_sessions_json_lists_each_session_with_its_last_attempt_newest_first(
        ran: Path, cli: Cli) -> None:
    listed = cli("sessions", "--json").json()

    assert [set(s) for s in listed] == [SESSION_KEYS, SESSION_KEYS]
    assert [s["session_time"] for s in listed] == ["2016-01-31T00:00:00+09:00",
                                                   "2016-01-30T00:00:00+09:00"]
    assert set(listed[0]["last_attempt"]) == ATTEMPT_KEYS
    assert listed[0]["last_attempt"]["status"] == "success"


def test_session_and_attempt_json_show_one_object(ran: Path, cli: Cli) -> None:
    assert set(cli("session", "1", "--json").json()) == SESSION_KEYS
    attempt = cli("attempt", "2", "--json").json()
    assert set(attempt) == ATTEMPT_KEYS
    assert (attempt["id"], attempt["workflow"], attempt["timezone"]) == (2, "daily",
                                                                         "Asia/Tokyo")


def test_attempts_json_lists_attempts_newest_first_and_of_one_session(
        ran: Path, cli: Cli) -> None:
    every = cli("attempts", "--json").json()
    assert [a["id"] for a in every] == [2, 1]
    assert all(set(a) == ATTEMPT_KEYS for a in every)
    assert [a["id"] for a in cli("attempts", "--session", "1", "--json").json()] == [1]


def test_tasks_json_has_state_times_retries_error_and_params(ran: Path, cli: Cli) -> None:
    listed = cli("tasks", "1", "--json").json()

    assert [t["full_name"] for t in listed] == ["+daily", "+daily+hello"]
    assert all(set(t) == TASK_KEYS for t in listed)
    assert listed[1]["state"] == "success"
    assert listed[1]["operator"] == "sh"


def test_workflows_and_schedules_json_come_from_the_dig_files(ran: Path, cli: Cli) -> None:
    workflows = cli("workflows", "--json").json()
    assert [set(w) for w in workflows] == [WORKFLOW_KEYS]
    assert workflows[0]["schedule"] == "daily>: 07:00:00"

    schedules = cli("schedules", "--json", "--now", "2016-02-01T12:00:00+09:00").json()
    assert [set(s) for s in schedules] == [SCHEDULE_KEYS]
    assert schedules[0]["next_session_time"] == "2016-02-02T00:00:00+09:00"
    assert schedules[0]["next_run_time"] == "2016-02-02T07:00:00+09:00"


def test_jsonl_prints_one_object_a_line(ran: Path, cli: Cli) -> None:
    lines = cli("attempts", "--jsonl").out.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("{") for line in lines)


def test_tsv_prints_a_header_and_tab_separated_rows(ran: Path, cli: Cli) -> None:
    rows = [line.split("\t") for line in cli("sessions", "--tsv").out.splitlines()]
    assert rows[0] == ["session", "attempt", "workflow", "session_time", "status", "created",
                       "duration"]
    assert rows[1][:5] == ["2", "2", "daily", "2016-01-31 00:00:00 +09:00", "success"]


def test_plain_output_is_an_aligned_table_with_a_header(ran: Path, cli: Cli) -> None:
    lines = cli("sessions").out.splitlines()
    assert lines[0].split() == ["SESSION", "ATTEMPT", "WORKFLOW", "SESSION", "TIME", "STATUS",
                                "CREATED", "DURATION"]
    assert lines[0].index("STATUS") == lines[1].index("success")


def test_sessions_filter_by_workflow_status_and_since(ran: Path, cli: Cli) -> None:
    assert len(cli("sessions", "daily", "--json").json()) == 2
    assert cli("sessions", "other", "--json").json() == []
    assert cli("sessions", "--status", "error", "--json").json() == []
    since = cli("sessions", "--since", "2016-01-31", "--json").json()
    assert [s["id"] for s in since] == [2]


def test_an_empty_project_lists_nothing_and_creates_no_state(project: Path, cli: Cli) -> None:
    empty = cli("sessions", "--json")
    assert (empty.code, empty.json()) == (0, [])
    plain = cli("attempts")
    assert (plain.code, plain.out, plain.err.strip()) == (0, "", "no attempts")
    assert not (project / ".digpy").exists()
