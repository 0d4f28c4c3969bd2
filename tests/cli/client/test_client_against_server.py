"""The client commands against a live ``digpy server`` on 127.0.0.1 (``-e URL``): the
debugging loop, backfill, kill, schedules, secrets, download and delete, with the same
output as on the local state, and one-line errors for bad input."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from client_helpers import Outcome, write

from digpy.cli import main
from tests.live_server import LiveServer, start_live_server, wait_for

pytestmark = pytest.mark.slow

Remote = Callable[..., Outcome]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("daemon"))
    yield live
    live.stop()


def push(server: LiveServer, directory: Path, project: str, revision: str) -> None:
    server.push(project, directory, revision=revision)


def running(server: LiveServer, attempt_id: int) -> bool:
    tasks = server.get(f"/api/attempts/{attempt_id}/tasks")["tasks"]
    return any(t["state"] == "running" for t in tasks)


@pytest.fixture
def remote(server: LiveServer, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> Remote:
    """``remote("sessions", "--json")`` runs ``digpy sessions --json -e <server>``."""
    monkeypatch.delenv("DIGPY_API_TOKEN", raising=False)

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        code = main([*args, "-e", server.url])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def started_attempt(out: str) -> int:
    found = re.search(r"^  attempt id: (\d+)$", out, re.MULTILINE)
    assert found, out
    return int(found.group(1))


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def etl(trace: Path, load: str) -> str:
    return (f"+extract:\n  sh>: echo extract >> {trace}; echo extracted 3 rows\n"
            f"+load:\n  sh>: '{load}'\n"
            f"+report:\n  sh>: echo report >> {trace}\n")


def test_the_debugging_loop_on_a_server_resumes_from_the_fixed_task(
        server: LiveServer, remote: Remote, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    project = tmp_path / "etl"
    project.mkdir()
    write(project, "etl.dig", etl(trace, f'echo load >> {trace}; echo "loading failed: '
                                         'table locked"; exit 1'))
    push(server, project, "loop", "v1")

    started = remote("start", "loop", "etl", "--session", "2016-01-30")
    assert started.code == 0, started.err
    first = started_attempt(started.out)
    assert server.wait_done(str(first))["status"] == "error"

    failed = remote("sessions", "loop", "--status", "error", "--json").json()
    assert [(s["workflow"], s["last_attempt"]["id"]) for s in failed] == [("etl", first)]
    log = remote("log", str(first), "+load")
    assert log.code == 0 and "loading failed: table locked" in log.out
    assert "extracted" not in log.out

    write(project, "etl.dig", etl(trace, f"echo load >> {trace}"))
    push(server, project, "loop", "v2")
    retried = remote("retry", str(first), "--resume-from", "+load")
    assert retried.code == 0, retried.err
    second = started_attempt(retried.out)

    assert server.wait_done(str(second))["status"] == "success"
    assert lines(trace) == ["extract", "load", "load", "report"]
    attempts = remote("attempts", "--session", str(failed[0]["id"]), "--json").json()
    assert [(a["index"], a["status"], a["trigger"], a["revision"]) for a in attempts] == [
        (2, "success", "retry", "v2"), (1, "error", "api", "v1")]


def test_backfill_of_three_days_creates_three_sessions_that_run_in_order(
        server: LiveServer, remote: Remote, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    project = tmp_path / "daily"
    project.mkdir()
    write(project, "daily.dig", "timezone: Asia/Tokyo\nschedule:\n  daily>: 07:00:00\n"
          f"+day:\n  sh>: echo ${{session_date}} >> {trace}\n")
    push(server, project, "bf", "v1")

    filled = remote("backfill", "bf", "daily", "--from", "2016-01-01", "--count", "3",
                    "--name", "january")
    assert filled.code == 0, filled.err
    assert [line.split()[0] for line in filled.out.splitlines()[1:4]] == [
        "2016-01-01", "2016-01-02", "2016-01-03"]

    def all_done() -> bool:
        found = remote("sessions", "bf", "daily", "--json").json()
        return len(found) == 3 and all(s["status"] != "running" for s in found)

    wait_for(all_done, 120, "three backfilled sessions to finish")
    assert lines(trace) == ["2016-01-01", "2016-01-02", "2016-01-03"]
    sessions = remote("sessions", "bf", "daily", "--json").json()
    assert [(s["session_time"], s["status"], s["last_attempt"]["trigger"])
            for s in sessions] == [
        ("2016-01-03T00:00:00+09:00", "success", "backfill"),
        ("2016-01-02T00:00:00+09:00", "success", "backfill"),
        ("2016-01-01T00:00:00+09:00", "success", "backfill")]

    again = remote("backfill", "bf", "daily", "--from", "2016-01-01", "--count", "3",
                   "--name", "january")
    assert again.code == 2 and again.err.count("\n") == 1


def test_kill_stops_a_running_attempt_and_a_second_kill_exits_1(
        server: LiveServer, remote: Remote, tmp_path: Path) -> None:
    project = tmp_path / "slow"
    project.mkdir()
    write(project, "slow.dig", "+sleep:\n  sh>: sleep 120\n+after:\n  sh>: echo never\n")
    push(server, project, "slow", "v1")
    attempt_id = started_attempt(remote("start", "slow", "slow", "--session", "now").out)
    wait_for(lambda: running(server, attempt_id), 60, "+sleep to run")

    killed = remote("kill", str(attempt_id))

    assert killed.code == 0 and f"Kill requested for attempt {attempt_id}" in killed.out
    assert server.wait_done(str(attempt_id))["status"] == "killed"
    again = remote("kill", str(attempt_id))
    assert again.code == 1 and "nothing to kill" in again.err


def keys(value: object) -> object:
    """The shape of a JSON value: object keys (recursively), not the values."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items() if k not in ("params",)}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


SAME = """\
timezone: Asia/Tokyo
schedule:
  daily>: 07:00:00
+first:
  sh>: echo one
+second:
  echo>: two
"""


def test_json_output_has_the_same_shape_locally_and_on_a_server(
        server: LiveServer, remote: Remote, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "same"
    project.mkdir()
    write(project, "same.dig", SAME)
    push(server, project, "same", "v1")
    on_server = started_attempt(remote("start", "same", "same", "--session",
                                       "2016-01-30").out)
    server.wait_done(str(on_server))
    assert main(["run", "same", "--session", "2016-01-30", "--project", str(project)]) == 0

    session_id = server.get(f"/api/attempts/{on_server}")["sessionId"]

    def local(*args: str) -> Outcome:
        capsys.readouterr()
        code = main([*args, "--project", str(project)])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    for args in (["workflows", "--json"], ["schedules", "--json"], ["sessions", "--json"],
                 ["attempts", "--json"], ["tasks", "{id}", "--json"],
                 ["attempt", "{id}", "--json"], ["session", "{session}", "--json"],
                 ["report", "{id}", "--format", "json"]):
        here = local(*[a.format(id=1, session=1) for a in args])
        there = remote(*[a.format(id=on_server, session=session_id) for a in args])
        assert here.code == there.code == 0, (args, here.err, there.err)
        assert keys(here.json()) == keys(there.json()), args

    local_log = local("log", "1").out
    server_log = remote("log", str(on_server)).out
    assert local_log.splitlines()[0] == server_log.splitlines()[0] == (
        "==> +same+first (success) <==")
    assert "one" in server_log


@pytest.mark.parametrize("args", [["attempt", "424242"], ["tasks", "424242"],
                                  ["log", "424242"], ["kill", "424242"],
                                  ["timeline", "424242"], ["report", "424242"],
                                  ["retry", "424242", "--all"], ["session", "424242"]])
def test_an_unknown_id_on_a_server_is_one_line_and_exit_2(
        remote: Remote, args: list[str]) -> None:
    refused = remote(*args)

    assert refused.code == 2
    assert refused.err.startswith("error: ") and refused.err.count("\n") == 1
    assert "424242 does not exist on http://127.0.0.1:" in refused.err


@pytest.mark.parametrize("args", [["sessions", "--since", "yesterday-ish"],
                                  ["start", "same", "same", "--session", "someday"],
                                  ["backfill", "bf", "daily", "--from", "2016-13-45"],
                                  ["start", "no-such-project", "x", "--session", "now"]])
def test_bad_input_on_a_server_is_one_line_and_exit_2(
        server: LiveServer, remote: Remote, tmp_path: Path, args: list[str]) -> None:
    for name, text in (("same", SAME), ("bf", SAME.replace("same", "daily"))):
        folder = tmp_path / name
        folder.mkdir()
        write(folder, f"{'daily' if name == 'bf' else name}.dig", text)
        push(server, folder, name, "bad-input")

    refused = remote(*args)

    assert refused.code == 2, refused.err
    assert refused.err.startswith("error: ") and refused.err.count("\n") == 1


def test_schedules_can_be_disabled_enabled_and_moved(
        server: LiveServer, remote: Remote, tmp_path: Path) -> None:
    project = tmp_path / "sched"
    project.mkdir()
    write(project, "nightly.dig", "timezone: UTC\nschedule:\n  daily>: 02:00:00\n"
          "+n:\n  echo>: hi\n")
    push(server, project, "sched", "v1")
    listed = remote("schedules", "sched", "--json").json()
    assert [(s["workflow"], s["disabled"]) for s in listed] == [("nightly", False)]
    schedule_id = str(listed[0]["id"])

    assert remote("disable", "sched", "nightly").code == 0
    assert remote("schedules", "sched", "--json").json()[0]["disabled"] is True
    assert remote("enable", schedule_id).code == 0
    assert remote("schedules", "sched", "--json").json()[0]["disabled"] is False

    before = listed[0]["next_session_time"]
    moved = remote("reschedule", schedule_id, "--skip", "1")
    assert moved.code == 0, moved.err
    after = remote("schedules", "sched", "--json").json()[0]["next_session_time"]
    assert after > before


def test_secrets_on_a_server_are_set_listed_and_deleted_without_printing_values(
        server: LiveServer, remote: Remote, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "sec"
    project.mkdir()
    write(project, "s.dig", "+a:\n  echo>: hi\n")
    push(server, project, "sec", "v1")
    canary = "dp-canary-client-7c1d"

    set_inline = remote("secrets", "--project", "sec", "--set", f"pg.password={canary}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(canary + "\n"))
    set_stdin = remote("secrets", "--project", "sec", "--set", "td.apikey")
    listed = remote("secrets", "--project", "sec", "--list", "--json")
    deleted = remote("secrets", "--project", "sec", "--delete", "pg.password")
    missing = remote("secrets", "--project", "sec", "--delete", "pg.password")

    assert (set_inline.code, set_stdin.code, listed.code, deleted.code, missing.code) == (
        0, 0, 0, 0, 1)
    assert listed.json() == ["pg.password", "td.apikey"]
    assert remote("secrets", "--project", "sec").out.split() == ["td.apikey"]
    everything = "".join(o.out + o.err for o in (set_inline, set_stdin, listed, deleted))
    assert canary not in everything


def test_a_pushed_project_is_downloaded_then_deleted(
        server: LiveServer, remote: Remote, tmp_path: Path) -> None:
    project = tmp_path / "dl"
    project.mkdir()
    write(project, "dl.dig", "+a:\n  sh>: scripts/run.sh\n")
    (project / "scripts").mkdir()
    write(project / "scripts", "run.sh", "echo hi\n")
    push(server, project, "dl", "r1")
    target = tmp_path / "copy"

    fetched = remote("download", "dl", "-o", str(target))

    assert fetched.code == 0, fetched.err
    assert (target / "dl.dig").read_text() == "+a:\n  sh>: scripts/run.sh\n"
    assert (target / "scripts" / "run.sh").read_text() == "echo hi\n"
    assert remote("download", "dl", "-o", str(target)).code == 2  # files in the way

    assert remote("delete", "dl", "--force").code == 0
    gone = remote("workflows", "dl")
    assert gone.code == 2 and "project 'dl' does not exist" in gone.err


def test_a_server_with_a_token_refuses_a_client_without_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    live = start_live_server(tmp_path / "daemon", token="s3cret-token")
    try:
        monkeypatch.delenv("DIGPY_API_TOKEN", raising=False)
        assert main(["sessions", "-e", live.url]) == 2
        err = capsys.readouterr().err
        assert "token missing or wrong" in err and err.count("\n") == 1

        monkeypatch.setenv("DIGPY_API_TOKEN", "s3cret-token")
        assert main(["sessions", "-e", live.url, "--json"]) == 0
        assert capsys.readouterr().out.strip() == "[]"

        monkeypatch.delenv("DIGPY_API_TOKEN")
        monkeypatch.delenv("DIGPY_ENDPOINT", raising=False)
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "client.toml").write_text(
            f'endpoint = "{live.url}"\ntoken = "s3cret-token"\n')
        assert main(["sessions", "--json"]) == 0
        assert capsys.readouterr().out.strip() == "[]"
    finally:
        live.stop()


def test_a_draining_server_is_one_line_with_its_message_and_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import signal

    live = start_live_server(tmp_path / "daemon")
    try:
        project = tmp_path / "busy"
        project.mkdir()
        write(project, "busy.dig", "+sleep:\n  sh>: sleep 120\n")
        push(live, project, "busy", "v1")
        assert main(["start", "busy", "busy", "--session", "now", "-e", live.url]) == 0
        attempt_id = started_attempt(capsys.readouterr().out)
        wait_for(lambda: running(live, attempt_id), 60, "+sleep to run")
        live.proc.send_signal(signal.SIGTERM)  # drains: the sleeping task keeps it up
        wait_for(lambda: main(["sessions", "-e", live.url]) == 1, 30, "503 answers")

        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith(f"error: the server at {live.url} failed")
        assert "digpy server is stopping" in err
    finally:
        live.stop(signal.SIGKILL)
