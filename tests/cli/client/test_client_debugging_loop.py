"""The debugging loop users know from `tdx wf` / `digdag`: a run fails, `sessions --status
error` finds it, `log` shows the failing output, the script is fixed and `retry
--resume-from` finishes the session without re-running what succeeded before."""

from __future__ import annotations

from pathlib import Path

from client_helpers import Cli, trace, write

# +load fails until a file named "fixed" exists: the user's fix.
FLAKY = """\
+extract:
  sh>: echo extract >> trace.txt; echo extracted 3 rows
+load:
  sh>: 'echo load >> trace.txt; echo "loading failed: table locked"; test -f fixed'
+report:
  sh>: echo report >> trace.txt
"""


def test_a_failed_run_is_found_read_fixed_and_resumed_from_the_failed_task(
        project: Path, cli: Cli) -> None:
    write(project, "etl.dig", FLAKY)
    assert cli("run", "etl", "--session", "2016-01-30").code == 1

    failed = cli("sessions", "--status", "error", "--json").json()
    assert [(s["workflow"], s["status"]) for s in failed] == [("etl", "error")]
    attempt_id = failed[0]["last_attempt"]["id"]
    assert cli("sessions", "--status", "success", "--json").json() == []

    log = cli("log", str(attempt_id), "+load")
    assert log.code == 0
    assert "loading failed: table locked" in log.out
    assert "extracted" not in log.out

    write(project, "fixed", "")
    assert cli("retry", str(attempt_id), "--resume-from", "+load").code == 0

    assert trace(project) == ["extract", "load", "load", "report"]
    sessions = cli("sessions", "--json").json()
    assert [s["status"] for s in sessions] == ["success"]
    attempts = cli("attempts", "--json").json()
    assert [(a["index"], a["status"], a["trigger"]) for a in attempts] == [
        (2, "success", "retry"), (1, "error", "run")]


def test_tasks_lists_the_failed_task_with_its_error(project: Path, cli: Cli) -> None:
    write(project, "etl.dig", FLAKY)
    cli("run", "etl", "--session", "2016-01-30")

    listed = cli("tasks", "1")

    assert listed.code == 0
    row = next(line for line in listed.out.splitlines() if "+etl+load" in line)
    assert "error" in row and "Command failed with code 1" in row


def test_log_without_a_task_prints_every_log_under_a_header(project: Path, cli: Cli) -> None:
    write(project, "etl.dig", FLAKY)
    cli("run", "etl", "--session", "2016-01-30")

    out = cli("log", "1").out

    assert "==> +etl+extract (success) <==" in out
    assert "==> +etl+load (error) <==" in out
    assert out.index("+etl+extract") < out.index("+etl+load")


def test_log_follow_on_a_finished_attempt_prints_the_logs_and_returns(
        project: Path, cli: Cli) -> None:
    write(project, "etl.dig", FLAKY)
    cli("run", "etl", "--session", "2016-01-30")

    followed = cli("log", "1", "+load", "-f")

    assert followed.code == 0
    assert followed.out.count("loading failed: table locked") == 1
