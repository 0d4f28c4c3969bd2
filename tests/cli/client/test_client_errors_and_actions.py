"""Bad input gives one line and a stable exit code; `start` and `delete` on the local state;
the commands that need a server say so; every client command has examples in --help."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from client_helpers import Cli, trace, write

from digpy.cli import main

HELLO = """\
timezone: Asia/Tokyo
+hello:
  sh>: echo ${session_date} ${target} >> trace.txt
"""

CLIENT_COMMANDS = ["workflows", "schedules", "sessions", "session", "attempts", "attempt",
                   "tasks", "log", "kill", "start", "backfill", "delete", "timeline", "report",
                   "retry", "reschedule", "enable", "disable", "download", "secrets"]


@pytest.mark.parametrize("args", [["attempt", "42"], ["tasks", "42"], ["log", "42"],
                                  ["timeline", "42"], ["report", "42"], ["kill", "42"],
                                  ["session", "42"], ["attempts", "--session", "42"]])
def test_an_unknown_id_is_one_line_and_exit_2(project: Path, cli: Cli, args: list[str]) -> None:
    write(project, "hello.dig", HELLO)
    cli("run", "hello")

    refused = cli(*args)

    assert refused.code == 2
    assert refused.err.count("\n") == 1 and "42 does not exist in" in refused.err


@pytest.mark.parametrize("args", [["sessions", "--since", "yesterday-ish"],
                                  ["backfill", "hello", "--from", "2016-13-45"],
                                  ["start", "hello", "--session", "someday"]])
def test_a_bad_time_is_one_line_and_exit_2(project: Path, cli: Cli, args: list[str]) -> None:
    write(project, "hello.dig", HELLO)

    refused = cli(*args)

    assert refused.code == 2
    assert refused.err.startswith("error: ") and refused.err.count("\n") == 1


def test_an_endpoint_with_no_server_is_one_line_and_exit_1(project: Path, cli: Cli) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    refused = cli("sessions", "-e", f"http://127.0.0.1:{port}")

    assert refused.code == 1
    assert refused.err.startswith(f"error: cannot reach a digpy server at http://127.0.0.1:{port}")
    assert refused.err.count("\n") == 1


@pytest.mark.parametrize("command", ["reschedule", "enable", "disable", "download"])
def test_server_only_commands_without_a_server_say_so_and_exit_2(
        command: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGPY_ENDPOINT", raising=False)

    assert main([command, "7"]) == 2

    err = capsys.readouterr().err
    assert f"digpy {command} needs a digpy server (-e URL" in err and err.count("\n") == 1


def test_start_runs_a_new_session_and_refuses_an_existing_one_with_a_retry_hint(
        project: Path, cli: Cli) -> None:
    write(project, "hello.dig", HELLO)

    started = cli("start", "hello", "--session", "2016-01-30", "-p", "target=prod")
    assert started.code == 0, started.err
    assert "  attempt id: 1\n" in started.out
    assert trace(project) == ["2016-01-30", "prod"]
    assert cli("attempt", "1", "--json").json()["trigger"] == "api"

    again = cli("start", "hello", "--session", "2016-01-30")
    assert again.code == 2
    assert "already exists (session id 1, attempt id 1, success)" in again.err
    assert "digpy retry 1 --all" in again.err
    assert trace(project) == ["2016-01-30", "prod"]


def test_delete_needs_force_or_a_yes_and_removes_state_and_logs(
        project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project, "hello.dig", "+a:\n  sh>: echo hi\n")
    cli("run", "hello")
    assert (project / ".digpy" / "logs").is_dir()

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    declined = cli("delete")
    assert declined.code == 130
    assert (project / ".digpy" / "state.db").exists()

    assert cli("delete", "--force").code == 0
    assert not (project / ".digpy" / "state.db").exists()
    assert not (project / ".digpy" / "logs").exists()
    assert (project / "hello.dig").exists()
    assert cli("sessions", "--json").json() == []


@pytest.mark.parametrize("command", CLIENT_COMMANDS)
def test_every_client_command_has_help_with_examples(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples:" in out and f"digpy {command}" in out
    assert "Exit codes:" in out


def test_shell_completion_offers_client_commands_and_status_choices() -> None:
    from click.shell_completion import BashComplete

    from digpy.cli import cli

    complete = BashComplete(cli, {}, "digpy", "_DIGPY_COMPLETE")

    assert {"session", "sessions"} <= {c.value for c in complete.get_completions([], "sess")}
    assert {"reschedule"} == {c.value for c in complete.get_completions([], "resch")}
    assert "--skip-missed" in {c.value for c in complete.get_completions(["enable"], "--sk")}
    statuses = {c.value for c in complete.get_completions(["sessions", "--status"], "")}
    assert statuses == {"success", "error", "killed", "running"}
