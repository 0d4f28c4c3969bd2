"""`digpy backfill` on the local state: one attempt per schedule slot, in order."""

from __future__ import annotations

from pathlib import Path

from client_helpers import Cli, trace, write

DAILY = """\
timezone: UTC
schedule:
  daily>: 02:00:00
+day:
  sh>: echo ${session_date} >> trace.txt
"""


def test_backfill_of_three_days_runs_three_sessions_in_order_with_the_attempt_name(
        project: Path, cli: Cli) -> None:
    write(project, "daily.dig", DAILY)

    done = cli("backfill", "daily", "--from", "2016-01-01", "--count", "3", "--name", "jan")

    assert done.code == 0, done.err
    assert trace(project) == ["2016-01-01", "2016-01-02", "2016-01-03"]
    attempts = cli("attempts", "--json").json()
    assert [(a["session_time"], a["name"], a["trigger"]) for a in reversed(attempts)] == [
        ("2016-01-01T00:00:00+00:00", "jan", "backfill"),
        ("2016-01-02T00:00:00+00:00", "jan", "backfill"),
        ("2016-01-03T00:00:00+00:00", "jan", "backfill")]
    assert "Success: 3 session(s) backfilled." in done.out


def test_backfill_to_stops_before_the_to_time(project: Path, cli: Cli) -> None:
    write(project, "daily.dig", DAILY)

    assert cli("backfill", "daily", "--from", "2016-01-01", "--to", "2016-01-03").code == 0

    assert trace(project) == ["2016-01-01", "2016-01-02"]


def test_backfill_dry_run_prints_the_session_times_and_runs_nothing(
        project: Path, cli: Cli) -> None:
    write(project, "daily.dig", DAILY)

    dry = cli("backfill", "daily", "--from", "2016-01-01 12:00:00", "--count", "2",
              "--dry-run")

    assert dry.code == 0
    assert "2016-01-02 00:00:00 +00:00\n  2016-01-03 00:00:00 +00:00\n" in dry.out
    assert trace(project) == []
    assert cli("sessions", "--json").json() == []


def test_backfill_with_a_name_already_used_starts_nothing(project: Path, cli: Cli) -> None:
    write(project, "daily.dig", DAILY)
    cli("backfill", "daily", "--from", "2016-01-02", "--count", "1", "--name", "jan")

    again = cli("backfill", "daily", "--from", "2016-01-01", "--count", "2", "--name", "jan")

    assert again.code == 2
    assert "already has an attempt named jan" in again.err
    assert trace(project) == ["2016-01-02"]


def test_a_failed_slot_stops_the_backfill_and_names_the_rest(project: Path, cli: Cli) -> None:
    failing = ">> trace.txt; test ${session_date} != 2016-01-02"
    write(project, "daily.dig", DAILY.replace(">> trace.txt", failing))

    failed = cli("backfill", "daily", "--from", "2016-01-01", "--count", "3")

    assert failed.code == 1
    assert trace(project) == ["2016-01-01", "2016-01-02"]
    assert "+daily+day: Command failed with code 1" in failed.out
    assert "1 later session(s) not started: 2016-01-03 00:00:00 +00:00" in failed.out


def test_backfill_of_a_workflow_without_schedule_is_a_clear_error(
        project: Path, cli: Cli) -> None:
    write(project, "once.dig", "+a:\n  echo>: hi\n")

    refused = cli("backfill", "once", "--from", "2016-01-01")

    assert refused.code == 2
    assert "has no schedule: to backfill" in refused.err


def test_backfill_needs_to_or_count_not_both(project: Path, cli: Cli) -> None:
    write(project, "daily.dig", DAILY)
    both = cli("backfill", "daily", "--from", "2016-01-01", "--to", "2016-01-05",
               "--count", "2")
    assert both.code == 2
