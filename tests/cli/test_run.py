"""`digpy run` end to end, in process: real sh> subprocesses, real SQLite state under
tmp_path projects. Tasks append their names to a trace file so a test can tell which
operators really ran."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digpy.cli import main
from digpy.secrets.local import LocalSecretStore

REPO = Path(__file__).resolve().parents[2]
CANARY = "dp-canary-run-7c1e2"

ABC = """\
+a:
  sh>: echo a >> trace.txt
+b:
  sh>: echo b >> trace.txt
+c:
  sh>: echo c >> trace.txt
"""


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("DIGPY_CONFIG_HOME", str(home))
    return home


def project(tmp_path: Path, text: str, name: str = "wf", **files: str) -> Path:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / f"{name}.dig").write_text(text, encoding="utf-8")
    for file_name, content in files.items():
        (root / file_name.replace("__", ".")).write_text(content, encoding="utf-8")
    return root


def trace(root: Path) -> list[str]:
    path = root / "trace.txt"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def run(root: Path, *args: str) -> int:
    return main(["run", "wf", "--project", str(root), *args])


# -- success, failure, output -----------------------------------------------------------------


def test_a_successful_run_exits_0_and_prints_the_session_and_attempt_ids(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ABC)

    assert run(root, "--session", "2016-01-30") == 0

    out = capsys.readouterr().out
    assert "  session id: 1\n" in out
    assert "  attempt id: 1\n" in out
    assert "  session time: 2016-01-30T00:00:00+00:00\n" in out
    assert re.search(r"^\+wf\+a: success \(\d+\.\d\ds\)$", out, re.M)
    assert f"Success. Task state is saved at {root / '.digpy' / 'state.db'}" in out
    assert trace(root) == ["a", "b", "c"]


def test_task_output_streams_to_the_console_and_into_the_task_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "+hello:\n  sh>: echo hello from sh\n")

    assert run(root) == 0

    assert "hello from sh\n" in capsys.readouterr().out
    log = root / ".digpy" / "logs" / "1" / "+wf+hello.log"
    assert log.read_text(encoding="utf-8") == "hello from sh\n"


def test_a_failing_task_exits_1_and_the_summary_names_it_with_its_error_and_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "+ok:\n  sh>: 'true'\n+boom:\n  sh>: echo going down; exit 3\n")

    assert run(root) == 1

    out = capsys.readouterr().out
    assert "+wf+boom: error: Command failed with code 3" in out
    summary = out[out.index("Error: 1 task failed in attempt 1:"):]
    assert "  +wf+boom: Command failed with code 3" in summary
    log = root / ".digpy" / "logs" / "1" / "+wf+boom.log"
    assert f"    log: {log}" in summary
    assert "going down" in log.read_text(encoding="utf-8")
    assert "digpy retry 1 --resume-from +wf+boom" in summary
    assert "--rerun" in summary
    assert "Traceback" not in out


def test_the_workflow_name_may_be_omitted_when_the_project_has_only_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, ABC)
    monkeypatch.chdir(root)

    assert main(["run"]) == 0
    assert trace(root) == ["a", "b", "c"]


def test_a_workflow_given_as_a_path_makes_its_folder_the_project(tmp_path: Path) -> None:
    root = project(tmp_path, ABC)

    assert main(["run", str(root / "wf.dig")]) == 0
    assert trace(root) == ["a", "b", "c"]


def test_omitting_the_workflow_in_a_project_with_two_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ABC)
    (root / "other.dig").write_text(ABC, encoding="utf-8")

    assert main(["run", "--project", str(root)]) == 2
    assert "has 2 workflows (other, wf)" in capsys.readouterr().err


# -- state: skip what succeeded, --rerun, --start/--goal/--end, +TASK -------------------------


def test_a_second_run_of_the_session_skips_tasks_that_succeeded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ABC)
    assert run(root) == 0
    capsys.readouterr()

    assert run(root) == 0

    assert trace(root) == ["a", "b", "c"]
    out = capsys.readouterr().out
    assert "+wf+b: skipped (succeeded in a previous run)" in out
    assert "  attempt id: 2\n" in out


def test_rerun_runs_every_task_again(tmp_path: Path) -> None:
    root = project(tmp_path, ABC)
    assert run(root) == 0

    assert run(root, "--rerun") == 0

    assert trace(root) == ["a", "b", "c", "a", "b", "c"]


def test_a_run_after_a_failure_runs_only_what_did_not_succeed(tmp_path: Path) -> None:
    root = project(tmp_path, "+a:\n  sh>: echo a >> trace.txt\n"
                             "+b:\n  sh>: echo b >> trace.txt; test -f fixed\n")
    assert run(root) == 1
    (root / "fixed").write_text("", encoding="utf-8")

    assert run(root) == 0

    assert trace(root) == ["a", "b", "b"]


def test_start_reuses_the_tasks_before_it_and_runs_it_and_the_rest(tmp_path: Path) -> None:
    root = project(tmp_path, ABC)
    assert run(root) == 0

    assert run(root, "--start", "+b") == 0

    assert trace(root) == ["a", "b", "c", "b", "c"]


def test_goal_runs_up_to_the_task_and_skips_what_follows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ABC)

    assert run(root, "--goal", "+b") == 0

    assert trace(root) == ["a", "b"]
    assert "+wf+c: skipped (outside --goal/--end)" in capsys.readouterr().out


def test_end_skips_the_task_and_everything_after_it(tmp_path: Path) -> None:
    root = project(tmp_path, ABC)

    assert run(root, "--end", "+b") == 0

    assert trace(root) == ["a"]


def test_a_plus_task_argument_runs_only_that_subtree(tmp_path: Path) -> None:
    root = project(tmp_path, ABC)

    assert main(["run", "wf", "+b", "--project", str(root)]) == 0

    assert trace(root) == ["b"]


@pytest.mark.parametrize("flags", [("--start", "+a", "--goal", "+b"),
                                   ("--goal", "+a", "--end", "+b"),
                                   ("--rerun", "--start", "+b")])
def test_invalid_combinations_of_selection_options_are_usage_errors(
        tmp_path: Path, flags: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ABC)

    assert run(root, *flags) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert trace(root) == []


def test_an_unknown_task_pattern_is_a_usage_error_with_a_suggestion(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ABC)

    assert run(root, "--start", "+bb") == 2
    assert "Task +bb does not exist" in capsys.readouterr().err


# -- params -----------------------------------------------------------------------------------


def test_p_params_reach_expressions_and_the_environment(tmp_path: Path) -> None:
    root = project(tmp_path, "+show:\n  _env:\n    TARGET: ${target}\n"
                             "  sh>: echo ${target} $TARGET ${db.name} >> trace.txt\n")

    assert run(root, "-p", "target=prod", "-p", "db.name=main") == 0

    assert trace(root) == ["prod", "prod", "main"]


def test_a_params_file_is_applied_before_p_options(tmp_path: Path) -> None:
    root = project(tmp_path, "+show:\n  sh>: echo ${a} ${b.c} >> trace.txt\n",
                   params__yml="a: from-file\nb:\n  c: nested\n")

    assert run(root, "-P", str(root / "params.yml"), "-p", "a=from-p") == 0

    assert trace(root) == ["from-p", "nested"]


def test_an_undefined_variable_fails_the_task_naming_the_expression(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "+show:\n  sh>: echo ${nope}\n")

    assert run(root) == 1

    out = capsys.readouterr().out
    assert "+wf+show: error: Failed to evaluate a variable ${nope}" in out
    assert "Traceback" not in out


def test_a_broken_dig_file_exits_2_with_its_location(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "+a:\n  sh>: x\n  sh>: y\n")

    assert run(root) == 2

    err = capsys.readouterr().err
    assert re.match(r"error: .*wf\.dig:3:\d+: ", err)
    assert "Traceback" not in err


def test_a_missing_params_file_is_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path, ABC)

    assert run(root, "-P", str(root / "missing.yml")) == 2


# -- --session ----------------------------------------------------------------------------------

TOKYO = "timezone: Asia/Tokyo\n+t:\n  sh>: echo ${session_time} >> trace.txt\n"
NOW = "2016-01-30T15:47:12+00:00"  # 2016-01-31 00:47:12 in Tokyo


@pytest.mark.parametrize(("session", "expected"), [
    ("now", "2016-01-31T00:47:12+09:00"),
    ("hourly", "2016-01-31T00:00:00+09:00"),
    ("daily", "2016-01-31T00:00:00+09:00"),
    ("2016-01-02", "2016-01-02T00:00:00+09:00"),
    ("2016-01-02 03:04:05", "2016-01-02T03:04:05+09:00"),
    ("last", "2016-01-31T00:00:00+09:00"),  # nothing stored, no schedule: today 00:00
])
def test_session_forms_resolve_in_the_workflow_time_zone(
        tmp_path: Path, session: str, expected: str) -> None:
    root = project(tmp_path, TOKYO)

    assert run(root, "--session", session, "--now", NOW) == 0

    assert trace(root) == [expected]


def test_session_schedule_is_the_latest_slot_before_now(tmp_path: Path) -> None:
    root = project(tmp_path, "schedule:\n  monthly>: 1,09:00:00\n" + TOKYO)

    assert run(root, "--session", "schedule", "--now", NOW) == 0

    assert trace(root) == ["2016-01-01T00:00:00+09:00"]


def test_session_last_falls_back_to_the_schedule(tmp_path: Path) -> None:
    root = project(tmp_path, "schedule:\n  monthly>: 1,09:00:00\n" + TOKYO)

    assert run(root, "--now", NOW) == 0

    assert trace(root) == ["2016-01-01T00:00:00+09:00"]


def test_session_last_reuses_the_newest_stored_session(tmp_path: Path) -> None:
    root = project(tmp_path, TOKYO)
    assert run(root, "--session", "2016-01-02") == 0

    assert run(root, "--rerun", "--now", NOW) == 0

    assert trace(root) == ["2016-01-02T00:00:00+09:00", "2016-01-02T00:00:00+09:00"]


def test_session_schedule_without_a_schedule_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, TOKYO)

    assert run(root, "--session", "schedule") == 2
    assert "needs a schedule:" in capsys.readouterr().err


def test_an_unreadable_session_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, TOKYO)

    assert run(root, "--session", "yesterday") == 2
    assert "--session 'yesterday' is not a session" in capsys.readouterr().err


# -- dry run, secrets, locking, Ctrl-C ------------------------------------------------------------


def test_dry_run_calls_no_operator_and_saves_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ABC)

    assert run(root, "--dry-run") == 0
    assert trace(root) == []
    assert "Success (dry run)" in capsys.readouterr().out

    assert run(root) == 0  # nothing was recorded as done: everything runs for real
    assert trace(root) == ["a", "b", "c"]


def test_a_secret_reaches_sh_and_is_masked_on_the_console_and_in_the_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    LocalSecretStore.default().set("api.token", CANARY)
    root = project(tmp_path, "+use:\n  sh>: echo token=${secret:api.token}; "
                             "echo ${secret:api.token} > seen.txt\n")

    assert run(root) == 0

    assert (root / "seen.txt").read_text(encoding="utf-8") == CANARY + "\n"
    out = capsys.readouterr()
    assert "token=***" in out.out
    assert CANARY not in out.out + out.err
    log = (root / ".digpy" / "logs" / "1" / "+wf+use.log").read_text(encoding="utf-8")
    assert log == "token=***\n"


def test_a_secret_in_an_error_message_is_masked_in_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    LocalSecretStore.default().set("api.token", CANARY)
    root = project(tmp_path, "+use:\n  _env:\n    T: ${secret:api.token}\n"
                             "  sh>: echo $T; exit 4\n")

    assert run(root) == 1

    out = capsys.readouterr().out
    assert CANARY not in out
    assert "***" in out


def test_a_state_in_use_by_another_run_is_reported_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from digpy.store.sql.local import RunLock, local_state_path

    root = project(tmp_path, ABC)
    assert run(root) == 0
    capsys.readouterr()

    with RunLock(local_state_path(root)):
        assert run(root, "--rerun") == 1

    err = capsys.readouterr().err
    assert err.startswith("error: ") and "in use by another digpy process" in err
    assert err.count("\n") == 1


def test_ctrl_c_kills_the_attempt_prints_a_retry_hint_and_exits_130(tmp_path: Path) -> None:
    root = project(tmp_path, "+first:\n  sh>: echo a >> trace.txt\n"
                             "+slow:\n  sh>: echo started; test -f fast || sleep 30\n")
    child = subprocess.Popen(
        [sys.executable, "-m", "digpy", "run", "wf", "--project", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path)
    assert child.stdout is not None
    for line in child.stdout:  # wait until the slow task's process runs
        if line.strip() == "started":
            break
    began = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)

    assert child.returncode == 130, err
    assert time.monotonic() - began < 10  # the sleep was terminated, not waited for
    assert "Killed: attempt 1 was interrupted (Ctrl-C)" in out
    assert "digpy retry 1 --resume" in out
    assert "Traceback" not in err

    (root / "fast").write_text("", encoding="utf-8")  # the killed attempt can be resumed
    assert main(["retry", "1", "--resume", "--project", str(root)]) == 0
    assert trace(root) == ["a"]


def test_on_a_terminal_the_live_view_shows_the_same_outcome(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, ABC)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("TERM", "xterm")

    assert run(root) == 0

    out = capsys.readouterr().out
    assert "attempt id: 1" in out
    assert "+wf+c: success" in out
    assert "Success. Task state is saved at" in out
    assert trace(root) == ["a", "b", "c"]
